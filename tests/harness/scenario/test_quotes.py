"""The quote watcher: what the middleware shows, sampled through a run from its quote API and its
stream (a scripted API and a real WebSocket server stand in for the middleware, whose own behaviour
is not under test here)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.sync.server import Server, ServerConnection, serve

from harness.adapters import Outcome, QuoteView
from harness.scenario.quotes import QuoteWatcher
from harness.target import Slo


class ScriptedQuotes:
    """Answers quote reads from a script, one outcome per read (the last repeats)."""

    def __init__(self, answers: list[Outcome], stream: str | None = None) -> None:
        self.answers = answers
        self.reads = 0
        self.url = stream

    def supports(self, operation: str) -> bool:
        return operation == "quote" or (operation == "stream" and self.url is not None)

    def stream_url(self, account: str, symbols: tuple[str, ...]) -> str | None:
        return None if self.url is None else f"{self.url}?account={account}&symbols={','.join(symbols)}"

    def stream_headers(self, account: str | None) -> dict[str, str]:
        return {}

    def quote(self, symbol: str) -> Outcome:
        answer = self.answers[min(self.reads, len(self.answers) - 1)]
        self.reads += 1
        shown = answer.quote
        if shown is not None:
            answer = Outcome(
                "ok", 200, answer.body, 1.0, view=QuoteView(symbol, shown.bid, shown.ask, shown.stale)
            )
        return answer

    def stream_quote(self, message: Any) -> QuoteView | None:
        if message.get("type") != "quote":
            return None
        if "bid" not in message:
            raise ValueError("no bid in the quote message")
        return QuoteView(message["symbol"], message["bid"], message["ask"], message.get("stale"))


def watch(adapter: Any, seconds: float) -> QuoteWatcher:
    stop = threading.Event()
    watcher = QuoteWatcher(adapter, "ACC-1", ("ESZ6",), stop)
    watcher.start()
    time.sleep(seconds)
    stop.set()
    watcher.join(timeout=5)
    assert not watcher.is_alive(), "the watcher must stop with the run"
    return watcher


def test_api_quotes_and_refusals_are_sampled_with_when_they_were_asked() -> None:
    live = Outcome("ok", 200, {}, 1.0, view=QuoteView("", 5000.0, 5000.25, False))
    refused = Outcome("fail", 503, {"error": "stale"}, 1.0, "HTTP 503")
    garbled = Outcome("fail", 200, {"bid": "x"}, 1.0, "malformed answer", malformed="bid is not a number")
    adapter = ScriptedQuotes([live, refused, garbled])
    samples = watch(adapter, 1.0)
    extras = samples.extras(Slo(quote_conflation_ms=100, risk_in_flight_ms=300, stale_quote_s=2))
    got = extras["samples"]
    assert adapter.reads >= 3 and len(got) == 2, got  # the garbled answer is no sample: an error
    first, second = got
    assert (first["source"], first["symbol"], first["bid"], first["ask"], first["stale"]) == (
        "api",
        "ESZ6",
        5000.0,
        5000.25,
        False,
    )
    assert second["refused"] == 503 and second["bid"] is None
    assert all(s["sent"] <= s["at"] for s in got)
    assert extras["errors"] and "bid is not a number" in extras["errors"][0]
    assert (extras["conflation_s"], extras["delay_s"], extras["stale_bound_s"]) == (0.1, 0.3, 2)


@pytest.fixture
def stream() -> Iterator[tuple[str, list[str]]]:
    """A WebSocket server that sends two quotes, a message of another kind and a garbled quote."""
    asked: list[str] = []

    def handler(ws: ServerConnection) -> None:
        asked.append(ws.request.path if ws.request else "")
        for message in (
            {"type": "quote", "symbol": "ESZ6", "bid": 5000.0, "ask": 5000.25, "stale": False},
            {"type": "order", "id": "c1"},
            {"type": "quote", "symbol": "ESZ6"},
            {"type": "quote", "symbol": "ESZ6", "bid": 4999.75, "ask": 5000.0, "stale": True},
        ):
            ws.send(json.dumps(message))
        ws.recv()  # held open until the watcher leaves

    server: Server = serve(handler, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"ws://127.0.0.1:{server.socket.getsockname()[1]}/stream", asked
    finally:
        server.shutdown()


def test_stream_quotes_are_sampled_and_a_garbled_one_is_kept_as_an_error(
    stream: tuple[str, list[str]],
) -> None:
    url, asked = stream
    adapter = ScriptedQuotes([Outcome("fail", None, None, 0.0, "connect: refused")], stream=url)
    watcher = watch(adapter, 1.5)
    streamed = [s for s in watcher.samples if s["source"] == "stream"]
    assert [(s["bid"], s["stale"]) for s in streamed] == [(5000.0, False), (4999.75, True)]
    assert asked and "symbols=ESZ6" in asked[0] and "account=ACC-1" in asked[0]
    assert any("no bid in the quote message" in e for e in watcher.errors)
    assert not [s for s in watcher.samples if s["source"] == "api"], "a read that never arrived is no sample"
