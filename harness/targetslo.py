"""The target file's `[slo]` table: the service levels the checkers hold the middleware to, each with
the default a trading desk would accept."""

from __future__ import annotations

from dataclasses import dataclass

from .targetfields import Fields


@dataclass(frozen=True)
class Slo:
    recovery_s: float = 15.0  # healthy again within this long after a fault clears
    fast_reject_ms: float = 1000.0  # an order while the venue is down is refused within this
    fill_visible_s: float = 15.0  # a venue fill shows in the middleware within this
    answer_ms: float = 3000.0  # under a database fault every request is still answered within this
    health_degraded_s: float = 3.0  # its health reports an unreachable database within this
    # a quote older than this is stale: a market order must then be refused (its price is unknown)
    stale_quote_s: float = 3.0
    # how long after a limit is crossed at the venue (the crossing fill sent, trading disabled) an
    # order may still get through: the middleware cannot know before the news reaches it
    risk_in_flight_ms: float = 500.0
    # the longest the middleware holds a venue quote back before it shows it (its conflation
    # interval; 0 for none): a quote shown must match one the venue showed within this, plus transit
    quote_conflation_ms: float = 250.0
    # the order acknowledgement p99 a trader must see while another client floods the API
    ack_p99_ms: float = 500.0


def parse_slo(table: Fields) -> Slo:
    slo = Slo(
        recovery_s=table.positive("recovery_s", Slo.recovery_s),
        fast_reject_ms=table.positive("fast_reject_ms", Slo.fast_reject_ms),
        fill_visible_s=table.positive("fill_visible_s", Slo.fill_visible_s),
        answer_ms=table.positive("answer_ms", Slo.answer_ms),
        health_degraded_s=table.positive("health_degraded_s", Slo.health_degraded_s),
        stale_quote_s=table.positive("stale_quote_s", Slo.stale_quote_s),
        risk_in_flight_ms=table.positive("risk_in_flight_ms", Slo.risk_in_flight_ms),
        quote_conflation_ms=_non_negative(table, "quote_conflation_ms", Slo.quote_conflation_ms),
        ack_p99_ms=table.positive("ack_p99_ms", Slo.ack_p99_ms),
    )
    table.no_unknown()
    return slo


def _non_negative(table: Fields, key: str, default: float) -> float:
    value = table.get(key, (int, float), default)
    if isinstance(value, bool) or value < 0:
        raise table.error(key, f"must be a number of 0 or more, got {value!r}")
    return float(value)
