"""The typed client against the embedded server: every API call, its errors, and the shapes."""

from __future__ import annotations

import json
import socket

import httpx
import pytest

from harness.faults import (
    EmbeddedToxiproxy,
    ExtensionUnsupported,
    InvalidRequest,
    ProxyExists,
    ProxyNotFound,
    ServerError,
    TargetRefused,
    ToxicExists,
    ToxicNotFound,
    ToxiproxyClient,
)
from harness.faults.client import Proxy
from harness.faults.models import ProxyInfo
from tests.netutil import connect, round_trip


def test_version_and_liveness(client: ToxiproxyClient) -> None:
    assert client.version() == "2.12.0"
    assert client.is_up()


def test_is_up_is_false_for_a_closed_port() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with ToxiproxyClient(f"http://127.0.0.1:{port}", timeout=1) as tp:
        assert not tp.is_up()


def test_create_get_list_and_delete(client: ToxiproxyClient, echo_server: int) -> None:
    proxy = client.create_proxy("echo", upstream=f"127.0.0.1:{echo_server}")
    assert proxy.host == "127.0.0.1" and proxy.port > 0 and proxy.enabled
    assert client.get_proxy("echo").listen == proxy.listen
    assert list(client.proxies()) == ["echo"]
    with connect(proxy.port) as sock:
        round_trip(sock)
    proxy.delete()
    assert client.proxies() == {}
    with pytest.raises(ProxyNotFound, match="proxy not found"):
        client.get_proxy("echo")


def test_typed_errors_carry_the_servers_message(client: ToxiproxyClient, echo_server: int) -> None:
    proxy = client.create_proxy("echo", upstream=f"127.0.0.1:{echo_server}")
    with pytest.raises(ProxyExists) as exc:
        client.create_proxy("echo", upstream=f"127.0.0.1:{echo_server}")
    assert exc.value.status == 409 and exc.value.message == "proxy already exists"
    proxy.add_toxic("latency", latency=10)
    with pytest.raises(ToxicExists):
        proxy.add_toxic("latency", latency=10)
    with pytest.raises(ToxicNotFound):
        proxy.remove_toxic("nope")
    with pytest.raises(InvalidRequest, match="invalid toxic type"):
        proxy.add_toxic("walrus")
    with pytest.raises(ServerError, match="address already in use"):
        client.create_proxy("clash", upstream=f"127.0.0.1:{echo_server}", listen=proxy.listen)


def test_toxic_attributes_are_sent_as_ints(client: ToxiproxyClient, echo_server: int) -> None:
    proxy = client.create_proxy("echo", upstream=f"127.0.0.1:{echo_server}")
    toxic = proxy.add_toxic("latency", latency=100.0, jitter=10)
    assert toxic.attributes == {"latency": 100, "jitter": 10}
    with pytest.raises(TypeError, match="whole number"):
        proxy.add_toxic("latency", name="bad", latency=100.5)


def test_update_toxic_changes_only_what_is_given(client: ToxiproxyClient, echo_server: int) -> None:
    proxy = client.create_proxy("echo", upstream=f"127.0.0.1:{echo_server}")
    proxy.add_toxic("latency", latency=100, jitter=10, toxicity=0.5)
    updated = proxy.update_toxic("latency_downstream", latency=200)
    assert updated.attributes == {"latency": 200, "jitter": 10}
    assert updated.toxicity == pytest.approx(0.5)
    assert proxy.get_toxic("latency_downstream") == updated
    assert [t.name for t in proxy.toxics()] == ["latency_downstream"]


def test_toxic_context_manager_applies_and_always_removes(client: ToxiproxyClient, echo_server: int) -> None:
    proxy = client.create_proxy("echo", upstream=f"127.0.0.1:{echo_server}")
    with connect(proxy.port) as sock:
        baseline = round_trip(sock)
        with pytest.raises(RuntimeError), proxy.toxic("latency", latency=300):
            assert round_trip(sock) >= 0.29
            raise RuntimeError("scenario failed half-way")
        assert proxy.toxics() == []
        assert round_trip(sock) < max(0.1, baseline * 50)


def test_down_refuses_connections_then_restores_the_same_port(
    client: ToxiproxyClient, echo_server: int
) -> None:
    proxy = client.create_proxy("echo", upstream=f"127.0.0.1:{echo_server}")
    port = proxy.port
    live = connect(port)
    with proxy.down():
        assert not client.get_proxy("echo").enabled
        assert live.recv(1) == b""  # the live connection was closed
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2)
    live.close()
    assert proxy.refresh().enabled and proxy.port == port
    with connect(port) as sock:
        round_trip(sock)


def test_populate_keeps_a_proxy_with_the_same_address(client: ToxiproxyClient, echo_server: int) -> None:
    upstream = f"127.0.0.1:{echo_server}"
    [first] = client.populate([{"name": "p", "listen": "127.0.0.1:0", "upstream": upstream}])
    first.add_toxic("latency", latency=5)
    [again] = client.populate([{"name": "p", "listen": first.listen, "upstream": upstream}])
    assert again.listen == first.listen
    assert [t.name for t in again.toxics()] == ["latency_downstream"]


def test_reset_enables_and_clears(client: ToxiproxyClient, echo_server: int) -> None:
    proxy = client.create_proxy("echo", upstream=f"127.0.0.1:{echo_server}")
    proxy.add_toxic("bandwidth", rate=1)
    proxy.disable()
    client.reset()
    proxy.refresh()
    assert proxy.enabled and proxy.toxics() == []


def test_non_loopback_upstreams_are_refused_before_any_request(toxiproxy: EmbeddedToxiproxy) -> None:
    with ToxiproxyClient(toxiproxy.url) as tp:
        with pytest.raises(TargetRefused, match=r"203\.0\.113\.9"):
            tp.create_proxy("far", upstream="203.0.113.9:443")
        assert tp.proxies() == {}
    with ToxiproxyClient(toxiproxy.url, allowed_hosts=["venue.uat.internal"]) as tp:
        proxy = tp.create_proxy("allowed", upstream="venue.uat.internal:443")
        assert (
            proxy.upstream == "venue.uat.internal:443"
        )  # created; nothing is dialled until a client connects
        with pytest.raises(TargetRefused):
            proxy.update(upstream="198.51.100.7:80")


def _real_toxiproxy(request: httpx.Request) -> httpx.Response:
    """What Toxiproxy 2.12 answers to a toxic type it does not know (api.go via http.Error)."""
    assert request.url.path == "/proxies/p/toxics"
    body = json.dumps({"error": "invalid toxic type", "status": 400}, separators=(",", ":")) + "\n"
    return httpx.Response(400, text=body, headers={"Content-Type": "text/plain; charset=utf-8"})


@pytest.mark.parametrize("toxic_type", ["packet_loss", "corrupt"])
def test_extension_toxics_on_a_real_toxiproxy_say_so(toxic_type: str) -> None:
    with ToxiproxyClient("http://toxiproxy.test:8474", transport=httpx.MockTransport(_real_toxiproxy)) as tp:
        proxy = Proxy(tp, ProxyInfo("p", "127.0.0.1:1", "127.0.0.1:2", True))
        with pytest.raises(ExtensionUnsupported, match="only the embedded fault plane implements") as info:
            proxy.add_toxic(toxic_type)
        assert toxic_type in str(info.value) and info.value.status == 400
        with pytest.raises(InvalidRequest) as plain:  # any other unknown type stays as it was
            proxy.add_toxic("walrus")
        assert not isinstance(plain.value, ExtensionUnsupported)


def test_extension_toxics_work_on_the_embedded_server(client: ToxiproxyClient, echo_server: int) -> None:
    proxy = client.create_proxy("echo", upstream=f"127.0.0.1:{echo_server}")
    loss = proxy.add_toxic("packet_loss", stream="upstream", rto_ms=50, seed=1)
    assert loss.attributes["rto_ms"] == 50 and loss.attributes["segment_size"] == 1448
    corrupt = proxy.add_toxic("corrupt", byte_ppm=0)
    assert corrupt.type == "corrupt"
    with connect(proxy.port) as sock:
        round_trip(sock)
