"""The quotes the middleware served, held against the venue's price path: a live quote must be one the
venue really showed lately, and a quote from a feed silent past the target's own bound must say so."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .base import CheckContext, Verdict, checker
from .ledger import MarketPath, MarketStep, market_paths

DEFAULT_TICK = 1e-6  # a symbol whose tick the market does not declare: prices agree to the micro-point
EPSILON = 1e-9  # float noise: half a tick exactly is still within half a tick
MAX_CANDIDATES = 10


@dataclass(frozen=True)
class QuoteSample:
    """One quote the harness read from the middleware (ctx.extras["quotes"]["samples"])."""

    source: str  # api | stream
    symbol: str
    bid: float | None
    ask: float | None
    stale: bool | None  # None: the target reports no stale flag
    refused: int | None  # api only: the non-2xx status answered instead of a quote
    sent: float  # epoch the request left (stream: == at)
    at: float  # epoch the answer arrived

    @classmethod
    def from_json(cls, row: Mapping[str, Any]) -> QuoteSample:
        def price(key: str) -> float | None:
            return None if row.get(key) is None else float(row[key])

        stale, refused = row.get("stale"), row.get("refused")
        return cls(
            str(row.get("source", "api")),
            str(row["symbol"]),
            price("bid"),
            price("ask"),
            None if stale is None else bool(stale),
            None if refused is None else int(refused),
            float(row["sent"]),
            float(row["at"]),
        )

    @property
    def flagged(self) -> bool:
        """The middleware told its reader not to trust this quote."""
        return self.stale is True or self.refused is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "symbol": self.symbol,
            "bid": self.bid,
            "ask": self.ask,
            "stale": self.stale,
            "refused": self.refused,
            "sent": self.sent,
            "at": self.at,
        }


@dataclass(frozen=True)
class QuotePlan:
    """ctx.extras["quotes"], typed."""

    conflation_s: float
    delay_s: float
    stale_bound_s: float
    samples: tuple[QuoteSample, ...]

    @classmethod
    def from_extras(cls, extras: Mapping[str, Any]) -> QuotePlan:
        raw = extras.get("quotes") or {}
        return cls(
            float(raw.get("conflation_s") or 0.0),
            float(raw.get("delay_s") or 0.0),
            float(raw.get("stale_bound_s") or 0.0),
            tuple(QuoteSample.from_json(s) for s in raw.get("samples") or ()),
        )

    @property
    def lag_s(self) -> float:
        """How old the venue's quote may be by the time it is read: conflation plus transport."""
        return self.conflation_s + self.delay_s


def _tick(path: MarketPath) -> float:
    return path.spec.tick_size or DEFAULT_TICK


def _shows(step: MarketStep, bid: float | None, ask: float | None, tick: float) -> bool:
    """Whether the venue's step shows the given sides (a side the sample lacks is not compared)."""
    near = tick / 2 + EPSILON
    return (bid is None or abs(step.bid - bid) <= near) and (ask is None or abs(step.ask - ask) <= near)


def _distance(step: MarketStep, sample: QuoteSample) -> float:
    bid = step.bid if sample.bid is None else sample.bid
    ask = step.ask if sample.ask is None else sample.ask
    return abs(step.bid - bid) + abs(step.ask - ask)


def _mismatch(
    sample: QuoteSample, path: MarketPath, start: float, candidates: list[MarketStep]
) -> dict[str, Any]:
    """The evidence for a quote the venue did not show in its window: the closest candidates, the
    nearest step in time, and what the quote does match (swapped sides, an older step)."""
    tick = _tick(path)
    by_price = sorted(candidates, key=lambda s: _distance(s, sample))[:MAX_CANDIDATES]
    nearest = path.nearest(sample.sent)
    entry: dict[str, Any] = {
        "sample": sample.to_json(),
        "window": [start, sample.at],
        "candidates": [s.to_json() for s in sorted(by_price, key=lambda s: s.ts)],
        "candidates_total": len(candidates),
        "nearest_step": nearest.to_json() if nearest else None,
        "tick_size": tick,
    }
    both = sample.bid is not None and sample.ask is not None
    if both and any(_shows(s, sample.ask, sample.bid, tick) for s in candidates):
        entry["explanation"] = "bid and ask are swapped: the venue showed this quote the other way round"
        return entry
    shown = path.steps[: path.steps.index(candidates[0])]
    last = next((s for s in reversed(shown) if _shows(s, sample.bid, sample.ask, tick)), None)
    if last is not None:
        entry["explanation"] = (
            f"the venue last showed this quote {sample.sent - last.ts:.3f} s before the request: "
            "served as live after it had changed"
        )
        entry["last_shown"] = last.to_json()
    else:
        entry["explanation"] = "the venue never showed this quote before it was read"
    return entry


@checker("quotes_match_venue")
def quotes_match_venue(ctx: CheckContext) -> Verdict:
    """Every quote served as live matches, within half a tick, a step the venue showed between the
    conflation-and-transport allowance before the request and the answer, or the one in force then."""
    name = "quotes_match_venue"
    plan, paths = QuotePlan.from_extras(ctx.extras), market_paths(ctx.extras)
    compared: Counter[str] = Counter()
    flagged, uncomparable, mismatches = 0, 0, []
    for sample in plan.samples:
        if sample.flagged:
            flagged += 1
            continue
        path = paths.get(sample.symbol)
        if path is None or (sample.bid is None and sample.ask is None):
            uncomparable += 1
            continue
        candidates = path.in_force(sample.sent - plan.lag_s, sample.at)
        if not candidates:  # the venue had shown nothing of it yet
            uncomparable += 1
            continue
        compared[sample.source] += 1
        if not any(_shows(s, sample.bid, sample.ask, _tick(path)) for s in candidates):
            mismatches.append(_mismatch(sample, path, sample.sent - plan.lag_s, candidates))
    total = sum(compared.values())
    per_source = ", ".join(f"{n} {source}" for source, n in sorted(compared.items()))
    aside = (
        f"; {flagged} flagged stale or refused, {uncomparable} not comparable "
        "(no venue price by then, or no price shown)"
    )
    if not total:
        return Verdict.no_evidence(
            name, f"no quote served as live could be held against the venue: {len(plan.samples)} read" + aside
        )
    allowance = f"conflation {plan.conflation_s:g} s + transport {plan.delay_s:g} s"
    if mismatches:
        return Verdict.fail(
            name,
            f"{len(mismatches)} of {total} quote(s) served as live ({per_source}) show a bid/ask the venue "
            f"did not show within {allowance} before the request" + aside,
            mismatches,
            "price mismatch",
        )
    return Verdict.ok(
        name,
        f"{total} quote(s) served as live ({per_source}) each match, within half a tick, a quote the "
        f"venue showed within {allowance} before the request" + aside,
    )


@checker("stale_quotes_flagged")
def stale_quotes_flagged(ctx: CheckContext) -> Verdict:
    """A quote read while the venue's feed had been silent past the target's declared bound (plus
    conflation and transport) must be flagged stale or refused, never served as live."""
    name = "stale_quotes_flagged"
    plan, paths = QuotePlan.from_extras(ctx.extras), market_paths(ctx.extras)
    bound = plan.stale_bound_s + plan.lag_s
    silent: list[tuple[QuoteSample, MarketStep, float]] = []
    fresh: list[QuoteSample] = []
    for sample in plan.samples:
        path = paths.get(sample.symbol)
        last = path.last_at(sample.sent) if path else None
        if last is None:  # no price path, or the venue had not stepped yet: nothing to measure from
            continue
        silent_s = sample.sent - last.ts
        if silent_s > bound:
            silent.append((sample, last, silent_s))
        else:
            fresh.append(sample)
    fresh_note = (
        f"{len(fresh)} quote(s) read on a live feed, {sum(s.stale is True for s in fresh)} of them flagged "
        f"stale and {sum(s.refused is not None for s in fresh)} refused"
    )
    if not silent:
        return Verdict.no_evidence(
            name,
            "no quote was read while the venue's feed was silent past the bound "
            f"({plan.stale_bound_s:g} s + conflation and transport {plan.lag_s:g} s); " + fresh_note,
        )
    if all(s.stale is None and s.refused is None for s in plan.samples):
        return Verdict.skip(name, "the target's quotes carry no stale flag")
    bad = [
        {
            "sample": sample.to_json(),
            "last_venue_step": last.to_json(),
            "silent_s": round(silent_s, 6),
            "bound_s": bound,
            "explanation": f"served {'as live' if sample.stale is False else 'with no stale flag'} "
            f"{silent_s:.3f} s after the venue's last step, past the bound of {bound:g} s",
        }
        for sample, last, silent_s in silent
        if not sample.flagged
    ]
    refused = sum(s.refused is not None for s, _, _ in silent)
    if bad:
        return Verdict.fail(
            name,
            f"{len(bad)} of {len(silent)} quote(s) read while the venue's feed was silent past {bound:g} s "
            f"were not flagged stale; {fresh_note}",
            bad,
            "price mismatch",
        )
    return Verdict.ok(
        name,
        f"{len(silent)} quote(s) read while the venue's feed was silent past {bound:g} s were all "
        f"flagged ({len(silent) - refused} stale, {refused} refused); {fresh_note}",
    )
