"""The plant's read takes every whole message already buffered, in order, in one turn."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from reference_middleware.venues.rithmic_drain import draining, whole_message_buffered


async def _with_burst(count: int, check: Any) -> Any:
    async def burst(ws: ServerConnection) -> None:
        for i in range(count):
            await ws.send(i.to_bytes(4, "big"))
        await ws.wait_closed()

    async with serve(burst, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}") as ws:
            plant = SimpleNamespace(ws=ws, _inbound_queue=asyncio.Queue())
            return await check(plant)


def test_a_burst_is_queued_in_order_a_buffer_at_a_time_not_a_message_at_a_time() -> None:
    """200 messages sent at once reach the plant's queue in order, in far fewer reads than messages
    (websockets pauses its socket past its own high-water mark, so one read takes what is buffered)."""

    async def check(plant: Any) -> tuple[int, list[int]]:
        await asyncio.sleep(0.3)  # the burst has arrived
        assert whole_message_buffered(plant.ws)
        recv = draining(plant, plant.ws.recv)
        reads, got = 0, list[int]()
        while len(got) < 200:
            reads += 1
            returned = await recv()
            while not plant._inbound_queue.empty():
                got.append(int.from_bytes(plant._inbound_queue.get_nowait(), "big"))
            if returned is not None:
                got.append(int.from_bytes(returned, "big"))
        return reads, got

    reads, got = asyncio.run(_with_burst(200, check))
    assert got == list(range(200))
    assert reads <= 200 // 4, reads


def test_a_lone_message_is_returned_as_the_library_expects() -> None:
    async def check(plant: Any) -> tuple[Any, int]:
        recv = draining(plant, plant.ws.recv)
        return await recv(), plant._inbound_queue.qsize()

    returned, queued = asyncio.run(_with_burst(1, check))
    assert returned == (0).to_bytes(4, "big") and queued == 0


def test_an_unknown_connection_keeps_the_librarys_path() -> None:
    assert not whole_message_buffered(object())
    assert not whole_message_buffered(SimpleNamespace(recv_messages=SimpleNamespace(frames=None)))
