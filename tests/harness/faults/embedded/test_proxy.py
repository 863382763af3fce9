"""Toxiproxy's proxy_test.go, ported: messages pass intact, upstream failures, the proxy's
lifecycle (start, stop, update, enable/disable) against the embedded server, and the flow
control that keeps a stalled peer from growing the proxy's memory (reference §1, §2)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest

from harness.faults.embedded import ApiError, EmbeddedToxiproxy
from harness.faults.embedded.proxy import Proxy
from harness.loopthread import new_event_loop
from harness.ports import free_port

from ._netutil import (
    Api,
    Upstream,
    api_for,
    connect,
    echo,
    expect_closed,
    expect_eof,
    expect_silence,
    fill_until_blocked,
    is_listening,
    pattern_stream,
    recv_exact,
    recv_until_eof,
)

pytestmark = pytest.mark.usefixtures("loop_stays_clean")


def _send_and_close(port: int, upstream: Upstream, *parts: bytes) -> bytes:
    """Go's WithTCPProxy: write the parts, close, and return what the server read to EOF."""
    with connect(port) as client:
        server = upstream.accept()
        for part in parts:
            client.sendall(part)
    return recv_until_eof(server)


# -- messages ------------------------------------------------------------------------------


def test_simple_message(api: Api) -> None:
    with Upstream() as upstream:
        port = api.create("test", upstream.address)
        assert _send_and_close(port, upstream, b"hello world") == b"hello world"


def test_big_message(api: Api) -> None:
    """64 KiB in one write: larger than one 32 KiB read, so it crosses several chunks."""
    message = bytes(32 * 1024).hex().encode()
    with Upstream() as upstream:
        port = api.create("test", upstream.address)
        assert _send_and_close(port, upstream, message) == message


def test_two_part_message(api: Api) -> None:
    with Upstream() as upstream:
        port = api.create("test", upstream.address)
        received = _send_and_close(port, upstream, b"hello world", b"hello world")
        assert received == b"hello worldhello world"


def test_big_message_echoes_both_ways(api: Api, echo_server: int) -> None:
    message = bytes(range(256)) * 1024  # 256 KiB, every byte value, in order
    port = api.create("test", f"127.0.0.1:{echo_server}")
    with connect(port) as client:
        assert echo(client, message) == message


# -- upstream failures ---------------------------------------------------------------------


def test_proxy_to_down_upstream_gives_eof_not_refused(api: Api) -> None:
    """Go accepts first and dials after, so the client connects and then reads EOF."""
    port = api.create("test", f"127.0.0.1:{free_port()}")
    with connect(port) as client:  # a refused connect would raise here
        assert expect_eof(client, within=0.5) < 0.5


def test_down_upstream_recovers_when_it_comes_back(api: Api) -> None:
    """The dial happens per client: once the upstream listens, new clients get through."""
    with Upstream() as upstream:
        upstream.listener.close()
        port = api.create("test", upstream.address)
        with connect(port) as client:
            expect_eof(client, within=0.5)
        with socket.create_server(("127.0.0.1", upstream.port)) as listener, connect(port) as client:
            listener.settimeout(5)
            server, _ = listener.accept()
            with server:
                client.sendall(b"ping")
                server.settimeout(5)
                assert server.recv(16) == b"ping"


# -- lifecycle -----------------------------------------------------------------------------


def test_closing_proxy_multiple_times(api: Api, echo_server: int) -> None:
    port = api.create("test", f"127.0.0.1:{echo_server}")
    for _ in range(3):
        assert api.update("test", enabled=False)["enabled"] is False
    assert not is_listening(port)
    assert api.http.delete("/proxies/test").status_code == 204
    assert api.http.delete("/proxies/test").status_code == 404


def _run_on_server_loop(coro: Coroutine[Any, Any, None]) -> None:
    """Run on the loop the server itself uses (uvloop). CPython 3.11's own loop leaks a socket
    accepted just as its server closes (its transport refuses to attach), which would turn
    these unit tests into tests of asyncio."""
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(coro)


def test_proxy_stop_is_idempotent_at_the_object_level() -> None:
    async def scenario() -> None:
        proxy = Proxy("test", "127.0.0.1:0", "127.0.0.1:1")
        await proxy.start()
        port = int(proxy.listen.rpartition(":")[2])
        for _ in range(3):
            proxy.stop()
        assert proxy.enabled is False
        assert not await asyncio.to_thread(is_listening, port)
        await asyncio.sleep(0.05)  # let closing sockets finish, as the server's shutdown does

    _run_on_server_loop(scenario())


def test_start_two_proxies_on_same_address(api: Api, echo_server: int) -> None:
    port = api.create("test", f"127.0.0.1:{echo_server}")
    body = {"name": "proxy_2", "listen": f"127.0.0.1:{port}", "upstream": "127.0.0.1:3306"}
    reply = api.http.post("/proxies", json=body)
    assert reply.status_code == 500
    error = f"listen tcp 127.0.0.1:{port}: bind: address already in use"
    assert reply.json() == {"error": error, "status": 500}
    assert "proxy_2" not in api.http.get("/proxies").json()


def test_stop_proxy_before_starting() -> None:
    """Stop on a never-started proxy is harmless; a second start is refused."""

    async def scenario() -> None:
        proxy = Proxy("test", "127.0.0.1:0", "127.0.0.1:1")
        proxy.stop()
        await proxy.start()
        with pytest.raises(ApiError, match="already started"):
            await proxy.start()
        port = int(proxy.listen.rpartition(":")[2])
        assert await asyncio.to_thread(is_listening, port)
        proxy.stop()
        assert not await asyncio.to_thread(is_listening, port)
        await asyncio.sleep(0.05)  # let closing sockets finish, as the server's shutdown does

    _run_on_server_loop(scenario())


def test_proxy_update(api: Api, echo_server: int) -> None:
    port = api.create("test", f"127.0.0.1:{echo_server}")
    assert is_listening(port)

    moved = api.update("test", listen="localhost:0")
    new_port = int(moved["listen"].rpartition(":")[2])
    assert moved["listen"] == f"127.0.0.1:{new_port}"
    assert new_port != port
    assert is_listening(new_port)
    assert not is_listening(port)

    assert api.update("test", listen=moved["listen"], enabled=True)["listen"] == moved["listen"]
    assert is_listening(new_port)

    assert api.update("test", enabled=False)["enabled"] is False
    assert not is_listening(new_port)


def test_proxy_update_with_hostname_keeps_live_connections(api: Api, echo_server: int) -> None:
    """`localhost:P` resolves to the address already bound: nothing restarts."""
    port = api.create("test", f"127.0.0.1:{echo_server}")
    with connect(port) as client:
        assert echo(client, b"before") == b"before"
        updated = api.update("test", listen=f"localhost:{port}")
        assert updated["listen"] == f"127.0.0.1:{port}"
        assert echo(client, b"after") == b"after"


def test_restart_failed_to_start_proxy(api: Api, echo_server: int) -> None:
    upstream = f"127.0.0.1:{echo_server}"
    conflict_port = api.create("test2", upstream)
    api.create("test", upstream, listen=f"127.0.0.1:{conflict_port}", enabled=False)

    reply = api.http.patch("/proxies/test", json={"enabled": True})
    assert reply.status_code == 500
    assert "bind: address already in use" in reply.json()["error"]
    assert api.get("test")["enabled"] is False

    assert api.http.delete("/proxies/test2").status_code == 204
    assert api.update("test", enabled=True)["enabled"] is True
    with connect(conflict_port) as client:
        assert echo(client, b"up") == b"up"
    assert api.update("test", enabled=False)["enabled"] is False
    assert not is_listening(conflict_port)


def test_proxy_differs_on_upstream_restarts_and_drops_connections(api: Api) -> None:
    """A changed upstream counts as a different proxy: it restarts, live connections close."""
    with Upstream() as first, Upstream() as second:
        port = api.create("test", first.address)
        with connect(port) as client:
            old_server = first.accept()
            assert api.update("test", upstream=second.address)["listen"] == f"127.0.0.1:{port}"
            assert expect_eof(client, within=1.0) < 1.0
            assert expect_eof(old_server, within=1.0) < 1.0
        with connect(port) as client:
            new_server = second.accept()
            client.sendall(b"moved")
            assert new_server.recv(16) == b"moved"


def test_populate_keeps_same_proxy_and_replaces_a_different_one(api: Api, echo_server: int) -> None:
    """Go's TestProxyDiffers through /populate: only a real difference replaces the proxy."""
    upstream = f"127.0.0.1:{echo_server}"
    port = api.create("test", upstream)
    api.add_toxic("test", "latency", latency=1)
    same = [{"name": "test", "listen": f"localhost:{port}", "upstream": upstream}]
    assert api.http.post("/populate", json=same).status_code == 201
    assert [t["name"] for t in api.get("test")["toxics"]] == ["latency_downstream"]

    other = [{"name": "test", "listen": f"127.0.0.1:{port}", "upstream": f"127.0.0.1:{free_port()}"}]
    assert api.http.post("/populate", json=other).status_code == 201
    assert api.get("test")["toxics"] == []


# -- enabled:false -------------------------------------------------------------------------


def test_disable_closes_listener_and_every_connection(api: Api) -> None:
    with Upstream() as upstream:
        port = api.create("test", upstream.address)
        api.add_toxic("test", "latency", latency=1)
        clients = [connect(port) for _ in range(3)]
        servers = [upstream.accept() for _ in clients]
        try:
            for client, server in zip(clients, servers, strict=True):
                client.sendall(b"x")
                assert server.recv(1) == b"x"
            assert api.update("test", enabled=False)["enabled"] is False
            assert not is_listening(port)
            for sock in clients + servers:
                assert expect_eof(sock, within=1.0) < 1.0
        finally:
            for client in clients:
                client.close()

        enabled = api.update("test", enabled=True)
        assert enabled["listen"] == f"127.0.0.1:{port}"
        assert [t["name"] for t in enabled["toxics"]] == ["latency_downstream"]
        with connect(port) as client:
            server = upstream.accept()
            server.sendall(b"back")
            assert client.recv(16) == b"back"


def test_delete_closes_listener_and_connections(api: Api, echo_server: int) -> None:
    port = api.create("test", f"127.0.0.1:{echo_server}")
    with connect(port) as client:
        assert echo(client, b"hi") == b"hi"
        assert api.http.delete("/proxies/test").status_code == 204
        assert expect_eof(client, within=1.0) < 1.0
    assert not is_listening(port)


def test_delete_with_a_peer_that_never_reads_leaves_no_socket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Data the upstream never takes must not keep a socket open after the proxy goes: the
    server's thread then closes its loop cleanly (uvloop refuses while a transport lives)."""
    crashes: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: crashes.append(args.exc_value))
    with (
        Upstream() as upstream,
        EmbeddedToxiproxy(host="127.0.0.1", port=0) as server,
        api_for(server) as api,
    ):
        port = api.create("test", upstream.address)
        with connect(port) as client:
            upstream.accept()
            assert fill_until_blocked(client) > 0
            assert api.http.delete("/proxies/test").status_code == 204
            expect_closed(client, within=2.0)
    assert crashes == []


def _stalled_upstream() -> tuple[socket.socket, list[socket.socket]]:
    """A listener whose accept queue is full: a new connect to it hangs (SYNs are dropped)."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=0)
    fillers: list[socket.socket] = []
    for _ in range(8):
        filler = socket.socket()
        filler.setblocking(False)
        fillers.append(filler)
        if filler.connect_ex(listener.getsockname()) != 0:
            break  # this one is stuck in SYN_SENT: the queue is full
    return listener, fillers


@pytest.mark.parametrize("how", ["delete", "server_stop"])
def test_stop_while_the_upstream_dial_hangs(monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """A client waiting on a slow upstream dial is closed when the proxy or server stops."""
    crashes: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: crashes.append(args.exc_value))
    listener, fillers = _stalled_upstream()
    upstream = f"127.0.0.1:{listener.getsockname()[1]}"
    try:
        with EmbeddedToxiproxy(host="127.0.0.1", port=0) as server, api_for(server) as api:
            port = api.create("test", upstream)
            client = connect(port)
            client.sendall(b"waiting")
            expect_silence(client, 0.2)  # the dial is still pending: no EOF yet
            if how == "delete":
                assert api.http.delete("/proxies/test").status_code == 204
                assert expect_eof(client, within=1.0) < 1.0
        assert expect_eof(client, within=1.0) < 1.0
        client.close()
    finally:
        for sock in [listener, *fillers]:
            sock.close()
    assert crashes == []


# -- flow control --------------------------------------------------------------------------


def test_a_reader_that_stops_stops_the_writer(api: Api) -> None:
    """No toxic: an upstream that reads nothing stalls the client through the proxy (the
    proxy stops reading), instead of growing the proxy's memory. Then every byte arrives."""
    with Upstream() as upstream:
        port = api.create("test", upstream.address)
        with connect(port) as client:
            server = upstream.accept()
            sent = fill_until_blocked(client)
            assert 0 < sent < 16 << 20, f"{sent >> 20} MiB accepted"  # kernel buffers only
            received = recv_exact(server, sent)
    assert received == pattern_stream(sent)


def _tcp_rmem_max() -> int:
    """The most a TCP socket's receive buffer may autotune to here (tcp_rmem's third field)."""
    try:
        return int(Path("/proc/sys/net/ipv4/tcp_rmem").read_text().split()[2])
    except (OSError, IndexError, ValueError):
        return 6 << 20  # Linux's default maximum


def test_a_toxic_holds_a_bounded_amount(api: Api) -> None:
    """A long latency toxic holds what it reads, up to a bound (Go's latency toxic buffers
    1024 chunks; here 32 MiB), then the proxy stops reading. Removing the toxic releases
    all of it, in order. The latency outlasts any fill (a 10 s one let the first chunks through
    to the upstream's socket buffers when filling took longer than that on a loaded box)."""
    with Upstream() as upstream:
        port = api.create("test", upstream.address)
        api.add_toxic("test", "latency", stream="upstream", name="slow", latency=300_000)
        with connect(port) as client:
            server = upstream.accept()
            sent = fill_until_blocked(client)
            # 32 MiB held, plus what the kernel buffers on the way: the client's send buffer and the
            # proxy's receive buffer, which loopback autotuning may grow to tcp_rmem's maximum (32 MiB
            # on some hosts, where 55 MiB was once accepted). Unbounded would be gigabytes by now.
            kernel = client.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) + _tcp_rmem_max()
            assert 16 << 20 < sent < (32 << 20) + kernel + (4 << 20), f"{sent >> 20} MiB accepted"
            api.remove_toxic("test", "slow")
            received = recv_exact(server, sent)
    assert received == pattern_stream(sent)
