"""The price history: every step of every path, bounded, and served at GET /market/history."""

from __future__ import annotations

import asyncio

import httpx

from mocks.rithmic import RithmicGateway
from mocks.rithmic.history import PriceHistory
from mocks.rithmic.market import INSTRUMENTS, PricePath
from mocks.rithmic.runner import GatewayThread

from .conftest import run, wait_until

ES = ("ESZ6", "CME")


def test_history_keeps_the_newest_steps_and_answers_since() -> None:
    path, history = PricePath(INSTRUMENTS[0], 1), PriceHistory(maxlen=5)
    for _ in range(8):
        history.record(ES, path.step(), "")
    steps = history.since(ES)
    assert [s.seq for s in steps] == [4, 5, 6, 7, 8]
    assert [s.seq for s in history.since(ES, steps[2].ts)] == [s.seq for s in steps if s.ts > steps[2].ts]
    assert history.since(ES, steps[-1].ts) == [] and history.since(("NQZ6", "CME")) == []


def test_the_clock_records_every_step_with_its_regime() -> None:
    gw = RithmicGateway(seed=2)
    gw.faults.arm("trend_down", {"symbol": "NQZ6"})
    for _ in range(3):
        gw.clock.step()
    es, nq = gw.history.since(ES), gw.history.since(("NQZ6", "CME"))
    quote = gw.market.paths[ES].quote
    assert [s.seq for s in es] == [1, 2, 3] and (es[-1].bid_ticks, es[-1].ts) == (quote.bid_ticks, quote.ts)
    assert {s.regime for s in es} == {""} and {s.regime for s in nq} == {"trend_down"}


def test_market_history_route(gateway: GatewayThread) -> None:
    async def scenario() -> None:
        async with httpx.AsyncClient(base_url=gateway.control_url, timeout=5) as http:

            def rows() -> int:
                return len(gateway.call(lambda: gateway.gateway.history.since(ES)))

            assert await wait_until(lambda: rows() >= 6, 3)
            reply = await http.get("/market/history", params={"symbol": "ESZ6"})
            assert reply.status_code == 200
            body = reply.json()
            assert {k: body[k] for k in ("symbol", "exchange", "tick_size", "point_value")} == {
                "symbol": "ESZ6",
                "exchange": "CME",
                "tick_size": 0.25,
                "point_value": 50.0,
            }
            steps = body["steps"]
            assert len(steps) >= 6 and set(steps[0]) == {"ts", "seq", "bid", "ask", "last", "regime"}
            assert all(s["ask"] > s["bid"] and s["last"] in (s["bid"], s["ask"]) for s in steps)
            assert [s["seq"] for s in steps] == list(range(steps[0]["seq"], steps[-1]["seq"] + 1))
            since = steps[2]["ts"]
            newer = (await http.get("/market/history", params={"symbol": "ESZ6", "since": since})).json()
            assert newer["steps"][0]["seq"] == steps[3]["seq"]

            unknown = await http.get("/market/history", params={"symbol": "ZZZ9"})
            assert unknown.status_code == 404 and unknown.json()["field"] == "symbol"
            assert (await http.get("/market/history")).status_code == 404
            for bad in ("yesterday", "nan", "inf"):
                reply = await http.get("/market/history", params={"symbol": "ESZ6", "since": bad})
                assert reply.status_code == 400 and reply.json()["field"] == "since"

            refused = await http.post("/faults", json={"fault": "crash", "params": {"pct": 90}})
            assert refused.status_code == 400 and refused.json()["field"] == "params.pct"

            assert (await http.post("/reset")).status_code == 204
            after = (await http.get("/market/history", params={"symbol": "ESZ6"})).json()["steps"]
            assert not after or after[0]["seq"] == 1  # cleared, then the fresh path records again

    run(scenario())


def test_reset_clears_the_history() -> None:
    gw = RithmicGateway(seed=2)
    gw.clock.step()
    asyncio.run(gw.reset())
    assert gw.history.since(ES) == []
