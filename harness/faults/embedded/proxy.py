"""A proxy: one listener, its upstream, its toxics, and the connections it carries."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
from typing import Any

from .errors import TOXIC_NOT_FOUND, ApiError, BindError
from .link import Connection, Side
from .toxics import ToxicSpec, new_toxic, update_toxic

log = logging.getLogger("harness.toxiproxy")


def split_host_port(address: str) -> tuple[str, int]:
    """Split `host:port` the way Go's net.SplitHostPort does (`[v6]:port` included).

    An empty address is Go's "any interface, any port", which toxiproxy-python relies on."""
    if address == "":
        return "", 0
    host, sep, port = address.rpartition(":")
    if not sep:
        raise BindError(f"listen tcp: address {address}: missing port in address")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise BindError(f"listen tcp: address {address}: too many colons in address")
    try:
        number = int(port) if port else 0
    except ValueError:
        raise BindError(f"listen tcp: lookup tcp/{port}: unknown port") from None
    if not 0 <= number <= 65535:
        raise BindError(f"listen tcp: address {number}: invalid port")
    return host, number


def format_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def resolve_listen(loop: asyncio.AbstractEventLoop, listen: str) -> tuple[str, int]:
    """Resolve like Go's ResolveTCPAddr: names become addresses, IPv4 preferred; "" stays ""."""
    host, port = split_host_port(listen)
    if not host:
        return "", port
    with contextlib.suppress(ValueError):
        return str(ipaddress.ip_address(host)), port
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise BindError(f"listen tcp: lookup {host}: no such host") from None
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    return str(infos[0][4][0]), port


class Proxy:
    def __init__(self, name: str, listen: str, upstream: str, *, seed: int | None = None) -> None:
        self.name = name
        self.listen = listen
        self.upstream = upstream
        self.enabled = False
        self.toxics: dict[str, list[ToxicSpec]] = {"upstream": [], "downstream": []}
        self.connections: set[Connection] = set()
        self._server: asyncio.AbstractServer | None = None
        self._dialling: dict[Side, asyncio.Task[None]] = {}
        self._finished_bytes = {"upstream": [0, 0], "downstream": [0, 0]}
        # The server's seed, if it has one; with the proxy's name and each toxic's link ordinal
        # it seeds every random draw of the toxics (stagebase.stage_rng).
        self.seed = seed
        self._accepted_count = 0

    # -- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        if self.enabled:
            raise ApiError(f"Proxy {self.name} is already started", 500)
        loop = asyncio.get_running_loop()
        host, port = await resolve_listen(loop, self.listen)
        sock = _bind(host, port)
        self._server = await loop.create_server(self._new_client, sock=sock)
        bound_host, bound_port = sock.getsockname()[:2]
        self.listen = format_address("::" if not host else bound_host, bound_port)
        self.enabled = True
        log.info("proxy %s listening on %s -> %s", self.name, self.listen, self.upstream)

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for client, task in list(self._dialling.items()):
            task.cancel()
            client.close()
        self._dialling.clear()
        for conn in list(self.connections):
            conn.close()
        if self.enabled:
            log.info("proxy %s stopped", self.name)
        self.enabled = False

    # -- connections -----------------------------------------------------------------
    def _new_client(self) -> Side:
        side = Side()
        side.on_made = self._accepted
        return side

    def _accepted(self, client: Side) -> None:
        assert client.transport is not None
        client.transport.pause_reading()
        self._dialling[client] = asyncio.get_running_loop().create_task(self._dial(client))

    async def _dial(self, client: Side) -> None:
        loop = asyncio.get_running_loop()
        upstream = Side()
        try:
            host, port = split_host_port(self.upstream)
            # Go dials an empty host as the local system.
            await loop.create_connection(lambda: upstream, host or "localhost", port)
        except (OSError, ApiError) as exc:
            # Go accepts first and dials after: the client sees EOF, not "connection refused".
            log.warning("proxy %s: upstream %s unreachable: %s", self.name, self.upstream, exc)
            client.close()
            return
        except asyncio.CancelledError:
            # Stopped mid-dial: stop() closes the clients it knows of, but one accepted just
            # as the listener closed is only reached here, when the shutdown cancels the task.
            upstream.close()
            client.close()
            raise
        finally:
            self._dialling.pop(client, None)
        assert client.transport is not None
        if client.transport.is_closing() or not self.enabled:
            upstream.close()
            client.close()
            return
        toxics = self.toxics["upstream"] + self.toxics["downstream"]
        number = self._accepted_count
        self._accepted_count += 1
        conn = Connection(
            loop, client, upstream, toxics, self._finished, seed=self.seed, rng_key=self.name, number=number
        )
        self.connections.add(conn)

    def _finished(self, conn: Connection) -> None:
        self.connections.discard(conn)
        for direction, link in conn.links.items():
            self._finished_bytes[direction][0] += link.bytes_in
            self._finished_bytes[direction][1] += link.bytes_out

    def byte_counts(self) -> dict[str, tuple[int, int]]:
        """Bytes received and sent per direction, over finished and live connections."""
        counts: dict[str, tuple[int, int]] = {}
        for direction, (received, sent) in self._finished_bytes.items():
            for conn in self.connections:
                link = conn.links[direction]
                received, sent = received + link.bytes_in, sent + link.bytes_out
            counts[direction] = (received, sent)
        return counts

    # -- toxics ----------------------------------------------------------------------
    def all_toxics(self) -> list[ToxicSpec]:
        return self.toxics["upstream"] + self.toxics["downstream"]

    def find_toxic(self, name: str) -> ToxicSpec:
        for spec in self.all_toxics():
            if spec.name == name:
                return spec
        raise ApiError(TOXIC_NOT_FOUND, 404)

    def add_toxic(self, body: Any) -> ToxicSpec:
        spec = new_toxic(body, {t.name for t in self.all_toxics()})
        self.toxics[spec.stream].append(spec)
        for conn in sorted(self.connections, key=lambda c: c.number):  # ordinals, oldest first
            conn.links[spec.stream].add_toxic(spec)
        return spec

    def update_toxic(self, name: str, body: Any) -> ToxicSpec:
        spec = self.find_toxic(name)
        update_toxic(spec, body)  # a bad body raises here, after applying what fitted (as Go)
        for conn in list(self.connections):
            conn.links[spec.stream].update_toxic(spec)
        return spec

    def remove_toxic(self, name: str) -> None:
        spec = self.find_toxic(name)
        self.toxics[spec.stream].remove(spec)
        for conn in list(self.connections):
            conn.links[spec.stream].remove_toxic(name)

    def remove_all_toxics(self) -> None:
        for spec in self.all_toxics():
            self.remove_toxic(spec.name)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "listen": self.listen,
            "upstream": self.upstream,
            "enabled": self.enabled,
            "toxics": [t.to_json() for t in self.all_toxics()],
        }


def _bind(host: str, port: int) -> socket.socket:
    """Bind a listening socket ourselves so "" gets one dual-stack port, like Go's listener."""
    family = socket.AF_INET6 if not host or ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if not host:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind((host or "::", port))
        sock.listen(1024)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        reason = (exc.strerror or str(exc)).lower()
        raise BindError(f"listen tcp {format_address(host, port)}: bind: {reason}") from None
    return sock
