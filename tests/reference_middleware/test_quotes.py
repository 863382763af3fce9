"""GET /v1/quotes/{symbol} and the stream's stale flag, against the Rithmic mock's real price path: a
quote is one the venue showed, and a symbol whose market data stops is said to be stale, on the API
and on the stream, until its next quote."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect
from websockets.sync.connection import Connection

from reference_middleware.hub import Hub
from reference_middleware.quotes import decimal_text

from .conftest import Env, wait_for
from .mutant_cases import Outcome, Scenario, case_tests

STALE_ENV = {"REFMW_STALE_QUOTE_S": "1", "REFMW_QUOTE_INTERVAL_MS": "250"}


@pytest.fixture
def fresh(env: Env) -> Env:
    env.restart()
    return env


def _first_quote(env: Env, symbol: str = "ESZ6") -> dict[str, Any]:
    answer = wait_for(lambda: env.quote(symbol), lambda r: r.status_code == 200, 10)
    assert answer.status_code == 200, answer.text
    quote: dict[str, Any] = answer.json()
    return quote


def _shown_by_venue(env: Env, symbol: str = "ESZ6") -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A quote and the venue's steps it can be found among. A venue step reaches the middleware as
    two messages (the touch, then the trade), so a read between them is retried, a few times."""

    def read() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        quote: dict[str, Any] = env.quote(symbol).json()
        return quote, env.market_steps(symbol)

    return wait_for(read, lambda qs: _match(*qs) is not None, 3, 0.05)


def _match(quote: dict[str, Any], steps: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The latest venue step whose bid, ask and last the quote shows."""
    shown = tuple(None if quote[k] is None else float(quote[k]) for k in ("bid", "ask", "last"))
    for step in reversed(steps):
        if (step["bid"], step["ask"], step["last"]) == shown:
            found: dict[str, Any] = step
            return found
    return None


def _stream_until(ws: Connection, ok: Callable[[dict[str, Any]], bool], timeout: float) -> list[Any]:
    """The stream's quotes until one satisfies `ok` (the last one then), or the timeout."""
    seen: list[Any] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            message = json.loads(ws.recv(timeout=max(deadline - time.monotonic(), 0.01)))
        except TimeoutError:
            break
        if message["type"] == "quote":
            seen.append(message["quote"])
            if ok(message["quote"]):
                break
    return seen


def _stream(env: Env, symbols: str = "ESZ6") -> ClientConnection:
    url = env.base.replace("http://", "ws://") + f"/v1/stream?symbols={symbols}"
    return connect(url, open_timeout=5, additional_headers=env.auth_headers())


def _halt(env: Env, symbol: str = "ESZ6") -> None:
    env.arm(env.rithmic_ctl, "halt", {"symbol": symbol}, duration_ms=15_000)


def _resume(env: Env) -> None:
    env.http.delete(f"{env.rithmic_ctl}/faults").raise_for_status()


def _drain(client_queue: Any) -> list[dict[str, Any]]:
    out = []
    while not client_queue.empty():
        out.append(json.loads(client_queue.get_nowait())["quote"])
    return out


def test_the_hub_says_stale_once_and_the_next_quote_clears_it_through_conflation() -> None:
    hub = Hub(quote_interval_s=0.25, stale_quote_s=1.0)
    client = hub.add(None, frozenset({"ESZ6"}))
    hub.on_quote({"symbol": "ESZ6", "bid_price": 1.0})
    hub.on_quote({"symbol": "NQZ6", "bid_price": 2.0})
    hub.mark_stale()  # fresh: nothing to say, and conflation still holds the quote back
    assert _drain(client.queue) == []
    asyncio.run(hub.flush_paced())
    assert [(q["symbol"], q["stale"]) for q in _drain(client.queue)] == [("ESZ6", False)]
    hub.quotes["ESZ6"]["at"] -= 1.5  # its feed went quiet 1.5 s ago
    hub.mark_stale()
    (stale,) = _drain(client.queue)
    assert stale["stale"] is True and stale["bid_price"] == 1.0 and 1.5 <= stale["age_s"] < 2, stale
    assert json.loads(hub.snapshot_for(hub.add(None, frozenset({"ESZ6"})))[0])["quote"]["stale"] is True
    hub.mark_stale()
    asyncio.run(hub.flush_paced())
    assert _drain(client.queue) == [], "said once per silence"
    hub.on_quote({"symbol": "ESZ6", "bid_price": 1.25})
    asyncio.run(hub.flush_paced())
    (cleared,) = _drain(client.queue)
    assert cleared["stale"] is False and cleared["bid_price"] == 1.25 and "age_s" not in cleared
    assert not hub.quotes["NQZ6"]["stale"], "NQ was never aged"


def test_never_stale_is_the_mutant_and_prices_are_plain_decimal_strings() -> None:
    hub = Hub(stale_quote_s=1.0, never_stale=True)
    hub.on_quote({"symbol": "ESZ6", "bid_price": 1.0})
    hub.quotes["ESZ6"]["at"] -= 5
    hub.mark_stale()
    assert hub.quotes["ESZ6"]["stale"] is False and not hub.is_stale(5.0)
    assert [decimal_text(v) for v in (6800.25, 6800.0, 0.1 + 0.2, -0.0, None)] == [
        "6800.25",
        "6800",
        "0.30000000000000004",
        "0",
        None,
    ]
    assert [decimal_text(v, 2) for v in (-4.5, 0.0, 116.005, -0.0)] == ["-4.50", "0.00", "116.00", "0.00"]


def test_a_quote_is_one_the_venue_showed_with_prices_as_decimal_strings(fresh: Env) -> None:
    _first_quote(fresh)
    quote, steps = _shown_by_venue(fresh)
    step = _match(quote, steps)
    assert step is not None, f"{quote} is not on the venue's path (last steps {steps[-3:]})"
    assert all(isinstance(quote[k], str) for k in ("bid", "ask", "last")), quote
    assert fresh.spec_errors(quote, "Quote") == []
    assert fresh.spec_errors({**quote, "bid": 6800.25}, "Quote"), "the check can fail: money is a string"
    assert float(quote["bid"]) < float(quote["ask"]), quote
    assert quote["symbol"] == "ESZ6" and quote["stale"] is False and 0 <= quote["age_s"] < 1.0, quote
    assert abs(quote["at"] - step["ts"]) < 1.0, (quote, step)  # received as the venue showed it
    assert steps[-1]["ts"] - step["ts"] < 1.0, "a live quote is one of the venue's latest steps"


def test_a_symbol_with_no_quote_yet_is_404_naming_it(fresh: Env) -> None:
    _first_quote(fresh)  # the feed is up: ZZZ9 is simply not quoted
    missing = fresh.quote("ZZZ9")
    assert missing.status_code == 404, missing.text
    assert missing.json()["field"] == "symbol" and "ZZZ9" in missing.json()["error"]


def test_stale_flips_on_the_api_and_the_stream_when_data_stops_and_clears_when_it_resumes(env: Env) -> None:
    env.restart(extra_env=STALE_ENV)
    _first_quote(env)
    with _stream(env, "ESZ6,NQZ6") as ws:
        live = _stream_until(ws, lambda q: q["symbol"] == "ESZ6", 5)
        assert live and live[-1]["stale"] is False, live
        _halt(env)
        halted_at = time.monotonic()
        seen = _stream_until(ws, lambda q: q["symbol"] == "ESZ6" and q["stale"], 4)
        stale = seen[-1] if seen else {}
        assert stale.get("symbol") == "ESZ6" and stale.get("stale") is True, seen
        assert stale["age_s"] > 1.0 and {"bid_price", "ask_price", "trade_price", "at"} <= set(stale), stale
        assert time.monotonic() - halted_at < 3.0, (
            "flagged within the bound plus a check interval (and slack)"
        )
        assert all(not q["stale"] for q in seen if q["symbol"] == "NQZ6"), "NQ still ticks: never stale"
        api = env.quote("ESZ6").json()
        assert api["stale"] is True and api["age_s"] > 1.0, api
        assert float(api["bid"]) == stale["bid_price"], "the frozen touch, as the stream said it"
        assert env.quote("NQZ6").json()["stale"] is False
        with _stream(env, "ESZ6") as late:  # a new screen is told at once
            snapshot = json.loads(late.recv(timeout=5))["quote"]
            assert snapshot["symbol"] == "ESZ6" and snapshot["stale"] is True and snapshot["age_s"] > 1.0
        _resume(env)
        back = _stream_until(ws, lambda q: q["symbol"] == "ESZ6" and not q["stale"], 4)
        assert back and back[-1]["stale"] is False and "age_s" not in back[-1], back
    api = env.quote("ESZ6").json()
    assert api["stale"] is False and api["age_s"] < 1.0, api


def test_the_stale_message_is_sent_once_per_silence(env: Env) -> None:
    env.restart(extra_env=STALE_ENV)
    _first_quote(env)
    with _stream(env, "ESZ6") as ws:
        _halt(env)
        seen = _stream_until(ws, lambda q: q["stale"], 4)
        assert seen and seen[-1]["stale"] is True, seen
        more = _stream_until(ws, lambda q: True, 1.0)  # a silent symbol stays silent
        _resume(env)
    assert more == [], more


# ---------------------------------------------------------------------- mutants
def quote_never_stale(env: Env) -> Outcome:
    _first_quote(env)
    with _stream(env, "ESZ6") as ws:
        _stream_until(ws, lambda q: True, 2)
        _halt(env)
        seen = _stream_until(ws, lambda q: q["stale"], 2.5)
        api = env.quote("ESZ6").json()
        _resume(env)
    streamed = bool(seen) and seen[-1]["stale"] is True
    correct = api["stale"] is True and streamed
    return correct, f"{api['age_s']} s into a halt: API stale {api['stale']}, stream flagged it: {streamed}"


def quote_bid_ask_swapped(env: Env) -> Outcome:
    _first_quote(env)
    quote, steps = _shown_by_venue(env)
    shown = _match(quote, steps) is not None
    return (
        shown and float(quote["bid"]) < float(quote["ask"]),
        f"bid {quote['bid']} ask {quote['ask']}; on the venue's path: {shown}",
    )


SCENARIOS: dict[str, Scenario] = {
    "quote_never_stale": Scenario(quote_never_stale, STALE_ENV),
    "quote_bid_ask_swapped": Scenario(quote_bid_ask_swapped),
}


test_healthy_build_passes_the_scenario, test_mutant_misbehaves_in_its_documented_way = case_tests(SCENARIOS)
