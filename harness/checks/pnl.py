"""The P&L the middleware reports per account, held against the venue: the account's fills replayed by
average cost in the venue's time order, net of fees, and its open positions marked anywhere the venue's
prices went while the reading was in flight."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .base import CheckContext, Verdict, checker
from .ledger import (
    AvgCost,
    InstrumentSpec,
    MarketPath,
    VenueFill,
    instruments,
    ledger_fills,
    market_paths,
    middleware_accounts,
)

TOLERANCE = 0.01  # a cent: P&L is money, reported to the cent
MAX_LISTED = 100  # fills listed in one piece of evidence


@dataclass(frozen=True)
class PnlReading:
    """One account P&L the harness read from the middleware (ctx.extras["pnl"]["readings"])."""

    account: str
    sent: float
    at: float
    realized: float
    unrealized: float | None
    raw: Any = None

    @classmethod
    def from_json(cls, row: Mapping[str, Any]) -> PnlReading:
        unrealized = row.get("unrealized")
        return cls(
            str(row["account"]),
            float(row["sent"]),
            float(row["at"]),
            float(row["realized"]),
            None if unrealized is None else float(unrealized),
            row.get("raw"),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "sent": self.sent,
            "at": self.at,
            "realized": self.realized,
            "unrealized": self.unrealized,
            "raw": self.raw,
        }


@dataclass
class _Book:
    """An account's replay up to some fill: the books per symbol and the fees paid."""

    specs: Mapping[str, InstrumentSpec]
    books: dict[str, AvgCost] = field(default_factory=dict)
    fees: float = 0.0
    fills: int = 0  # how many of the account's fills are booked

    def apply(self, fill: VenueFill, fee: float) -> float:
        spec = self.specs.get(fill.symbol) or InstrumentSpec()
        gained = self.books.setdefault(fill.symbol, AvgCost(spec.point_value)).apply(fill)
        self.fees += fee
        self.fills += 1
        return gained

    def snapshot(self) -> _Book:
        books = {s: AvgCost(b.point_value, b.net, b.avg_open, b.realised) for s, b in self.books.items()}
        return _Book(self.specs, books, self.fees, self.fills)

    @property
    def gross(self) -> float:
        return sum(b.realised for b in self.books.values())

    @property
    def realised(self) -> float:
        return self.gross - self.fees

    def open(self) -> dict[str, AvgCost]:
        return {s: b for s, b in self.books.items() if b.net}


@dataclass(frozen=True)
class _Candidate:
    """A state the account may have been in when the reading was taken, and what it reports."""

    book: _Book
    unrealised: tuple[float, float] | None  # None: an open symbol the venue has no prices for
    unpriced: tuple[str, ...]

    def matches(self, reading: PnlReading) -> bool:
        if abs(reading.realized - self.book.realised) > TOLERANCE:
            return False
        if reading.unrealized is None or self.unrealised is None:
            return True
        lo, hi = self.unrealised
        return lo - TOLERANCE <= reading.unrealized <= hi + TOLERANCE

    def to_json(self) -> dict[str, Any]:
        b = self.book
        return {
            "after_fills": b.fills,
            "arithmetic": f"realised {b.gross:.2f} - fees {b.fees:.2f} = {b.realised:.2f}",
            "realised": round(b.realised, 6),
            "positions": {s: {"net": o.net, "avg_open": o.avg_open} for s, o in sorted(b.open().items())},
            "unrealised_range": None if self.unrealised is None else [round(v, 6) for v in self.unrealised],
            "unpriced": list(self.unpriced),
        }


def _marks(
    paths: Mapping[str, MarketPath], symbol: str, start: float, end: float
) -> tuple[float, float] | None:
    """Where the venue's price went over [start, end] (with the quote in force at start): min bid or
    last, max ask or last. None when it shows no price of the symbol by then."""
    path = paths.get(symbol)
    steps = path.in_force(start, end) if path else []
    if not steps:
        return None
    return min(min(s.bid, s.last) for s in steps), max(max(s.ask, s.last) for s in steps)


def _candidate(book: _Book, marks: Mapping[str, tuple[float, float] | None]) -> _Candidate:
    lo = hi = 0.0
    unpriced = []
    for symbol, pos in sorted(book.open().items()):
        mark = marks.get(symbol)
        if mark is None:
            unpriced.append(symbol)
            continue
        ends = [pos.net * (m - pos.avg_open) * pos.point_value for m in mark]
        lo, hi = lo + min(ends), hi + max(ends)
    return _Candidate(book, None if unpriced else (lo, hi), tuple(unpriced))


def _fee(fill: VenueFill, recorded: set[str], specs: Mapping[str, InstrumentSpec]) -> float:
    """The fill's own fee where the ledger records one, else the venue's schedule."""
    if fill.fill_id in recorded:
        return fill.fee
    spec = specs.get(fill.symbol) or InstrumentSpec()
    return spec.fee_per_contract * fill.qty


@dataclass
class _Judged:
    reading: PnlReading
    candidates: list[_Candidate]
    match: _Candidate | None
    fills: list[dict[str, Any]]

    @property
    def realised_only(self) -> bool:
        chosen = [self.match] if self.match else self.candidates
        return self.reading.unrealized is None or any(c.unrealised is None for c in chosen)


def _judge(
    reading: PnlReading,
    fills: list[VenueFill],
    fees: list[float],
    window_s: float,
    specs: Mapping[str, InstrumentSpec],
    paths: Mapping[str, MarketPath],
) -> _Judged:
    """Replays the account's fills up to the reading's answer; every state between the last fill
    surely booked and the answer is a candidate."""
    start = reading.sent - window_s
    symbols = {f.symbol for f in fills}
    marks = {s: _marks(paths, s, start, reading.at) for s in symbols}
    book, listed = _Book(specs), []
    candidates: list[_Candidate] = []
    for fill, fee in zip(fills, fees, strict=True):
        if fill.sent_at > reading.at:
            break
        if fill.sent_at >= start and not candidates:
            candidates.append(_candidate(book.snapshot(), marks))  # before the first in-flight fill
        gained = book.apply(fill, fee)
        listed.append(fill.to_json() | {"symbol": fill.symbol, "fee": fee, "realised": round(gained, 6)})
        if fill.sent_at >= start:
            candidates.append(_candidate(book.snapshot(), marks))
    if not candidates:
        candidates.append(_candidate(book, marks))
    match = next((c for c in candidates if c.matches(reading)), None)
    return _Judged(reading, candidates, match, listed)


def _evidence(judged: _Judged, window_s: float, paths: Mapping[str, MarketPath]) -> dict[str, Any]:
    reading, omitted = judged.reading, max(0, len(judged.fills) - MAX_LISTED)
    symbols = sorted({s for c in judged.candidates for s in c.book.books})
    marks = {s: _marks(paths, s, reading.sent - window_s, reading.at) for s in symbols}
    return {
        "account": reading.account,
        "reading": reading.to_json(),
        "window": [reading.sent - window_s, reading.at],
        "fills": judged.fills[omitted:],
        **({"fills_omitted": omitted} if omitted else {}),
        "candidates": [c.to_json() for c in judged.candidates],
        "mark_range": {s: None if m is None else list(m) for s, m in marks.items()},
        "explanation": "no state of the venue's fills within the window gives this realised P&L"
        + ("" if reading.unrealized is None else " and an unrealised P&L within the mark range")
        + f" (to {TOLERANCE} USD)",
    }


def _by_account(fills: Iterable[VenueFill], account_of: Mapping[str, str]) -> dict[str, list[VenueFill]]:
    ordered = sorted(enumerate(fills), key=lambda e: (e[1].sent_at, e[0]))
    out: dict[str, list[VenueFill]] = defaultdict(list)
    for _, fill in ordered:
        out[account_of[fill.client_tag]].append(fill)
    return out


@checker("pnl_reconciles")
def pnl_reconciles(ctx: CheckContext) -> Verdict:
    """Each P&L reading matches, to the cent, the venue's fills of that account replayed up to some
    moment the reading could have seen: fills within `window_s` before the request may be in flight."""
    name = "pnl_reconciles"
    raw = ctx.extras.get("pnl") or {}
    window_s = float(raw.get("window_s") or 0.0)
    readings = [PnlReading.from_json(r) for r in raw.get("readings") or ()]
    unread = list(raw.get("errors") or ())
    if unread:  # the middleware would not, or could not, say: that is its failure, not a lack of evidence
        why = unread[0].get("error") or unread[0].get("malformed") or "see the evidence"
        return Verdict.fail(
            name,
            f"{len(unread)} account P&L read(s) failed or could not be read ({len(readings)} read): {why}",
            unread,
            "price mismatch",
        )
    account_of = middleware_accounts(ctx)
    fills = _by_account(ledger_fills(ctx.ledger, set(account_of)), account_of)
    if not readings or not fills:
        return Verdict.no_evidence(
            name,
            f"{len(readings)} P&L reading(s), {len(fills)} account(s) of ours with a fill at the venue: "
            "nothing to reconcile",
        )
    paths = market_paths(ctx.extras)
    specs = instruments(ctx.extras) | {s: p.spec for s, p in paths.items()}  # the market's terms first
    recorded = {str(f.get("fill_id")) for f in ctx.ledger.get("fills", []) if f.get("fee") is not None}
    ours = set(account_of.values()) | set(ctx.accounts.values())
    judged, strangers = [], 0
    for reading in readings:
        if reading.account not in ours:
            strangers += 1
            continue
        account_fills = fills.get(reading.account, [])
        fees = [_fee(f, recorded, specs) for f in account_fills]
        judged.append(_judge(reading, account_fills, fees, window_s, specs, paths))
    if not judged:
        return Verdict.no_evidence(
            name, f"none of the {len(readings)} P&L reading(s) is of an account of ours"
        )
    bad = [j for j in judged if j.match is None]
    accounts = len({j.reading.account for j in judged})
    partial = [j for j in judged if j.realised_only]
    counted = (
        f"{len(judged)} reading(s) of {accounts} account(s): {len(judged) - len(partial)} realised and "
        f"unrealised, {len(partial)} realised only (no unrealised reported, or an open position the "
        f"venue has no prices for); in-flight window {window_s:g} s"
        + (f"; {strangers} reading(s) of accounts not ours ignored" if strangers else "")
    )
    if bad:
        return Verdict.fail(
            name,
            f"{len(bad)} P&L reading(s) disagree with the venue's fills; " + counted,
            [_evidence(j, window_s, paths) for j in bad],
            "price mismatch",
        )
    return Verdict.ok(name, "every P&L reading matches the venue's fills to the cent; " + counted)
