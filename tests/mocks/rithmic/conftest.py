"""Fixtures for the Rithmic gateway tests: a gateway on its own thread, the real async-rithmic client,
a raw R|Protocol WebSocket client for what async-rithmic hides, and bounded waits.

Known async-rithmic 1.6.6 quirks these tests accept (see ../shared/reference/rithmic.md, "Client pitfalls"):
- `RithmicClient` always builds an SSL context trusting only Rithmic's root, so for ws:// the tests set
  `client.ssl_context = None`, and for wss:// a context trusting the mock's certificate.
- Errors from the gateway (rejected order, cancel of an unknown order) never raise to the caller: the
  call returns an empty or partial list and the error is only logged.
- A rejected login makes `connect()` raise AttributeError, not RithmicErrorResponse.
- Reject (75) and ForcedLogout (77) are only logged; recovery needs the server to close the socket.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from async_rithmic import ReconnectionSettings, RetrySettings, RithmicClient, SysInfraType
from websockets.asyncio.client import ClientConnection, connect

from mocks.rithmic import RithmicGateway
from mocks.rithmic.protocol import Message, build, decode, frame
from mocks.rithmic.runner import GatewayThread

T = TypeVar("T")
PLANTS = [SysInfraType.TICKER_PLANT, SysInfraType.ORDER_PLANT, SysInfraType.PNL_PLANT]

# async-rithmic's own stdout handler makes test output noisy; its records still reach caplog.
logging.getLogger("rithmic").handlers.clear()


def run(coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
    """Run one async scenario on a fresh loop, bounded in time."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(interval)
    return predicate()


@pytest.fixture
def gateway() -> Iterator[GatewayThread]:
    """A fresh gateway (seed 7, 20 steps/s, 2 s heartbeat interval) with its control API."""
    with GatewayThread(RithmicGateway(seed=7, ticks_per_second=20, heartbeat_interval=2.0)) as gt:
        yield gt


def make_client(
    url: str, creds: dict[str, Any], *, password: str | None = None, **kwargs: Any
) -> RithmicClient:
    client = RithmicClient(
        user=creds["user"],
        password=password if password is not None else creds["password"],
        system_name=creds["system_name"],
        app_name="stack-uat-tests",
        app_version="0.1",
        url=url,
        reconnection_settings=ReconnectionSettings(max_retries=100, backoff_type="constant", interval=0.2),
        retry_settings=RetrySettings(max_retries=1, timeout=3.0),
        **kwargs,
    )
    client.ssl_context = None  # quirk: the client always builds a wss context; plain ws:// needs None
    return client


class Recorder:
    """Collects everything the client's callbacks deliver."""

    def __init__(self, client: RithmicClient) -> None:
        self.ticks: list[dict[str, Any]] = []
        self.rithmic: list[Any] = []
        self.exchange: list[Any] = []
        self.instrument_pnl: list[Any] = []
        self.account_pnl: list[Any] = []
        self.connected: list[str] = []
        client.on_tick += self.ticks.append
        client.on_rithmic_order_notification += self.rithmic.append
        client.on_exchange_order_notification += self.exchange.append
        client.on_instrument_pnl_update += self.instrument_pnl.append
        client.on_account_pnl_update += self.account_pnl.append
        client.on_connected += self.connected.append

    def fills(self, tag: str) -> list[Any]:
        return [e for e in self.exchange if e.notify_type == 5 and e.user_tag == tag]


async def connected_client(
    gt: GatewayThread, plants: list[Any] | None = None, url: str | None = None
) -> tuple[RithmicClient, Recorder]:
    client = make_client(url or gt.url, gt.gateway.describe())
    recorder = Recorder(client)
    await asyncio.wait_for(client.connect(plants=plants or PLANTS), 15)
    return client, recorder


class Control:
    """The gateway's control API, as the harness drives it."""

    def __init__(self, gt: GatewayThread) -> None:
        self.http = httpx.AsyncClient(base_url=gt.control_url, timeout=5.0)

    async def arm(self, fault: str, params: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
        reply = await self.http.post("/faults", json={"fault": fault, "params": params or {}, **extra})
        assert reply.status_code == 201, reply.text
        data: dict[str, Any] = reply.json()
        return data

    async def clear(self) -> None:
        assert (await self.http.delete("/faults")).status_code == 200

    async def ledger(self) -> dict[str, Any]:
        data: dict[str, Any] = (await self.http.get("/ledger")).json()
        return data

    async def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        params = {"kind": kind} if kind else {}
        data: list[dict[str, Any]] = (await self.http.get("/events", params=params)).json()["events"]
        return data

    async def close(self) -> None:
        await self.http.aclose()


class RawClient:
    """A bare R|Protocol client: exact control over framing and bytes, and sight of every frame."""

    def __init__(self, ws: ClientConnection, prefixed: bool = True) -> None:
        self.ws = ws
        self.prefixed = prefixed
        self.seq = 0

    @classmethod
    async def open(cls, url: str, prefixed: bool = True) -> RawClient:
        return cls(await connect(url, compression=None, open_timeout=5), prefixed)

    async def send(self, template_id: int, **fields: Any) -> str:
        self.seq += 1
        tag = f"req-{self.seq}"
        fields.setdefault("user_msg", [tag])
        await self.ws.send(frame(build(template_id, **fields).SerializeToString(), self.prefixed))
        return tag

    async def recv_raw(self, timeout: float = 2.0) -> bytes:
        data = await asyncio.wait_for(self.ws.recv(), timeout)
        assert isinstance(data, bytes)
        return data

    async def recv(self, timeout: float = 2.0) -> tuple[int, Message]:
        return decode(await self.recv_raw(timeout), self.prefixed)

    async def expect(self, template_id: int, timeout: float = 2.0) -> Message:
        """The next message of this template, skipping others (ticks, pushes) on the way."""
        deadline = time.monotonic() + timeout
        while True:
            tid, message = await self.recv(max(deadline - time.monotonic(), 0.01))
            if tid == template_id:
                return message

    async def login(self, creds: dict[str, Any], infra_type: int = 1) -> Message:
        await self.send(
            10,
            template_version="3.9",
            user=creds["user"],
            password=creds["password"],
            system_name=creds["system_name"],
            app_name="raw",
            app_version="0",
            infra_type=infra_type,
        )
        return await self.expect(11)

    async def close(self) -> None:
        await self.ws.close()


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.05)
    return await check()


async def shutdown(client: RithmicClient) -> None:
    """disconnect(), then close what it leaves behind.

    Quirk: `disconnect()` skips a plant whose socket is not open at that moment, e.g. one in the middle
    of a reconnect, so its reconnect task and its new socket outlive the call. Tests that cut
    connections must not leak them into the next test, so stop and close those too.
    """
    await client.disconnect()
    for plant in client.plants.values():
        await plant._stop_background_tasks()
        if plant.ws is not None:
            await asyncio.wait_for(plant.ws.close(), 5)
