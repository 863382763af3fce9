"""A login again that meets a closed connection fails at once instead of waiting for a reconnect that
only it could make, with the real async-rithmic client against the Rithmic mock."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from async_rithmic import SysInfraType
from websockets.exceptions import ConnectionClosed

from mocks.rithmic import RithmicGateway
from mocks.rithmic.runner import GatewayThread
from reference_middleware.venues.rithmic_login import fail_fast_login
from tests.mocks.rithmic.conftest import make_client, run


@pytest.fixture
def gateway() -> Iterator[GatewayThread]:
    with GatewayThread(RithmicGateway(seed=7, ticks_per_second=5, heartbeat_interval=2.0)) as gt:
        yield gt


async def _logged_in_order_plant(gt: GatewayThread) -> tuple[object, object]:
    client = make_client(gt.url, gt.gateway.describe())
    await asyncio.wait_for(client.connect(plants=[SysInfraType.ORDER_PLANT]), 15)
    plant = client.plants["order"]
    await plant._stop_background_tasks()  # no reconnect loop: the login below is the one running
    await plant.ws.close()  # the session limit's close, landing just before the login sends
    return client, plant


def test_the_login_fails_at_once_on_a_closed_connection(gateway: GatewayThread) -> None:
    async def scenario() -> None:
        _, plant = await _logged_in_order_plant(gateway)
        fail_fast_login(plant)
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(plant._login(), 3)  # type: ignore[attr-defined]

    run(scenario())


def test_the_library_alone_waits_on_itself(gateway: GatewayThread) -> None:
    """The defect the guard exists for: unguarded, the same login waits for a reconnect (60 s)."""

    async def scenario() -> None:
        _, plant = await _logged_in_order_plant(gateway)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(plant._login(), 1.5)  # type: ignore[attr-defined]

    run(scenario())


def test_sends_outside_a_login_keep_the_library_behaviour(gateway: GatewayThread) -> None:
    """An order sent while the link is down still waits for the reconnect, as the library intends."""

    async def scenario() -> None:
        _, plant = await _logged_in_order_plant(gateway)
        fail_fast_login(plant)
        send = plant._send(b"\x00\x00\x00\x00", template_id=18)  # type: ignore[attr-defined]
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(send, 1.0)

    run(scenario())
