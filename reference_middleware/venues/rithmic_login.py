"""A connection closed during async-rithmic's login again fails the login at once.

A plant's `_send` that meets a closed connection waits up to 60 s for the reconnect loop to log in
again, then retries. That is right for an order sent while the link is down, and a deadlock inside
the reconnect loop's own login (order plant: login, login info, then the 308 and 336 subscriptions):
the loop waits on itself until its 30 s login timeout. Rithmic's session limit does exactly that,
logging a plant out again while it subscribes, and the gate's session-limit storm caught the order
plant refusing orders for 30 s after the storm had ended. So while a login runs, a send on a closed
connection raises; the login fails, and the library's loop connects again after its usual interval.
"""

from __future__ import annotations

from typing import Any

from async_rithmic.helpers.concurrency import try_acquire_lock


def fail_fast_login(plant: Any) -> None:
    """Wraps `plant`'s `_login` and `_send` (instance attributes shadow the library's methods)."""
    login, send = plant._login, plant._send
    logging_in = False

    async def guarded_login() -> Any:
        nonlocal logging_in
        logging_in = True
        try:
            return await login()
        finally:
            logging_in = False

    async def guarded_send(message: bytes, template_id: int | None = None) -> None:
        if not logging_in:
            await send(message, template_id=template_id)
            return
        async with try_acquire_lock(plant, context=f"login_send_{template_id}"):
            await plant.ws.send(message)  # closed: ConnectionClosed, and the login fails now

    plant._login = guarded_login
    plant._send = guarded_send
