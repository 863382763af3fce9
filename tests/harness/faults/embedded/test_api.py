"""Toxiproxy 2.12.0's api_test.go cases, and its error contract, against the embedded server.

Every case speaks plain HTTP (httpx), so what is asserted is what any Toxiproxy client sees:
status codes, exact bodies, and whether the proxy's port really accepts connections.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from harness.faults.embedded import EmbeddedToxiproxy
from harness.ports import free_port

WAIT_S = 3.0


# -- helpers ---------------------------------------------------------------------------------
def go_error(message: str, status: int) -> bytes:
    """The body Go's http.Error writes for an ApiError: compact JSON plus a newline.

    Go's json.Marshal writes non-ASCII as raw UTF-8 but escapes <, > and & for HTML.
    """
    text = json.dumps({"error": message, "status": status}, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text.encode() + b"\n"


def assert_api_error(resp: httpx.Response, status: int, message: str) -> None:
    assert resp.status_code == status, resp.text
    assert resp.content == go_error(message, status)
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert resp.headers.get("X-Content-Type-Options") == "nosniff"


def assert_still_serving(http: httpx.Client) -> None:
    """After a refused request the server must keep answering, and stay usable."""
    assert http.get("/version").status_code == 200
    resp = http.get("/proxies")
    assert resp.status_code == 200
    assert isinstance(resp.json(), dict)


def host_port(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return (host.strip("[]") or "127.0.0.1"), int(port)


def accepts(listen: str) -> bool:
    """True when a TCP connect to `listen` succeeds (what Go's AssertProxyUp checks)."""
    try:
        with socket.create_connection(host_port(listen), timeout=1.0):
            return True
    except OSError:
        return False


def wait_for(predicate: Callable[[], bool], timeout: float = WAIT_S) -> bool:
    """Poll `predicate` until it holds or `timeout` passes; a listener closes asynchronously."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


def assert_up(listen: str, up: bool) -> None:
    assert wait_for(lambda: accepts(listen) == up), f"{listen} expected {'up' if up else 'down'}"


def create(http: httpx.Client, name: str, listen: str, upstream: str, **extra: Any) -> dict[str, Any]:
    resp = http.post("/proxies", json={"name": name, "listen": listen, "upstream": upstream, **extra})
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


def add_toxic(http: httpx.Client, proxy: str, **body: Any) -> dict[str, Any]:
    resp = http.post(f"/proxies/{proxy}/toxics", json=body)
    assert resp.status_code == 200, resp.text
    toxic: dict[str, Any] = resp.json()
    return toxic


def toxics_of(http: httpx.Client, proxy: str) -> list[dict[str, Any]]:
    resp = http.get(f"/proxies/{proxy}/toxics")
    assert resp.status_code == 200, resp.text
    toxics: list[dict[str, Any]] = resp.json()
    return toxics


@pytest.fixture
def upstream() -> str:
    """An upstream address nothing listens on: upstream is never dialled by the API."""
    return f"localhost:{free_port()}"


# -- request handling --------------------------------------------------------------------------
def test_request_id(http: httpx.Client) -> None:
    first = http.get("/proxies")
    second = http.get("/proxies")
    assert first.headers.get("X-Toxiproxy-Request-Id")
    assert second.headers.get("X-Toxiproxy-Request-Id")
    assert first.headers["X-Toxiproxy-Request-Id"] != second.headers["X-Toxiproxy-Request-Id"]


def test_request_id_on_api_errors(http: httpx.Client) -> None:
    resp = http.get("/proxies/missing")
    assert resp.status_code == 404
    assert resp.headers.get("X-Toxiproxy-Request-Id")


def test_browser_gets_403(http: httpx.Client) -> None:
    ua = "Mozilla/5.0 (Linux x86_64; rv:10.0) Gecko/20100101 Firefox/10.0"
    resp = http.get("/proxies", headers={"User-Agent": ua})
    assert resp.status_code == 403
    assert resp.content == b"User agent not allowed\n"
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers.get("X-Toxiproxy-Request-Id")
    assert_still_serving(http)


def test_non_browser_gets_200(http: httpx.Client) -> None:
    resp = http.get("/proxies", headers={"User-Agent": "Wget/2.1"})
    assert resp.status_code == 200
    assert resp.json() == {}


# -- create / list ---------------------------------------------------------------------------
def test_index_with_no_proxies(http: httpx.Client) -> None:
    resp = http.get("/proxies")
    assert resp.status_code == 200
    assert resp.json() == {}


def test_create_proxy_blank_name(http: httpx.Client, upstream: str) -> None:
    resp = http.post("/proxies", json={"listen": "localhost:0", "upstream": upstream})
    assert_api_error(resp, 400, "missing required field: name")
    assert http.get("/proxies").json() == {}


def test_create_proxy_blank_upstream(http: httpx.Client) -> None:
    resp = http.post("/proxies", json={"name": "test", "listen": "localhost:0"})
    assert_api_error(resp, 400, "missing required field: upstream")
    assert http.get("/proxies").json() == {}


def test_create_proxy_name_checked_before_upstream(http: httpx.Client) -> None:
    resp = http.post("/proxies", json={})
    assert_api_error(resp, 400, "missing required field: name")


def test_listing_proxies(http: httpx.Client, upstream: str) -> None:
    port = free_port()
    create(http, "mysql_master", f"localhost:{port}", upstream)
    proxies = http.get("/proxies").json()
    assert list(proxies) == ["mysql_master"]
    proxy = proxies["mysql_master"]
    assert proxy["name"] == "mysql_master"
    assert proxy["listen"] == f"127.0.0.1:{port}"
    assert proxy["upstream"] == upstream
    assert proxy["enabled"] is True
    assert proxy["toxics"] == []


def test_create_and_get_proxy(http: httpx.Client, upstream: str) -> None:
    port = free_port()
    created = create(http, "mysql_master", f"localhost:{port}", upstream)
    resp = http.get("/proxies/mysql_master")
    assert resp.status_code == 200
    proxy = resp.json()
    assert proxy == created
    assert (proxy["name"], proxy["listen"], proxy["upstream"]) == (
        "mysql_master",
        f"127.0.0.1:{port}",
        upstream,
    )
    assert proxy["enabled"] is True
    assert proxy["toxics"] == []


def test_create_proxy_with_save(http: httpx.Client, upstream: str) -> None:
    port = free_port()
    created = create(http, "mysql_master", f"localhost:{port}", upstream, enabled=True)
    assert created["listen"] == f"127.0.0.1:{port}"
    assert_up(created["listen"], True)


def test_create_disabled_proxy(http: httpx.Client, upstream: str) -> None:
    port = free_port()
    create(http, "mysql_master", f"localhost:{port}", upstream, enabled=False)
    proxy = http.get("/proxies/mysql_master").json()
    assert proxy["listen"] == f"localhost:{port}"
    assert proxy["enabled"] is False
    assert_up(f"127.0.0.1:{port}", False)


def test_create_disabled_proxy_and_enable(http: httpx.Client, upstream: str) -> None:
    port = free_port()
    create(http, "mysql_master", f"localhost:{port}", upstream, enabled=False)
    save = {"name": "mysql_master", "listen": f"localhost:{port}", "upstream": upstream}

    resp = http.post("/proxies/mysql_master", json={**save, "enabled": True})
    assert resp.status_code == 200, resp.text
    assert resp.json()["enabled"] is True
    assert resp.json()["listen"] == f"127.0.0.1:{port}"
    assert_up(f"127.0.0.1:{port}", True)

    resp = http.post("/proxies/mysql_master", json={**save, "enabled": False})
    assert resp.status_code == 200, resp.text
    assert resp.json()["enabled"] is False
    assert_up(f"127.0.0.1:{port}", False)


# -- delete / conflicts ----------------------------------------------------------------------
def test_delete_proxy(http: httpx.Client, upstream: str) -> None:
    port = free_port()
    created = create(http, "mysql_master", f"localhost:{port}", upstream)
    assert list(http.get("/proxies").json()) == ["mysql_master"]
    assert_up(created["listen"], True)

    resp = http.delete("/proxies/mysql_master")
    assert resp.status_code == 204
    assert resp.content == b""
    assert_up(created["listen"], False)
    assert http.get("/proxies").json() == {}

    assert_api_error(http.delete("/proxies/mysql_master"), 404, "proxy not found")


def test_create_proxy_port_conflict(http: httpx.Client, upstream: str) -> None:
    port = free_port()
    create(http, "mysql_master", f"localhost:{port}", upstream)
    resp = http.post("/proxies", json={"name": "test", "listen": f"localhost:{port}", "upstream": upstream})
    assert_api_error(resp, 500, f"listen tcp 127.0.0.1:{port}: bind: address already in use")
    assert list(http.get("/proxies").json()) == ["mysql_master"]

    assert http.delete("/proxies/mysql_master").status_code == 204
    created = create(http, "test", f"localhost:{port}", upstream)
    assert created["listen"] == f"127.0.0.1:{port}"
    assert_up(created["listen"], True)


def test_create_proxy_name_conflict(http: httpx.Client, upstream: str) -> None:
    create(http, "mysql_master", "localhost:0", upstream)
    resp = http.post("/proxies", json={"name": "mysql_master", "listen": "localhost:0", "upstream": upstream})
    assert_api_error(resp, 409, "proxy already exists")
    assert list(http.get("/proxies").json()) == ["mysql_master"]


# -- populate --------------------------------------------------------------------------------
def populate(http: httpx.Client, proxies: list[dict[str, Any]]) -> httpx.Response:
    return http.post("/populate", json=proxies)


def test_populate_proxy(http: httpx.Client, upstream: str) -> None:
    one, two = free_port(), free_port()
    resp = populate(
        http,
        [
            {"name": "one", "listen": f"localhost:{one}", "upstream": upstream},
            {"name": "two", "listen": f"localhost:{two}", "upstream": upstream},
        ],
    )
    assert resp.status_code == 201, resp.text
    listed = resp.json()["proxies"]
    assert [p["name"] for p in listed] == ["one", "two"]
    assert [p["listen"] for p in listed] == [f"127.0.0.1:{one}", f"127.0.0.1:{two}"]
    assert all(p["enabled"] is True for p in listed)
    assert sorted(http.get("/proxies").json()) == ["one", "two"]
    assert_up(f"127.0.0.1:{one}", True)
    assert_up(f"127.0.0.1:{two}", True)


def test_populate_default_enabled(http: httpx.Client, upstream: str) -> None:
    port = free_port()
    raw = json.dumps([{"name": "test", "listen": f"localhost:{port}", "upstream": upstream}])
    resp = http.post("/populate", content=raw.encode())
    assert resp.status_code == 201, resp.text
    (proxy,) = resp.json()["proxies"]
    assert proxy["name"] == "test"
    assert proxy["enabled"] is True
    assert_up(f"127.0.0.1:{port}", True)


def test_populate_disabled_proxy(http: httpx.Client, upstream: str) -> None:
    one, two = free_port(), free_port()
    resp = populate(
        http,
        [
            {"name": "one", "listen": f"localhost:{one}", "upstream": upstream, "enabled": False},
            {"name": "two", "listen": f"localhost:{two}", "upstream": upstream},
        ],
    )
    assert resp.status_code == 201, resp.text
    proxies = http.get("/proxies").json()
    assert proxies["one"]["enabled"] is False
    assert proxies["one"]["listen"] == f"localhost:{one}"
    assert proxies["two"]["enabled"] is True
    assert proxies["two"]["listen"] == f"127.0.0.1:{two}"
    assert_up(f"127.0.0.1:{one}", False)
    assert_up(f"127.0.0.1:{two}", True)


def test_populate_empty_array(http: httpx.Client) -> None:
    resp = http.post("/populate", content=b"[]")
    assert resp.status_code == 201
    assert resp.json() == {"proxies": None}


def test_populate_existing_proxy(http: httpx.Client, upstream: str) -> None:
    one, two, three = free_port(), free_port(), free_port()
    create(http, "one", f"127.0.0.1:{one}", upstream)
    create(http, "two", f"127.0.0.1:{two}", upstream)
    add_toxic(http, "one", type="latency", attributes={"latency": 100})
    add_toxic(http, "two", type="latency", attributes={"latency": 100})

    resp = populate(
        http,
        [
            # Same address once resolved, and `enabled` is not applied to a kept proxy.
            {"name": "one", "listen": f"localhost:{one}", "upstream": upstream, "enabled": False},
            {"name": "two", "listen": f"localhost:{three}", "upstream": upstream},
        ],
    )
    assert resp.status_code == 201, resp.text

    proxies = http.get("/proxies").json()
    assert proxies["one"]["listen"] == f"127.0.0.1:{one}"
    assert proxies["one"]["enabled"] is True
    assert [t["name"] for t in proxies["one"]["toxics"]] == ["latency_downstream"]
    assert proxies["two"]["listen"] == f"127.0.0.1:{three}"
    assert proxies["two"]["toxics"] == []
    assert_up(f"127.0.0.1:{one}", True)
    assert_up(f"127.0.0.1:{two}", False)
    assert_up(f"127.0.0.1:{three}", True)


def test_populate_different_upstream_replaces(http: httpx.Client, upstream: str) -> None:
    port = free_port()
    create(http, "one", f"127.0.0.1:{port}", upstream)
    add_toxic(http, "one", type="noop")
    other = f"localhost:{free_port()}"
    resp = populate(http, [{"name": "one", "listen": f"127.0.0.1:{port}", "upstream": other}])
    assert resp.status_code == 201, resp.text
    proxy = http.get("/proxies/one").json()
    assert proxy["upstream"] == other
    assert proxy["toxics"] == []
    assert_up(f"127.0.0.1:{port}", True)


def test_populate_with_bad_name(http: httpx.Client, upstream: str) -> None:
    one = free_port()
    resp = populate(
        http,
        [
            {"name": "one", "listen": f"localhost:{one}", "upstream": upstream},
            {"name": "", "listen": "localhost:0", "upstream": upstream},
        ],
    )
    assert resp.status_code == 400
    assert resp.json() == {
        "error": "missing required field: name at proxy 2",
        "status": 400,
        "proxies": None,
    }
    assert http.get("/proxies").json() == {}
    assert_up(f"127.0.0.1:{one}", False)


def test_populate_with_bad_upstream(http: httpx.Client, upstream: str) -> None:
    resp = populate(
        http,
        [
            {"name": "one", "listen": "localhost:0", "upstream": upstream},
            {"name": "two", "listen": "localhost:0"},
        ],
    )
    assert resp.status_code == 400
    assert resp.json()["error"] == "missing required field: upstream at proxy 2"
    assert http.get("/proxies").json() == {}


def test_populate_proxy_with_bad_data_should_return_error(http: httpx.Client, upstream: str) -> None:
    one, three = free_port(), free_port()
    resp = populate(
        http,
        [
            {"name": "one", "listen": f"localhost:{one}", "upstream": upstream},
            {"name": "two", "listen": "local373", "upstream": upstream},
            {"name": "three", "listen": f"localhost:{three}", "upstream": upstream},
        ],
    )
    assert resp.status_code == 500, resp.text
    body = resp.json()
    assert body["status"] == 500
    assert body["error"] == "listen tcp: address local373: missing port in address"
    assert [p["name"] for p in body["proxies"]] == ["one"]
    assert list(http.get("/proxies").json()) == ["one"]
    assert_up(f"127.0.0.1:{one}", True)
    assert_up(f"127.0.0.1:{three}", False)


def test_populate_start_failure_stops_the_loop(http: httpx.Client, upstream: str) -> None:
    taken, after = free_port(), free_port()
    create(http, "holder", f"127.0.0.1:{taken}", upstream)
    first = free_port()
    resp = populate(
        http,
        [
            {"name": "first", "listen": f"127.0.0.1:{first}", "upstream": upstream},
            {"name": "clash", "listen": f"127.0.0.1:{taken}", "upstream": upstream},
            {"name": "after", "listen": f"127.0.0.1:{after}", "upstream": upstream},
        ],
    )
    assert resp.status_code == 500
    assert resp.json()["error"] == f"listen tcp 127.0.0.1:{taken}: bind: address already in use"
    assert [p["name"] for p in resp.json()["proxies"]] == ["first"]
    assert sorted(http.get("/proxies").json()) == ["first", "holder"]
    assert_up(f"127.0.0.1:{after}", False)
    assert_still_serving(http)


def test_populate_add_toxic(http: httpx.Client, upstream: str) -> None:
    resp = populate(http, [{"name": "one", "listen": "localhost:0", "upstream": upstream}])
    assert resp.status_code == 201, resp.text
    toxic = add_toxic(http, "one", type="latency", name="populate_toxic")
    assert toxic["name"] == "populate_toxic"
    assert [t["name"] for t in toxics_of(http, "one")] == ["populate_toxic"]


# -- reset / toxics --------------------------------------------------------------------------
def test_reset_state(http: httpx.Client, upstream: str) -> None:
    port = free_port()
    create(http, "mysql_master", f"localhost:{port}", upstream, enabled=False)
    add_toxic(http, "mysql_master", type="latency", attributes={"latency": 100, "jitter": 10})
    assert len(toxics_of(http, "mysql_master")) == 1

    resp = http.post("/reset")
    assert resp.status_code == 204
    assert resp.content == b""

    proxy = http.get("/proxies/mysql_master").json()
    assert proxy["enabled"] is True
    assert proxy["listen"] == f"127.0.0.1:{port}"
    assert proxy["toxics"] == []
    assert toxics_of(http, "mysql_master") == []
    assert_up(proxy["listen"], True)


def test_listing_toxics(http: httpx.Client, upstream: str) -> None:
    create(http, "mysql_master", "localhost:0", upstream)
    assert toxics_of(http, "mysql_master") == []
    add_toxic(http, "mysql_master", type="noop", name="down1")
    add_toxic(http, "mysql_master", type="noop", name="up1", stream="upstream")
    add_toxic(http, "mysql_master", type="noop", name="down2")
    add_toxic(http, "mysql_master", type="noop", name="up2", stream="upstream")
    # Upstream chain first, then downstream, each in the order added.
    assert [t["name"] for t in toxics_of(http, "mysql_master")] == ["up1", "up2", "down1", "down2"]


def test_add_toxic(http: httpx.Client, upstream: str) -> None:
    create(http, "mysql_master", "localhost:0", upstream)
    resp = http.post(
        "/proxies/mysql_master/toxics",
        json={"name": "foobar", "type": "latency", "attributes": {"latency": 100, "jitter": 10}},
    )
    assert resp.status_code == 200
    assert resp.json() == {
        "attributes": {"latency": 100, "jitter": 10},
        "name": "foobar",
        "type": "latency",
        "stream": "downstream",
        "toxicity": 1,
    }
    fetched = http.get("/proxies/mysql_master/toxics/foobar")
    assert fetched.status_code == 200
    assert fetched.json() == resp.json()


def test_add_multiple_toxics(http: httpx.Client, upstream: str) -> None:
    create(http, "mysql_master", "localhost:0", upstream)
    add_toxic(http, "mysql_master", type="latency", name="latency1")
    add_toxic(http, "mysql_master", type="latency", name="latency2")
    toxics = toxics_of(http, "mysql_master")
    assert [t["name"] for t in toxics] == ["latency1", "latency2"]
    for toxic in toxics:
        assert toxic["attributes"] == {"latency": 0, "jitter": 0}
        assert toxic["toxicity"] == 1


def test_add_conflicting_toxic(http: httpx.Client, upstream: str) -> None:
    create(http, "mysql_master", "localhost:0", upstream)
    add_toxic(http, "mysql_master", type="latency", name="foobar")
    resp = http.post("/proxies/mysql_master/toxics", json={"type": "slow_close", "name": "foobar"})
    assert_api_error(resp, 409, "toxic already exists")
    assert [t["type"] for t in toxics_of(http, "mysql_master")] == ["latency"]


def test_add_conflicting_toxic_multistream(http: httpx.Client, upstream: str) -> None:
    create(http, "mysql_master", "localhost:0", upstream)
    add_toxic(http, "mysql_master", type="latency", name="foobar", stream="upstream")
    resp = http.post(
        "/proxies/mysql_master/toxics",
        json={"type": "latency", "name": "foobar", "stream": "downstream"},
    )
    assert_api_error(resp, 409, "toxic already exists")
    toxics = toxics_of(http, "mysql_master")
    assert [(t["name"], t["stream"]) for t in toxics] == [("foobar", "upstream")]


def test_add_conflicting_toxics_multistream_defaults(http: httpx.Client, upstream: str) -> None:
    create(http, "mysql_master", "localhost:0", upstream)
    up = add_toxic(http, "mysql_master", type="latency", stream="upstream")
    down = add_toxic(http, "mysql_master", type="latency", stream="downstream")
    assert (up["name"], up["stream"]) == ("latency_upstream", "upstream")
    assert (down["name"], down["stream"]) == ("latency_downstream", "downstream")
    assert [t["name"] for t in toxics_of(http, "mysql_master")] == [
        "latency_upstream",
        "latency_downstream",
    ]


def test_add_toxic_with_toxicity(http: httpx.Client, upstream: str) -> None:
    create(http, "mysql_master", "localhost:0", upstream)
    toxic = add_toxic(http, "mysql_master", type="latency", name="foobar", toxicity=0.2)
    assert toxic["toxicity"] == 0.2
    raw = http.get("/proxies/mysql_master/toxics/foobar").content
    assert b'"toxicity":0.2' in raw


def test_add_noop(http: httpx.Client, upstream: str) -> None:
    create(http, "mysql_master", "localhost:0", upstream)
    # Go's client leaves an empty stream out of the body; the server defaults it.
    toxic = add_toxic(http, "mysql_master", type="noop", name="foobar")
    assert toxic["stream"] == "downstream"
    assert toxic["type"] == "noop"
    assert toxic["attributes"] == {}
    assert toxic["toxicity"] == 1
    assert toxics_of(http, "mysql_master") == [toxic]


def test_explicit_empty_stream_is_invalid(http: httpx.Client, upstream: str) -> None:
    create(http, "mysql_master", "localhost:0", upstream)
    resp = http.post("/proxies/mysql_master/toxics", json={"type": "noop", "stream": ""})
    assert_api_error(resp, 400, "stream was invalid, can be either upstream or downstream")


def test_stream_kept_as_sent(http: httpx.Client, upstream: str) -> None:
    """Go parses the stream case-insensitively but stores and names the toxic with it verbatim."""
    create(http, "mysql_master", "localhost:0", upstream)
    toxic = add_toxic(http, "mysql_master", type="noop", stream="UpStream")
    assert (toxic["name"], toxic["stream"]) == ("noop_UpStream", "UpStream")
    add_toxic(http, "mysql_master", type="noop", name="down")
    # It still runs on the upstream chain, which is listed first.
    assert [t["name"] for t in toxics_of(http, "mysql_master")] == ["noop_UpStream", "down"]
    assert add_toxic(http, "mysql_master", type="latency")["name"] == "latency_downstream"


def test_update_toxics(http: httpx.Client, upstream: str) -> None:
    create(http, "mysql_master", "localhost:0", upstream)
    add_toxic(http, "mysql_master", type="latency", name="foobar", attributes={"latency": 100, "jitter": 10})
    url = "/proxies/mysql_master/toxics/foobar"

    resp = http.patch(url, json={"attributes": {"latency": 1000}})
    assert resp.status_code == 200, resp.text
    assert resp.json()["attributes"] == {"latency": 1000, "jitter": 10}
    assert resp.json()["toxicity"] == 1

    resp = http.patch(url, json={"toxicity": 0.5})
    assert resp.status_code == 200, resp.text
    assert resp.json()["attributes"] == {"latency": 1000, "jitter": 10}
    assert resp.json()["toxicity"] == 0.5

    resp = http.patch(url, json={"attributes": {"jitter": 3}})
    assert resp.json()["toxicity"] == 0.5
    assert resp.json()["attributes"] == {"latency": 1000, "jitter": 3}

    # The deprecated POST still updates; type, stream and name are not changeable.
    resp = http.post(
        url, json={"type": "timeout", "stream": "upstream", "name": "x", "attributes": {"jitter": 4}}
    )
    assert resp.status_code == 200, resp.text
    assert resp.json() == {
        "attributes": {"latency": 1000, "jitter": 4},
        "name": "foobar",
        "type": "latency",
        "stream": "downstream",
        "toxicity": 0.5,
    }
    assert http.get(url).json() == resp.json()


def test_remove_toxic(http: httpx.Client, upstream: str) -> None:
    create(http, "mysql_master", "localhost:0", upstream)
    add_toxic(http, "mysql_master", type="latency", name="foobar")
    resp = http.delete("/proxies/mysql_master/toxics/foobar")
    assert resp.status_code == 204
    assert resp.content == b""
    assert toxics_of(http, "mysql_master") == []
    assert_api_error(http.delete("/proxies/mysql_master/toxics/foobar"), 404, "toxic not found")


def test_invalid_stream(http: httpx.Client, upstream: str) -> None:
    create(http, "mysql_master", "localhost:0", upstream)
    resp = http.post("/proxies/mysql_master/toxics", json={"type": "latency", "stream": "walrustream"})
    assert_api_error(resp, 400, "stream was invalid, can be either upstream or downstream")
    assert toxics_of(http, "mysql_master") == []


def test_version_endpoint_returns_version(http: httpx.Client) -> None:
    resp = http.get("/version")
    assert resp.status_code == 200
    assert resp.content == b'{"version": "2.12.0"}\n'
    assert resp.headers["Content-Type"] == "application/json;charset=utf-8"


# -- bad input: exact status and body, then the server keeps serving --------------------------
def _latency_int_error(literal: str) -> str:
    return (
        f"bad request body: json: cannot unmarshal number {literal} into Go struct field "
        "LatencyToxic.attributes.latency of type int64"
    )


_UNMARSHAL = "json: cannot unmarshal"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"name": "a",', "unexpected EOF"),
        (b"", "EOF"),
        (b"   \n", "EOF"),
        (b'{name: "a"}', "invalid character 'n' looking for beginning of object key string"),
        (b"not json", "invalid character 'o' in literal null (expecting 'u')"),
        (b'{"name" "a"}', "invalid character '\"' after object key"),
        (b'{"name":"a" "b":1}', "invalid character '\"' after object key:value pair"),
        (b'{"name":[1 2]}', "invalid character '2' after array element"),
        (b'{"name":[1,]}', "invalid character ']' looking for beginning of value"),
        (b'{"name":tru}', "invalid character '}' in literal true (expecting 'e')"),
        (b'{"name":-}', "invalid character '}' in numeric literal"),
        (b'{"name":1.}', "invalid character '}' after decimal point in numeric literal"),
        (b'{"name":1e}', "invalid character '}' in exponent of numeric literal"),
        (b'{"name":"\\x"}', "invalid character 'x' in string escape code"),
        (b'{"name":"\\u12g4"}', "invalid character 'g' in \\u hexadecimal character escape"),
        (b'{"name":"a\nb"}', "invalid character '\\n' in string literal"),
        (b'{"name":NaN}', "invalid character 'N' looking for beginning of value"),
        (b'{"name":<a>}', "invalid character '<' looking for beginning of value"),
        (b"\xef\xbb\xbf{}", "invalid character '\u00ef' looking for beginning of value"),
        (b'{"name":"a\x7f\x01"}', "invalid character '\\x01' in string literal"),
        (b"[1]x", f"{_UNMARSHAL} array into Go value of type toxiproxy.Proxy"),
        (b'{"name": 5}', f"{_UNMARSHAL} number into Go struct field Proxy.name of type string"),
        (b'{"enabled": "yes"}', f"{_UNMARSHAL} string into Go struct field Proxy.enabled of type bool"),
        (b"[]", f"{_UNMARSHAL} array into Go value of type toxiproxy.Proxy"),
    ],
)
def test_malformed_proxy_body(http: httpx.Client, body: bytes, reason: str) -> None:
    assert_api_error(http.post("/proxies", content=body), 400, f"bad request body: {reason}")
    assert http.get("/proxies").json() == {}
    assert_still_serving(http)


def test_populate_bad_body_uses_populate_reply(http: httpx.Client) -> None:
    resp = http.post("/populate", content=b'[{"name": "a"')
    assert resp.status_code == 400
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.content == b'{"error":"bad request body: unexpected EOF","status":400,"proxies":null}'
    assert_still_serving(http)


def test_trailing_data_after_the_body_is_ignored(http: httpx.Client, upstream: str) -> None:
    """Go's json.Decoder reads one value and stops; what follows it is never looked at."""
    body = json.dumps({"name": "a", "listen": "localhost:0", "upstream": upstream}) + " }garbage"
    resp = http.post("/proxies", content=body.encode())
    assert resp.status_code == 201, resp.text
    assert resp.json()["name"] == "a"


def test_keys_match_case_insensitively(http: httpx.Client, upstream: str) -> None:
    resp = http.post("/proxies", json={"NAME": "a", "Listen": "localhost:0", "UpStream": upstream})
    assert resp.status_code == 201, resp.text
    assert resp.json()["name"] == "a"
    assert resp.json()["upstream"] == upstream


def test_unknown_toxic_type(http: httpx.Client, upstream: str) -> None:
    create(http, "p", "localhost:0", upstream)
    resp = http.post("/proxies/p/toxics", json={"type": "walrus"})
    assert_api_error(resp, 400, "invalid toxic type")
    assert toxics_of(http, "p") == []
    assert_still_serving(http)


def test_stream_checked_before_type(http: httpx.Client, upstream: str) -> None:
    create(http, "p", "localhost:0", upstream)
    resp = http.post("/proxies/p/toxics", json={"type": "walrus", "stream": "sideways"})
    assert_api_error(resp, 400, "stream was invalid, can be either upstream or downstream")


def test_type_checked_before_name_conflict(http: httpx.Client, upstream: str) -> None:
    create(http, "p", "localhost:0", upstream)
    add_toxic(http, "p", type="noop", name="taken")
    resp = http.post("/proxies/p/toxics", json={"type": "walrus", "name": "taken"})
    assert_api_error(resp, 400, "invalid toxic type")


def test_name_conflict_checked_before_attributes(http: httpx.Client, upstream: str) -> None:
    create(http, "p", "localhost:0", upstream)
    add_toxic(http, "p", type="latency", name="taken")
    resp = http.post(
        "/proxies/p/toxics", json={"type": "latency", "name": "taken", "attributes": {"latency": 1.5}}
    )
    assert_api_error(resp, 409, "toxic already exists")


def test_stream_is_case_insensitive(http: httpx.Client, upstream: str) -> None:
    create(http, "p", "localhost:0", upstream)
    add_toxic(http, "p", type="noop", name="d", stream="DOWNSTREAM")
    add_toxic(http, "p", type="noop", name="u", stream="UPSTREAM")
    assert [t["name"] for t in toxics_of(http, "p")] == ["u", "d"]


def test_toxic_on_unknown_proxy(http: httpx.Client) -> None:
    assert_api_error(http.get("/proxies/nope/toxics"), 404, "proxy not found")
    assert_api_error(http.post("/proxies/nope/toxics", json={"type": "noop"}), 404, "proxy not found")
    assert_api_error(http.get("/proxies/nope/toxics/t"), 404, "proxy not found")
    assert_api_error(http.patch("/proxies/nope/toxics/t", json={}), 404, "proxy not found")
    assert_api_error(http.delete("/proxies/nope/toxics/t"), 404, "proxy not found")
    assert_still_serving(http)


def test_unknown_proxy(http: httpx.Client) -> None:
    assert_api_error(http.get("/proxies/nope"), 404, "proxy not found")
    assert_api_error(http.patch("/proxies/nope", json={"enabled": False}), 404, "proxy not found")
    assert_api_error(http.post("/proxies/nope", content=b"{bad"), 404, "proxy not found")
    assert_api_error(http.delete("/proxies/nope"), 404, "proxy not found")
    assert_still_serving(http)


def test_unknown_toxic(http: httpx.Client, upstream: str) -> None:
    create(http, "p", "localhost:0", upstream)
    assert_api_error(http.get("/proxies/p/toxics/nope"), 404, "toxic not found")
    assert_api_error(http.patch("/proxies/p/toxics/nope", json={}), 404, "toxic not found")
    assert_api_error(http.delete("/proxies/p/toxics/nope"), 404, "toxic not found")
    assert_still_serving(http)


@pytest.mark.parametrize("literal", ["100.0", "100.5", "1e2"])
def test_non_integer_attribute_rejected(http: httpx.Client, upstream: str, literal: str) -> None:
    create(http, "p", "localhost:0", upstream)
    body = f'{{"type": "latency", "attributes": {{"latency": {literal}}}}}'.encode()
    resp = http.post("/proxies/p/toxics", content=body)
    assert_api_error(resp, 400, _latency_int_error(literal))
    assert toxics_of(http, "p") == []
    assert_still_serving(http)


def test_non_integer_attribute_rejected_on_update(http: httpx.Client, upstream: str) -> None:
    create(http, "p", "localhost:0", upstream)
    add_toxic(http, "p", type="latency", name="l", attributes={"latency": 7})
    resp = http.patch("/proxies/p/toxics/l", content=b'{"attributes": {"latency": 100.0}}')
    assert_api_error(resp, 400, _latency_int_error("100.0"))
    assert http.get("/proxies/p/toxics/l").json()["attributes"]["latency"] == 7


def test_string_attribute_rejected(http: httpx.Client, upstream: str) -> None:
    create(http, "p", "localhost:0", upstream)
    resp = http.post("/proxies/p/toxics", json={"type": "bandwidth", "attributes": {"rate": "9"}})
    assert_api_error(
        resp,
        400,
        "bad request body: json: cannot unmarshal string into Go struct field "
        "BandwidthToxic.attributes.rate of type int64",
    )


def test_slicer_attributes_are_go_int(http: httpx.Client, upstream: str) -> None:
    create(http, "p", "localhost:0", upstream)
    resp = http.post("/proxies/p/toxics", content=b'{"type":"slicer","attributes":{"delay":0.5}}')
    assert_api_error(
        resp,
        400,
        "bad request body: json: cannot unmarshal number 0.5 into Go struct field "
        "SlicerToxic.attributes.delay of type int",
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            b'{"type":"latency","toxicity":1e400}',
            "number 1e400 into Go struct field ToxicWrapper.toxicity of type float32",
        ),
        (
            b'{"type":"latency","toxicity":"0.5"}',
            "string into Go struct field ToxicWrapper.toxicity of type float32",
        ),
        (b'{"type":5}', "number into Go struct field ToxicWrapper.type of type string"),
        (b'{"type":"noop","name":true}', "bool into Go struct field ToxicWrapper.name of type string"),
        (
            b'{"type":"latency","attributes":{"latency":99999999999999999999}}',
            "number 99999999999999999999 into Go struct field LatencyToxic.attributes.latency of type int64",
        ),
        (
            b'{"type":"limit_data","attributes":{"bytes":[1]}}',
            "array into Go struct field LimitDataToxic.attributes.bytes of type int64",
        ),
        (
            b'{"type":"latency","attributes":5}',
            "number into Go struct field ToxicWrapper.attributes of type toxics.NoopToxic",
        ),
        (b'"latency"', "string into Go value of type toxics.ToxicWrapper"),
    ],
)
def test_toxic_body_type_errors(http: httpx.Client, upstream: str, body: bytes, reason: str) -> None:
    create(http, "p", "localhost:0", upstream)
    resp = http.post("/proxies/p/toxics", content=body)
    assert_api_error(resp, 400, f"bad request body: json: cannot unmarshal {reason}")
    assert toxics_of(http, "p") == []


def test_attribute_shape_checked_before_stream(http: httpx.Client, upstream: str) -> None:
    """Go's first decode of the body fails on non-object attributes, before the stream is read."""
    create(http, "p", "localhost:0", upstream)
    resp = http.post("/proxies/p/toxics", content=b'{"type":"latency","stream":"x","attributes":[]}')
    assert resp.status_code == 400
    assert resp.json()["error"].startswith("bad request body: json: cannot unmarshal array")


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"[" * 10001, "invalid character '[' exceeded max depth"), (b"[" * 10000, "unexpected EOF")],
    ids=["too-deep", "deep-but-truncated"],
)
def test_deep_nesting(http: httpx.Client, body: bytes, reason: str) -> None:
    assert_api_error(http.post("/proxies", content=body), 400, f"bad request body: {reason}")
    assert_still_serving(http)


def test_toxic_wire_form_is_byte_exact(http: httpx.Client, upstream: str) -> None:
    create(http, "p", "localhost:0", upstream)
    body = {"name": "s", "type": "slicer", "attributes": {"delay": 3, "average_size": 5}}
    resp = http.post("/proxies/p/toxics", json=body)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.content == (
        b'{"attributes":{"average_size":5,"size_variation":0,"delay":3},'
        b'"name":"s","type":"slicer","stream":"downstream","toxicity":1}'
    )


def test_unknown_attribute_keys_ignored(http: httpx.Client, upstream: str) -> None:
    create(http, "p", "localhost:0", upstream)
    toxic = add_toxic(http, "p", type="latency", attributes={"latency": 5, "walrus": 1.5})
    assert toxic["attributes"] == {"latency": 5, "jitter": 0}


@pytest.mark.parametrize("attributes", [{"average_size": 0}, {}, {"size_variation": 3}])
def test_slicer_average_size_zero_rejected(
    http: httpx.Client, upstream: str, attributes: dict[str, int]
) -> None:
    create(http, "p", "localhost:0", upstream)
    resp = http.post("/proxies/p/toxics", json={"type": "slicer", "attributes": attributes})
    assert resp.status_code == 400
    body = resp.content
    assert body.endswith(b"\n")
    decoded = json.loads(body)
    assert decoded["status"] == 400
    assert decoded["error"].startswith("bad request body: ")
    assert toxics_of(http, "p") == []
    assert_still_serving(http)


def test_slicer_average_size_zero_rejected_on_update(http: httpx.Client, upstream: str) -> None:
    create(http, "p", "localhost:0", upstream)
    add_toxic(http, "p", type="slicer", name="s", attributes={"average_size": 10})
    resp = http.patch("/proxies/p/toxics/s", json={"attributes": {"average_size": 0}})
    assert resp.status_code == 400
    assert http.get("/proxies/p/toxics/s").json()["attributes"]["average_size"] == 10


def test_port_already_in_use(http: httpx.Client, upstream: str) -> None:
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        resp = http.post("/proxies", json={"name": "p", "listen": f"127.0.0.1:{port}", "upstream": upstream})
        assert_api_error(resp, 500, f"listen tcp 127.0.0.1:{port}: bind: address already in use")
        assert http.get("/proxies").json() == {}
        assert_still_serving(http)
    finally:
        holder.close()


def test_unknown_path(http: httpx.Client) -> None:
    for path in ("/nope", "/proxies/a/b", "/proxies/a/toxics/b/c", "/"):
        resp = http.get(path)
        assert resp.status_code == 404, path
        assert resp.content == b"404 page not found\n"
        assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert_still_serving(http)


def test_unknown_path_is_404_even_for_browsers(http: httpx.Client) -> None:
    resp = http.get("/nope", headers={"User-Agent": "Mozilla/5.0"})
    assert resp.status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/version"),
        ("GET", "/reset"),
        ("PUT", "/proxies"),
        ("GET", "/populate"),
        ("PUT", "/proxies/p"),
        ("PATCH", "/proxies/p/toxics"),
        ("PUT", "/proxies/p/toxics/t"),
    ],
)
def test_wrong_method(http: httpx.Client, method: str, path: str) -> None:
    resp = http.request(method, path)
    assert resp.status_code == 405
    assert resp.content == b""
    assert_still_serving(http)


# -- PATCH partial updates of proxies ---------------------------------------------------------
def test_patch_proxy_keeps_omitted_fields(http: httpx.Client, upstream: str) -> None:
    created = create(http, "p", "localhost:0", upstream)
    add_toxic(http, "p", type="latency", name="l", attributes={"latency": 9})
    other = f"localhost:{free_port()}"

    resp = http.patch("/proxies/p", json={"upstream": other})
    assert resp.status_code == 200, resp.text
    proxy = resp.json()
    assert proxy["upstream"] == other
    assert proxy["listen"] == created["listen"]
    assert proxy["enabled"] is True
    assert [t["name"] for t in proxy["toxics"]] == ["l"]
    assert_up(created["listen"], True)


def test_patch_proxy_ignores_name(http: httpx.Client, upstream: str) -> None:
    create(http, "p", "localhost:0", upstream)
    resp = http.patch("/proxies/p", json={"name": "renamed"})
    assert resp.status_code == 200
    assert resp.json()["name"] == "p"
    assert list(http.get("/proxies").json()) == ["p"]


def test_patch_proxy_disable_and_enable_keeps_port(http: httpx.Client, upstream: str) -> None:
    created = create(http, "p", "localhost:0", upstream)
    listen = created["listen"]
    resp = http.patch("/proxies/p", json={"enabled": False})
    assert resp.json()["enabled"] is False
    assert resp.json()["listen"] == listen
    assert_up(listen, False)

    resp = http.patch("/proxies/p", json={"enabled": True})
    assert resp.json()["enabled"] is True
    assert resp.json()["listen"] == listen
    assert_up(listen, True)


def test_patch_proxy_new_listen_moves_port(http: httpx.Client, upstream: str) -> None:
    created = create(http, "p", "localhost:0", upstream)
    resp = http.patch("/proxies/p", json={"listen": "localhost:0"})
    assert resp.status_code == 200, resp.text
    moved = resp.json()["listen"]
    assert moved.startswith("127.0.0.1:")
    assert moved != created["listen"]
    assert_up(moved, True)
    assert_up(created["listen"], False)

    # The same address again (resolved) is not a change: the proxy stays where it is.
    resp = http.patch("/proxies/p", json={"listen": moved.replace("127.0.0.1", "localhost")})
    assert resp.json()["listen"] == moved
    assert_up(moved, True)


def test_patch_proxy_bad_body(http: httpx.Client, upstream: str) -> None:
    created = create(http, "p", "localhost:0", upstream)
    resp = http.patch("/proxies/p", content=b'{"enabled": 1}')
    assert_api_error(
        resp,
        400,
        "bad request body: json: cannot unmarshal number into Go struct field Proxy.enabled of type bool",
    )
    assert http.get("/proxies/p").json() == created


def test_patch_proxy_to_taken_port(http: httpx.Client, upstream: str) -> None:
    first = create(http, "a", "localhost:0", upstream)
    create(http, "b", "localhost:0", upstream)
    port = host_port(first["listen"])[1]
    resp = http.patch("/proxies/b", json={"listen": f"127.0.0.1:{port}"})
    assert_api_error(resp, 500, f"listen tcp 127.0.0.1:{port}: bind: address already in use")
    # Go stops the proxy and takes the new address before the bind fails.
    proxy = http.get("/proxies/b").json()
    assert proxy["enabled"] is False
    assert proxy["listen"] == f"127.0.0.1:{port}"
    assert_up(first["listen"], True)
    assert_still_serving(http)


def test_patch_proxy_unresolvable_listen_changes_nothing(http: httpx.Client, upstream: str) -> None:
    created = create(http, "p", "localhost:0", upstream)
    other = f"localhost:{free_port()}"
    resp = http.patch("/proxies/p", json={"listen": "local373", "upstream": other})
    assert_api_error(resp, 500, "address local373: missing port in address")
    assert http.get("/proxies/p").json() == created
    assert_up(created["listen"], True)


def test_reset_stops_at_a_bind_failure(http: httpx.Client, upstream: str) -> None:
    port = free_port()
    create(http, "p", f"127.0.0.1:{port}", upstream, enabled=False)
    add_toxic(http, "p", type="noop", name="kept")
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        holder.bind(("127.0.0.1", port))
        holder.listen(1)
        resp = http.post("/reset")
        assert_api_error(resp, 500, f"listen tcp 127.0.0.1:{port}: bind: address already in use")
    finally:
        holder.close()
    proxy = http.get("/proxies/p").json()
    assert proxy["enabled"] is False
    assert [t["name"] for t in proxy["toxics"]] == ["kept"]  # the loop stopped before the reset


def test_duplicate_keys_last_one_wins(http: httpx.Client, upstream: str) -> None:
    body = f'{{"name": "first", "NAME": "second", "listen": "localhost:0", "upstream": "{upstream}"}}'
    resp = http.post("/proxies", content=body.encode())
    assert resp.status_code == 201, resp.text
    assert resp.json()["name"] == "second"


def test_json_is_encoded_like_go(http: httpx.Client, upstream: str) -> None:
    """Go's json.Marshal escapes <, > and & and writes other characters as raw UTF-8."""
    resp = http.post("/proxies", json={"name": "a<b>&\u00e9", "listen": "localhost:0", "upstream": upstream})
    assert resp.status_code == 201, resp.text
    assert resp.headers["Content-Type"] == "application/json"
    assert b'"name":"a\\u003cb\\u003e\\u0026\xc3\xa9"' in resp.content
    assert resp.json()["name"] == "a<b>&\u00e9"


def test_empty_listen_binds_all_interfaces(http: httpx.Client, upstream: str) -> None:
    resp = http.post("/proxies", json={"name": "p", "upstream": upstream})
    assert resp.status_code == 201, resp.text
    listen = resp.json()["listen"]
    assert listen.startswith("[::]:")
    assert_up(f"127.0.0.1:{host_port(listen)[1]}", True)


def test_null_fields_keep_current_values(http: httpx.Client, upstream: str) -> None:
    """Go's decoder leaves a field alone when the JSON value is null."""
    created = create(http, "p", "localhost:0", upstream)
    resp = http.patch("/proxies/p", content=b'{"listen": null, "upstream": null, "enabled": null}')
    assert resp.status_code == 200, resp.text
    assert resp.json() == created

    add_toxic(http, "p", type="latency", name="l", toxicity=0.5, attributes={"latency": 3})
    resp = http.patch("/proxies/p/toxics/l", content=b'{"toxicity": null, "attributes": {"latency": null}}')
    assert resp.status_code == 200, resp.text
    assert resp.json()["toxicity"] == 0.5
    assert resp.json()["attributes"] == {"latency": 3, "jitter": 0}

    # null leaves Go's defaults in place: stream "downstream", toxicity 1.
    toxic = http.post("/proxies/p/toxics", content=b'{"type":"noop","stream":null,"toxicity":null}')
    assert toxic.status_code == 200, toxic.text
    assert toxic.json()["name"] == "noop_downstream"
    assert toxic.json()["toxicity"] == 1


# -- listen addresses -------------------------------------------------------------------------
def test_listen_localhost_zero_is_resolved(http: httpx.Client, echo_server: int) -> None:
    created = create(http, "p", "localhost:0", f"127.0.0.1:{echo_server}")
    host, port = host_port(created["listen"])
    assert host == "127.0.0.1"
    assert port != 0
    assert http.get("/proxies/p").json()["listen"] == created["listen"]
    with socket.create_connection((host, port), timeout=WAIT_S) as sock:
        sock.settimeout(WAIT_S)
        sock.sendall(b"ping")
        assert sock.recv(16) == b"ping"


def test_disabled_proxy_keeps_unresolved_listen(http: httpx.Client, upstream: str) -> None:
    created = create(http, "p", "localhost:0", upstream, enabled=False)
    assert created["listen"] == "localhost:0"
    assert created["enabled"] is False
    assert http.get("/proxies/p").json()["listen"] == "localhost:0"

    resp = http.patch("/proxies/p", json={"enabled": True})
    listen = resp.json()["listen"]
    assert listen.startswith("127.0.0.1:")
    assert listen != "127.0.0.1:0"
    assert_up(listen, True)


def test_toxics_can_be_added_to_disabled_proxy(http: httpx.Client, upstream: str) -> None:
    create(http, "p", "localhost:0", upstream, enabled=False)
    add_toxic(http, "p", type="latency", name="l")
    assert [t["name"] for t in toxics_of(http, "p")] == ["l"]


# -- the server survives what it refused ------------------------------------------------------
def test_lone_surrogate_becomes_replacement_character(http: httpx.Client, upstream: str) -> None:
    body = f'{{"name":"a\\ud800b","listen":"localhost:0","upstream":"{upstream}"}}'
    resp = http.post("/proxies", content=body.encode())
    assert resp.status_code == 201, resp.text
    assert resp.json()["name"] == "a\ufffdb"


def test_valid_but_very_deep_body_is_refused_cleanly(http: httpx.Client) -> None:
    resp = http.post("/proxies", content=b"[" * 5000 + b"]" * 5000)
    assert resp.status_code == 400
    assert resp.json()["error"].startswith("bad request body: ")
    assert_still_serving(http)


def test_server_survives_a_burst_of_bad_requests(http: httpx.Client, upstream: str) -> None:
    """Refused bodies, back to back on one connection, never take the server or the proxy down."""
    created = create(http, "p", "localhost:0", upstream)
    bad: list[tuple[str, bytes, int]] = [
        ("/proxies", b"{", 400),
        ("/populate", b"{", 400),
        ("/proxies/p/toxics", b'{"type":"slicer","attributes":{"average_size":0}}', 400),
        ("/proxies/p/toxics", b'{"type":"latency","attributes":{"latency":1e400}}', 400),
        ("/proxies/p/toxics", b'{"type":"latency","toxicity":1e400}', 400),
        ("/proxies/p/toxics", b"[" * 20000, 400),
        ("/proxies/p/toxics", b'{"type":"latency","attributes":{"latency":-1e999}}', 400),
        ("/proxies", b'{"name":"\\ud800","upstream":"x","listen":"localhost:0"}', 201),
    ]
    for path, body, status in bad:
        resp = http.post(path, content=body)
        assert resp.status_code == status, (path, body[:40], resp.text)
    assert_still_serving(http)
    assert http.get("/proxies/p").json() == created
    assert_up(created["listen"], True)


# -- toxicity, metrics, the handler timeout ----------------------------------------------------
@pytest.mark.parametrize("toxicity", [5, -1, 0])
def test_toxicity_is_not_range_checked(http: httpx.Client, upstream: str, toxicity: int) -> None:
    create(http, "p", "localhost:0", upstream)
    toxic = add_toxic(http, "p", type="noop", toxicity=toxicity)
    assert toxic["toxicity"] == toxicity
    assert http.patch("/proxies/p/toxics/noop_downstream", json={"toxicity": 0.25}).json()["toxicity"] == 0.25


def test_metrics_absent_without_the_flag(http: httpx.Client) -> None:
    resp = http.get("/metrics")
    assert resp.status_code == 404
    assert resp.content == b"404 page not found\n"


def test_metrics_with_the_flag(echo_server: int) -> None:
    with (
        EmbeddedToxiproxy(host="127.0.0.1", port=0, metrics=True) as server,
        httpx.Client(base_url=server.url, timeout=10.0) as client,
    ):
        create(client, "p", "localhost:0", f"127.0.0.1:{echo_server}")
        listen = client.get("/proxies/p").json()["listen"]
        with socket.create_connection(host_port(listen), timeout=WAIT_S) as sock:
            sock.settimeout(WAIT_S)
            sock.sendall(b"12345")
            assert sock.recv(16) == b"12345"
        for method in ("GET", "POST"):
            resp = client.request(method, "/metrics")
            assert resp.status_code == 200
            assert "toxiproxy_proxy_received_bytes_total{" in resp.text
            assert 'proxy="p"' in resp.text


def test_slow_handler_gets_503(
    monkeypatch: pytest.MonkeyPatch, toxiproxy: EmbeddedToxiproxy, http: httpx.Client
) -> None:
    """Go wraps every handler in a 25 s TimeoutHandler whose reply is an empty 503."""
    from harness.faults.embedded import api as api_module
    from harness.faults.embedded.collection import ProxyCollection

    async def slow_reset(self: ProxyCollection) -> None:
        await asyncio.sleep(5)

    monkeypatch.setattr(api_module, "HANDLER_TIMEOUT_S", 0.2)
    monkeypatch.setattr(ProxyCollection, "reset", slow_reset)
    started = time.monotonic()
    resp = http.post("/reset")
    assert resp.status_code == 503
    assert resp.content == b""
    assert time.monotonic() - started < 3
    assert_still_serving(http)
