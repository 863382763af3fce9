"""Fan-out to /v1/stream clients, built to hold thousands of them on one event loop.

Each message is encoded once, whatever the number of clients. Clients are indexed by the account
they watch and the symbols they asked for, so an order update costs its own watchers, not every
client. Quotes are conflated: the latest snapshot of each symbol that changed goes out once per
interval, which is what a trader's screen can use and keeps the cost flat under a busy feed. A
slow client loses its oldest messages and never blocks the others.

Every quote says whether it is stale: a symbol whose feed goes quiet for longer than the stale bound
gets one message with `"stale": true` and its age, so a screen never shows a frozen book as live;
its next real quote says `"stale": false` again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from typing import Any

STREAM_QUEUE = 1000
QUOTE_FIELDS = ("bid_price", "ask_price", "bid_size", "ask_size", "trade_price", "trade_size")
STALE_CHECK_S = 0.25  # how often quiet symbols are looked for
FLUSH_BATCH = 250  # clients offered a quote per turn of the event loop (flush_paced)


class Client:
    """One stream connection: its queue, and what it watches (None: everything)."""

    __slots__ = ("account", "queue", "symbols")

    def __init__(self, account: str | None, symbols: frozenset[str] | None) -> None:
        self.queue: asyncio.Queue[str] = asyncio.Queue(STREAM_QUEUE)
        self.account = account
        self.symbols = symbols

    def offer(self, text: str) -> None:
        if self.queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
        self.queue.put_nowait(text)


class Hub:
    """`quote_interval_s` 0 sends every quote as it comes (no conflation). A symbol is stale once
    its last quote is older than `stale_quote_s`; `never_stale` is the quote_never_stale mutant."""

    def __init__(
        self, quote_interval_s: float = 0.25, stale_quote_s: float = 3.0, *, never_stale: bool = False
    ) -> None:
        self.quote_interval_s = quote_interval_s
        self.stale_quote_s = stale_quote_s
        self.never_stale = never_stale
        self.quotes: dict[str, dict[str, Any]] = {}  # each with "at" and its "stale" flag
        self._dirty: set[str] = set()
        self._clients: set[Client] = set()
        self._by_account: dict[str, set[Client]] = {}
        self._any_account: set[Client] = set()
        self._by_symbol: dict[str, set[Client]] = {}
        self._any_symbol: set[Client] = set()
        self.sent = 0

    def __len__(self) -> int:
        return len(self._clients)

    def add(self, account: str | None = None, symbols: frozenset[str] | None = None) -> Client:
        client = Client(account, symbols)
        self._clients.add(client)
        if account is None:
            self._any_account.add(client)
        else:
            self._by_account.setdefault(account, set()).add(client)
        if symbols is None:
            self._any_symbol.add(client)
        else:
            for symbol in symbols:
                self._by_symbol.setdefault(symbol, set()).add(client)
        return client

    def remove(self, client: Client) -> None:
        self._clients.discard(client)
        self._any_account.discard(client)
        self._any_symbol.discard(client)
        if client.account is not None:
            watchers = self._by_account.get(client.account, set())
            watchers.discard(client)
            if not watchers:
                self._by_account.pop(client.account, None)
        for symbol in client.symbols or ():
            subscribers = self._by_symbol.get(symbol, set())
            subscribers.discard(client)
            if not subscribers:
                self._by_symbol.pop(symbol, None)

    def close_all(self) -> None:
        """A shutdown: every stream handler wakes on "" and ends, instead of sleeping until its
        next message while the server waits for it to drain."""
        for client in self._clients:
            client.offer("")

    def snapshot_for(self, client: Client) -> list[str]:
        """The latest quote of each symbol the client asked for: what a new screen shows first."""
        return [
            self._quote_text(symbol)
            for symbol in self.quotes
            if client.symbols is None or symbol in client.symbols
        ]

    def publish(self, message: dict[str, Any]) -> None:
        """Order updates go to the clients watching that account and to those watching all."""
        text = json.dumps(message, default=str)
        if message.get("type") == "order":
            watchers = self._by_account.get(str(message["order"].get("account")), set())
            targets: set[Client] | list[Client] = self._any_account | watchers
        else:
            targets = list(self._clients)
        for client in targets:
            client.offer(text)
        self.sent += len(targets)

    def quote_age(self, symbol: str) -> float | None:
        """Seconds since the symbol's last quote arrived; None before the first."""
        quote = self.quotes.get(symbol)
        return None if quote is None else max(time.time() - float(quote["at"]), 0.0)

    def is_stale(self, age_s: float) -> bool:
        return age_s > self.stale_quote_s and not self.never_stale

    def on_quote(self, data: dict[str, Any]) -> None:
        symbol = str(data.get("symbol", ""))
        quote = self.quotes.setdefault(symbol, {"symbol": symbol, "exchange": data.get("exchange")})
        for key in QUOTE_FIELDS:
            if key in data:
                quote[key] = data[key]
        quote["at"] = time.time()
        quote["stale"] = False
        if self.quote_interval_s <= 0:
            self._send_quote(symbol)
        else:
            self._dirty.add(symbol)

    def _quote_text(self, symbol: str) -> str:
        """The symbol's quote message; a stale one also says how old it is."""
        quote = self.quotes[symbol]
        if quote["stale"]:
            # rounded up to the millisecond: it was flagged for being older than the bound, and a
            # round to nearest could state exactly the bound (1.0004 s as 1.0 with a 1 s bound)
            quote = {**quote, "age_s": math.ceil((time.time() - float(quote["at"])) * 1000) / 1000}
        return json.dumps({"type": "quote", "quote": quote})

    def _subscribers(self, symbol: str) -> set[Client]:
        return self._any_symbol | self._by_symbol.get(symbol, set())

    def _send_quote(self, symbol: str) -> None:
        subscribers = self._subscribers(symbol)
        if not subscribers:
            return
        text = self._quote_text(symbol)
        for client in subscribers:
            client.offer(text)
        self.sent += len(subscribers)

    async def flush_paced(self) -> None:
        """Every changed symbol to its subscribers, FLUSH_BATCH clients per turn of the event loop.
        Each offer wakes that client's sender, so offering to 5,000 at once made one loop turn of
        5,000 sends, several times a second; an order's venue round trip crosses a dozen turns and
        waited behind each. Between batches the loop reads its sockets, so a flush never holds an
        order's answer for longer than one batch."""
        dirty, self._dirty = self._dirty, set()
        for symbol in dirty:
            subscribers = list(self._subscribers(symbol))
            if not subscribers:
                continue
            text = self._quote_text(symbol)
            for start in range(0, len(subscribers), FLUSH_BATCH):
                if start:
                    await asyncio.sleep(0)
                for client in subscribers[start : start + FLUSH_BATCH]:
                    client.offer(text)
            self.sent += len(subscribers)

    async def conflate(self) -> None:
        """Runs for the service's life: one flush of changed symbols per interval."""
        if self.quote_interval_s <= 0:
            return
        while True:
            await asyncio.sleep(self.quote_interval_s)
            await self.flush_paced()

    def mark_stale(self) -> None:
        """Each symbol whose last quote just got older than the bound: flagged, and said once."""
        now = time.time()
        for symbol, quote in self.quotes.items():
            if not quote["stale"] and self.is_stale(now - float(quote["at"])):
                quote["stale"] = True
                self._dirty.discard(symbol)  # the stale message carries the latest fields already
                self._send_quote(symbol)

    async def watch_stale(self) -> None:
        """Runs for the service's life, apart from conflation: a quiet feed sends nothing to flush."""
        while True:
            await asyncio.sleep(STALE_CHECK_S)
            self.mark_stale()
