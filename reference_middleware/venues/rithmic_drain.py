"""async-rithmic's receive loop, one turn of the event loop per message instead of three.

Each plant reads its socket in a loop around `asyncio.wait_for(self._recv(), ...)`. On Python 3.11
wait_for runs the read as a task of its own, so a message that is already buffered still takes three
turns of the event loop (the task starts, finishes, then wakes the loop) before it reaches the
plant's queue. With thousands of stream clients a turn takes milliseconds, so the order plant could
read only a few hundred messages a second; at the open each order brings half a dozen (its answer and
its notifications), the answer to a new order queued behind the others' notifications, and orders
timed out with the venue answering in 2 ms. So after each message the read here also takes every
further whole message the connection has already buffered, in order, and puts them straight on the
plant's queue, where the library would have put them. A message still arriving, or a connection
other than the websockets one this was written against, leaves the library's own path untouched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any


def whole_message_buffered(ws: Any) -> bool:
    """True when `ws.recv()` would return at once: a complete message is at the head of its buffer."""
    frames = getattr(getattr(ws, "recv_messages", None), "frames", None)
    queue = getattr(frames, "queue", None)
    if not queue:
        return False
    return bool(getattr(queue[0], "fin", False))


def draining(plant: Any, read: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
    """A `_recv` for `plant`: the next message as before, or, when more are buffered behind it, all of
    them queued in arrival order and None returned (the library's loop then queues nothing)."""

    async def recv() -> Any:
        first = await read()
        if not whole_message_buffered(plant.ws):
            return first
        queue = plant._inbound_queue
        queue.put_nowait(first)
        while whole_message_buffered(plant.ws):
            queue.put_nowait(await read())
        return None

    return recv
