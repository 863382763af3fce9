"""What the middleware shows its traders of the market, watched through a run so the quote checks can
hold it against the venue's price path: its quote API polled, and its stream read where the target
declares a stream quote's prices. At the verdict, the venue's path itself and each account's P&L.

The samples keep epoch seconds (the venue's ledger and price path do): `sent` when a request left,
`at` when its answer arrived."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from ..adapters import Adapter, QuoteView
from ..target import Slo
from .model import Scenario
from .risk import instrument_specs

QUOTE_CHECKS = frozenset({"quotes_match_venue", "stale_quotes_flagged"})  # the checks that need a watcher
POLL_S = 0.2  # between two reads of every symbol's quote: several reads per conflation window
MAX_SAMPLES = 20_000  # per run: 8 minutes of polling two symbols, plus the stream's


class QuoteWatcher(threading.Thread):
    """Polls the target's quote operation for each symbol, and reads its stream in a thread of its
    own; both stop with the run's stop event (each read is bounded by the adapter's timeout)."""

    def __init__(self, adapter: Adapter, account: str, symbols: Sequence[str], stop: threading.Event) -> None:
        super().__init__(name="quote-watcher", daemon=True)
        self.adapter = adapter
        self.account = account
        self.symbols = tuple(symbols)
        self.stop_event = stop
        self.samples: list[dict[str, Any]] = []
        self.errors: list[str] = []  # stream trouble, for the evidence
        self._lock = threading.Lock()

    def _keep(self, sample: dict[str, Any]) -> None:
        with self._lock:
            if len(self.samples) < MAX_SAMPLES:
                self.samples.append(sample)

    def run(self) -> None:
        reader = None
        read_stream: Callable[[Any], QuoteView | None] | None = getattr(self.adapter, "stream_quote", None)
        url = self.adapter.stream_url(self.account, self.symbols) if self.adapter.supports("stream") else None
        if url and read_stream is not None:
            reader = threading.Thread(target=self._read_stream, args=(url, read_stream), daemon=True)
            reader.start()
        polling = self.adapter.supports("quote")
        while polling and not self.stop_event.wait(POLL_S):
            for symbol in self.symbols:
                sent = time.time()
                outcome = self.adapter.quote(symbol)
                at = time.time()
                shown = outcome.quote
                if shown is not None:
                    self._keep(_sample("api", shown, sent, at))
                elif outcome.status is not None and not outcome.malformed:
                    # a refusal: the middleware declines to show a quote (flagged, not served)
                    self._keep(
                        {"source": "api", "symbol": symbol, "bid": None, "ask": None, "stale": None}
                        | {"refused": outcome.status, "sent": sent, "at": at}
                    )
                elif outcome.malformed:
                    self.errors.append(f"api {symbol}: {outcome.malformed}")
        if reader is not None:
            self.stop_event.wait()
            reader.join(timeout=5)

    def _read_stream(self, url: str, read: Callable[[Any], QuoteView | None]) -> None:
        import websocket

        while not self.stop_event.is_set():
            try:
                headers = self.adapter.stream_headers(self.account)
                ws = websocket.create_connection(url, timeout=1.0, header=headers)
            except Exception as exc:  # the middleware's stream is down: try again, as a trader would
                self.errors.append(f"stream connect: {exc}"[:300])
                self.stop_event.wait(0.5)
                continue
            try:
                while not self.stop_event.is_set():
                    try:
                        text = ws.recv()
                    except websocket.WebSocketTimeoutException:
                        continue
                    at = time.time()
                    try:
                        shown = read(json.loads(text))
                    except Exception as exc:  # a message we cannot read is kept as evidence
                        self.errors.append(f"stream message: {exc}: {str(text)[:200]}")
                        continue
                    if shown is not None:
                        self._keep(_sample("stream", shown, at, at))
            except Exception as exc:
                self.errors.append(f"stream: {exc}"[:300])
            finally:
                ws.close()

    def extras(self, slo: Slo) -> dict[str, Any]:
        with self._lock:
            samples = list(self.samples)
        return {
            "conflation_s": slo.quote_conflation_ms / 1000,
            "delay_s": slo.risk_in_flight_ms / 1000,
            "stale_bound_s": slo.stale_quote_s,
            "samples": samples,
            "errors": self.errors[:20],
        }


def _sample(source: str, shown: QuoteView, sent: float, at: float) -> dict[str, Any]:
    return {
        "source": source,
        "symbol": shown.symbol,
        "bid": shown.bid,
        "ask": shown.ask,
        "stale": shown.stale,
        "refused": None,
        "sent": sent,
        "at": at,
    }


def market_paths(
    http: httpx.Client, control: str, symbols: Sequence[str], specs: Mapping[str, Mapping[str, float]]
) -> dict[str, Any]:
    """symbol -> the venue's price path (every step since the mock's reset) and its money."""
    out: dict[str, Any] = {}
    for symbol in symbols:
        answer = http.get(f"{control}/market/history", params={"symbol": symbol})
        if answer.status_code == 404:
            continue  # not a symbol of this venue: its quotes are not comparable (the check says so)
        answer.raise_for_status()
        path = answer.json()
        out[symbol] = {
            "tick_size": path.get("tick_size"),
            "point_value": path.get("point_value"),
            "fee_per_contract": (specs.get(symbol) or {}).get("fee_per_contract", 0.0),
            "steps": path.get("steps", []),
        }
    return out


def pnl_readings(adapter: Adapter, accounts: Sequence[str], slo: Slo) -> dict[str, Any]:
    """Each account's P&L as the middleware reports it now, with when it was asked; a read that
    fails or cannot be read is kept as an error (the check convicts on it)."""
    readings, errors = [], []
    for account in accounts:
        sent = time.time()
        outcome = adapter.account_pnl(account)
        at = time.time()
        pnl = outcome.pnl
        if pnl is None:
            errors.append({"account": account, **outcome.evidence(), "answer": outcome.body})
            continue
        readings.append(
            {
                "account": account,
                "sent": sent,
                "at": at,
                "realized": pnl.realized,
                "unrealized": pnl.unrealized,
                "raw": pnl.raw,
            }
        )
    return {"window_s": slo.risk_in_flight_ms / 1000, "readings": readings, "errors": errors}


def market_extras(
    scenario: Scenario,
    adapter: Adapter,
    watcher: QuoteWatcher | None,
    *,
    accounts: Sequence[str],
    slo: Slo,
    http: httpx.Client,
    control: str,
    rithmic: Mapping[str, Any],
) -> dict[str, Any]:
    """The quotes the middleware showed, each account's P&L read now, and the venue's price path to
    hold them against (`control`: the Rithmic mock's), for the scenarios whose checks need them."""
    extras: dict[str, Any] = {}
    if watcher is not None:
        extras["quotes"] = watcher.extras(slo)
    if "pnl_reconciles" in scenario.checks:
        extras["pnl"] = pnl_readings(adapter, accounts, slo)
    if extras:
        extras["market"] = market_paths(http, control, scenario.symbols, instrument_specs(rithmic))
    return extras
