"""The published toxiproxy-python 0.1.1 client, unchanged, driving the embedded server.

The client keeps its API host and port as class-level globals on `APIConsumer`, so the
fixture points them at this test's server and puts the old values back afterwards.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from toxiproxy import Toxiproxy
from toxiproxy.api import APIConsumer
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists

from harness.faults.embedded import EmbeddedToxiproxy
from harness.ports import free_port

# The client sets no request timeouts; this bounds every test instead.
pytestmark = pytest.mark.timeout(60)

IO_TIMEOUT_S = 5.0


@pytest.fixture
def client(toxiproxy: EmbeddedToxiproxy) -> Iterator[Toxiproxy]:
    saved = (APIConsumer.host, APIConsumer.port)
    server = Toxiproxy()
    server.update_api_consumer("127.0.0.1", toxiproxy.port)
    try:
        yield server
    finally:
        APIConsumer.host, APIConsumer.port = saved


def port_of(listen: str) -> int:
    return int(listen.rpartition(":")[2])


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def wait_accepts(port: int, expected: bool) -> bool:
    """A closed listener goes away asynchronously; poll for a bounded time."""
    deadline = time.monotonic() + IO_TIMEOUT_S
    while accepts(port) != expected:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def echo_round_trip(port: int, payload: bytes = b"ping") -> tuple[bytes, float]:
    """Send `payload` through the proxy to the echo server; return the reply and the time taken."""
    with socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT_S) as sock:
        sock.settimeout(IO_TIMEOUT_S)
        started = time.monotonic()
        sock.sendall(payload)
        received = b""
        while len(received) < len(payload):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        return received, time.monotonic() - started


def is_enabled(proxy: Any) -> bool | None:
    """The client's own record of the state, which disable() and enable() update locally."""
    state = proxy.enabled
    return state if isinstance(state, bool) else None


def make_proxy(client: Toxiproxy, echo_server: int, name: str = "echo", **kw: Any) -> Any:
    return client.create(upstream=f"127.0.0.1:{echo_server}", name=name, **kw)


def test_running_and_version(client: Toxiproxy) -> None:
    assert client.running() is True
    assert client.version() == b'{"version": "2.12.0"}\n'


def test_create_and_get(client: Toxiproxy, echo_server: int) -> None:
    proxy = make_proxy(client, echo_server, listen="127.0.0.1:0")
    assert proxy.name == "echo"
    assert proxy.upstream == f"127.0.0.1:{echo_server}"
    assert proxy.enabled is True
    assert proxy.listen.startswith("127.0.0.1:")
    assert port_of(proxy.listen) != 0

    fetched = client.get_proxy("echo")
    assert fetched is not None
    assert (fetched.name, fetched.listen, fetched.upstream, fetched.enabled) == (
        proxy.name,
        proxy.listen,
        proxy.upstream,
        True,
    )
    assert list(client.proxies()) == ["echo"]
    assert client.get_proxy("missing") is None
    assert echo_round_trip(port_of(proxy.listen))[0] == b"ping"


def test_create_default_listen_is_ephemeral(client: Toxiproxy, echo_server: int) -> None:
    proxy = make_proxy(client, echo_server)  # the client sends listen "127.0.0.1:0"
    assert port_of(proxy.listen) != 0
    assert echo_round_trip(port_of(proxy.listen))[0] == b"ping"


def test_create_disabled_keeps_listen(client: Toxiproxy, echo_server: int) -> None:
    port = free_port()
    proxy = make_proxy(client, echo_server, listen=f"127.0.0.1:{port}", enabled=False)
    assert proxy.enabled is False
    assert proxy.listen == f"127.0.0.1:{port}"
    assert not accepts(port)


def test_create_duplicate_raises_proxy_exists(client: Toxiproxy, echo_server: int) -> None:
    make_proxy(client, echo_server)
    with pytest.raises(ProxyExists):
        make_proxy(client, echo_server)
    # The client checks before posting; the server's own 409 maps to the same exception.
    with pytest.raises(ProxyExists) as raised:
        APIConsumer.post("/proxies", json={"name": "echo", "upstream": "127.0.0.1:1"})
    assert raised.value.args[0] == b'{"error":"proxy already exists","status":409}\n'


def test_add_toxic_applies_to_traffic(client: Toxiproxy, echo_server: int) -> None:
    proxy = make_proxy(client, echo_server)
    port = port_of(proxy.listen)
    proxy.add_toxic(type="latency", attributes={"latency": 200})

    toxics = proxy.toxics()
    assert list(toxics) == ["latency_downstream"]
    toxic = proxy.get_toxic("latency_downstream")
    assert toxic is not None
    assert (toxic.type, toxic.stream, toxic.toxicity) == ("latency", "downstream", 1)
    assert toxic.attributes == {"latency": 200, "jitter": 0}

    reply, elapsed = echo_round_trip(port)
    assert reply == b"ping"
    assert elapsed >= 0.19

    assert proxy.destroy_toxic("latency_downstream") is True
    assert proxy.toxics() == {}
    reply, elapsed = echo_round_trip(port)
    assert reply == b"ping"
    assert elapsed < 0.15


def test_add_toxic_named_upstream_with_toxicity(client: Toxiproxy, echo_server: int) -> None:
    proxy = make_proxy(client, echo_server)
    proxy.add_toxic(type="timeout", name="t", stream="upstream", toxicity=0.0)
    toxic = proxy.get_toxic("t")
    assert toxic is not None
    assert (toxic.stream, toxic.toxicity, toxic.attributes) == ("upstream", 0, {"timeout": 0})
    # Toxicity 0 never applies: data still flows although a timeout toxic is configured.
    assert echo_round_trip(port_of(proxy.listen))[0] == b"ping"


def test_disable_and_enable_keep_the_port(client: Toxiproxy, echo_server: int) -> None:
    proxy = make_proxy(client, echo_server)
    port = port_of(proxy.listen)

    proxy.disable()
    assert is_enabled(proxy) is False
    assert wait_accepts(port, False)
    fetched = client.get_proxy("echo")
    assert fetched is not None
    assert fetched.enabled is False
    assert fetched.listen == proxy.listen

    proxy.enable()
    assert is_enabled(proxy) is True
    fetched = client.get_proxy("echo")
    assert fetched is not None
    assert fetched.enabled is True
    assert fetched.listen == proxy.listen
    assert echo_round_trip(port)[0] == b"ping"


def test_down_context_manager(client: Toxiproxy, echo_server: int) -> None:
    proxy = make_proxy(client, echo_server)
    port = port_of(proxy.listen)
    with proxy.down():
        assert wait_accepts(port, False)
    assert echo_round_trip(port)[0] == b"ping"


def test_reset(client: Toxiproxy, echo_server: int) -> None:
    proxy = make_proxy(client, echo_server)
    port = port_of(proxy.listen)
    proxy.add_toxic(type="latency", attributes={"latency": 500})
    proxy.disable()
    assert wait_accepts(port, False)

    assert client.reset() is True
    fetched = client.get_proxy("echo")
    assert fetched is not None
    assert fetched.enabled is True
    assert fetched.listen == proxy.listen
    assert proxy.toxics() == {}
    reply, elapsed = echo_round_trip(port)
    assert reply == b"ping"
    assert elapsed < 0.4


def test_destroy(client: Toxiproxy, echo_server: int) -> None:
    proxy = make_proxy(client, echo_server)
    port = port_of(proxy.listen)
    assert client.destroy(proxy) is True
    assert client.get_proxy("echo") is None
    assert wait_accepts(port, False)
    with pytest.raises(NotFound):
        proxy.destroy()


def test_destroy_all(client: Toxiproxy, echo_server: int) -> None:
    make_proxy(client, echo_server, name="a")
    make_proxy(client, echo_server, name="b")
    assert sorted(client.proxies()) == ["a", "b"]
    client.destroy_all()
    assert client.proxies() == {}


def test_client_side_populate(client: Toxiproxy, echo_server: int) -> None:
    made = client.populate(
        [
            {"name": "one", "upstream": f"127.0.0.1:{echo_server}", "listen": "127.0.0.1:0"},
            {"name": "two", "upstream": f"127.0.0.1:{echo_server}", "listen": "127.0.0.1:0"},
        ]
    )
    assert [p.name for p in made] == ["one", "two"]
    assert sorted(client.proxies()) == ["one", "two"]


def test_errors_map_to_client_exceptions(client: Toxiproxy, echo_server: int) -> None:
    proxy = make_proxy(client, echo_server)
    with pytest.raises(InvalidToxic) as raised:
        proxy.add_toxic(type="latency", stream="lolstream")
    assert raised.value.args[0] == (
        b'{"error":"stream was invalid, can be either upstream or downstream","status":400}\n'
    )
    with pytest.raises(InvalidToxic):
        proxy.add_toxic(type="walrus")
    with pytest.raises(NotFound):
        proxy.destroy_toxic("missing")
    with pytest.raises(NotFound) as not_found:
        APIConsumer.get("/not_found")
    assert not_found.value.args[0] == b"404 page not found\n"
    assert proxy.toxics() == {}


def test_port_clash_is_a_500_the_client_does_not_raise(client: Toxiproxy, echo_server: int) -> None:
    """The 0.1.1 client ignores 500 and builds a Proxy from the error body: a KeyError."""
    first = make_proxy(client, echo_server, name="first")
    with pytest.raises(KeyError):
        make_proxy(client, echo_server, name="second", listen=first.listen)
    resp = APIConsumer.post("/proxies", json={"name": "second", "listen": first.listen, "upstream": "x:1"})
    assert resp.status_code == 500
    assert resp.json()["error"] == f"listen tcp {first.listen}: bind: address already in use"
    assert list(client.proxies()) == ["first"]
