"""Fixtures for the CQG mock's tests: the real gateway on port 0 on its own thread, the project's client
(reference_middleware/venues/cqg.py), a raw WebSocket client for protocol-level cases, and bounded waits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from mocks.cqg import CQGConfig, CQGGateway
from mocks.cqg.proto import webapi_pb2 as pb
from reference_middleware.venues.cqg import CQGClient
from tests.mocks.venue_thread import VenueThread

T = TypeVar("T")
ACCOUNT = 10001


def run(coro: Coroutine[Any, Any, T], timeout: float = 20.0) -> T:
    """Run one async scenario on a fresh loop, bounded in time."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def eventually(check: Callable[[], bool | Awaitable[bool]], timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.02)


def make_gateway(**config: Any) -> CQGGateway:
    settings = {"ping_interval_s": 5.0, "pong_timeout_s": 10.0, **config}
    return CQGGateway(seed=7, ticks_per_second=20, config=CQGConfig(**settings))


@pytest.fixture
def cqg() -> Iterator[VenueThread]:
    with VenueThread(make_gateway()) as vt:
        yield vt


@pytest.fixture
def control(cqg: VenueThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=cqg.control_url, timeout=5) as client:
        yield client


def creds(vt: VenueThread) -> dict[str, Any]:
    return vt.venue.describe()


def client(vt: VenueThread, **options: Any) -> CQGClient:
    c = creds(vt)
    return CQGClient(vt.url, c["user"], c["password"], **{"request_timeout_s": 3.0, **options})


def arm(
    control: httpx.Client, fault: str, params: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    reply = control.post("/faults", json={"fault": fault, "params": params or {}, **extra})
    assert reply.status_code == 201, reply.text
    data: dict[str, Any] = reply.json()
    return data


def events(control: httpx.Client, kind: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = control.get("/events", params={"kind": kind}).json()["events"]
    return data


class Raw:
    """A bare WebAPI client: exact bytes out, every ServerMsg in."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, url: str) -> Raw:
        return cls(await connect(url, compression=None, open_timeout=5, ping_interval=None, max_size=None))

    async def send(self, **fields: Any) -> None:
        msg = pb.ClientMsg()
        for name, value in fields.items():
            if isinstance(value, list):
                getattr(msg, name).extend(value)
            else:
                getattr(msg, name).CopyFrom(value)
        await self.ws.send(msg.SerializeToString())

    async def recv(self, timeout: float = 3.0) -> pb.ServerMsg:
        data = await asyncio.wait_for(self.ws.recv(), timeout)
        assert isinstance(data, bytes), data
        msg = pb.ServerMsg()
        msg.ParseFromString(data)
        return msg

    async def expect(self, field: str, timeout: float = 3.0) -> pb.ServerMsg:
        """The next ServerMsg carrying `field`, skipping others (market data, pings) on the way."""
        deadline = time.monotonic() + timeout
        while True:
            msg = await self.recv(max(deadline - time.monotonic(), 0.01))
            if msg.HasField(field) if field in _SINGULAR else len(getattr(msg, field)):
                return msg

    async def logon(
        self, c: dict[str, Any], settings: tuple[int, ...] = (1,), app: str = "raw"
    ) -> pb.LogonResult:
        await self.send(logon=logon_msg(c, settings, app))
        result: pb.LogonResult = (await self.expect("logon_result")).logon_result
        return result

    async def closed(self, timeout: float = 3.0) -> int | None:
        """Read until the server closes; the close code."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                await asyncio.wait_for(self.ws.recv(), max(deadline - time.monotonic(), 0.01))
        except Exception:
            pass
        rcvd = self.ws.protocol.close_rcvd
        await self.close()  # finish the closing handshake here, so no socket outlives the test's loop
        return rcvd.code if rcvd is not None else None

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.ws.close(), 3)
        finally:
            self.ws.transport.abort()


_SINGULAR = {"logon_result", "restore_or_join_session_result", "logged_off", "ping", "pong"}


def logon_msg(c: dict[str, Any], settings: tuple[int, ...] = (1,), app: str = "raw", **over: Any) -> pb.Logon:
    fields = dict(
        user_name=c["user"],
        password=c["password"],
        client_app_id=app,
        client_version="1",
        protocol_version_major=2,
        protocol_version_minor=230,
        session_settings=list(settings),
    )
    fields.update(over)
    return pb.Logon(**fields)
