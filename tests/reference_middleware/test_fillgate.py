"""Fills reported but not yet booked hold back their account's next risk check, and only theirs."""

from __future__ import annotations

import asyncio

from reference_middleware.fillgate import FillsInFlight


def test_an_account_with_a_fill_in_flight_waits_until_it_is_booked() -> None:
    async def scenario() -> tuple[bool, bool, float, bool]:
        fills = FillsInFlight()
        fills.bind("o-1", "ACC-A")
        fills.bind("o-2", "ACC-B")
        account = fills.received("o-1")
        assert account == "ACC-A" and fills.pending("ACC-A") == 1
        other_free = await fills.settled("ACC-B", 0.01)  # another account does not wait
        loop = asyncio.get_running_loop()
        started = loop.time()
        loop.call_later(0.2, fills.handled, account)
        settled = await fills.settled("ACC-A", 2.0)
        waited = loop.time() - started
        return other_free, settled, waited, fills.pending("ACC-A") == 0

    other_free, settled, waited, drained = asyncio.run(scenario())
    assert other_free and settled and drained
    assert 0.15 <= waited < 1.0  # it waited for the booking, and no longer


def test_a_fill_never_booked_runs_out_the_wait_and_says_so() -> None:
    async def scenario() -> tuple[bool, int]:
        fills = FillsInFlight()
        fills.bind("o-1", "ACC-A")
        fills.received("o-1")
        fills.received("o-1")  # a partial fill and the rest
        fills.handled("ACC-A")
        return await fills.settled("ACC-A", 0.1), fills.pending("ACC-A")

    settled, pending = asyncio.run(scenario())
    assert settled is False and pending == 1


def test_an_order_this_service_did_not_take_is_not_tracked() -> None:
    fills = FillsInFlight()
    assert fills.received("placed-before-a-restart") is None
    fills.handled(None)  # nothing to uncount
    assert fills.pending("ACC-A") == 0
