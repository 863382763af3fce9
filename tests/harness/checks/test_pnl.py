"""Account P&L on hand-made ledgers and price paths: the middleware's figures against the venue's fills
replayed by average cost, net of fees, marked where the venue's prices went."""

from __future__ import annotations

from typing import Any

import pytest

from harness.checks import CHECKERS, Verdict

from .conftest import MakeCtx, Recorder
from .test_risk import T0, ledger, place, vfill, vorder

# the venue's ESZ6, a step a second
PATH = [
    (0.0, 5000.00, 5000.25),
    (1.0, 5000.00, 5000.25),
    (2.0, 5002.00, 5002.25),
    (3.0, 5001.00, 5001.25),
    (4.0, 5001.50, 5001.75),
]
STEPS = [
    {"ts": T0 + t, "seq": i + 1, "bid": bid, "ask": ask, "last": bid, "regime": ""}
    for i, (t, bid, ask) in enumerate(PATH)
]
MARKET = {"ESZ6": {"tick_size": 0.25, "point_value": 50.0, "fee_per_contract": 2.25, "steps": STEPS}}

# long 2 @ 5000 at T0+1, sold 1 @ 5002 at T0+2: realised (5002 - 5000) x 1 x 50 = 100 - fees 6.75
LONG = ledger(
    [vorder("c1", qty=2, at=1.0), vorder("c2", "SELL", at=2.0)],
    [vfill("c1", "BUY", 2, 5000.0, at=1.0, fee=4.5), vfill("c2", "SELL", 1, 5002.0, at=2.0, fee=2.25)],
)
# short 2 @ 5002 at T0+1, bought 1 @ 5000 at T0+2: realised +100 - 6.75, short 1 @ 5002 left
SHORT = ledger(
    [vorder("c1", "SELL", qty=2, at=1.0), vorder("c2", at=2.0)],
    [vfill("c1", "SELL", 2, 5002.0, at=1.0, fee=4.5), vfill("c2", "BUY", 1, 5000.0, at=2.0, fee=2.25)],
)


def reading(
    sent: float, realized: float, unrealized: float | None, account: str = "A1", took: float = 0.1
) -> dict[str, Any]:
    return {
        "account": account,
        "sent": T0 + sent,
        "at": T0 + sent + took,
        "realized": realized,
        "unrealized": unrealized,
        "raw": {"realizedPnl": realized},
    }


def pnl(
    make_ctx: MakeCtx,
    book: dict[str, Any],
    *readings: dict[str, Any],
    window_s: float = 0.5,
    market: Any = None,
    sides: tuple[str, str] = ("BUY", "SELL"),
) -> Verdict:
    rec = Recorder()
    place(rec, "c1", sides[0], 2)
    place(rec, "c2", sides[1], at=2.0)
    extras = {
        "market": MARKET if market is None else market,
        "pnl": {"window_s": window_s, "readings": list(readings)},
    }
    return CHECKERS["pnl_reconciles"](make_ctx(rec, ledger=book, extras=extras))


def test_a_reading_matching_the_venues_fills_passes(make_ctx: MakeCtx) -> None:
    # at T0+3 the mark ranged over [5001.00, 5002.25] (T0+2's quote in force, then T0+3's):
    # long 1 @ 5000 -> unrealised in [50, 112.5]
    for unrealized in (50.0, 112.5, 80.0, None):
        verdict = pnl(make_ctx, LONG, reading(3.0, 93.25, unrealized))
        assert verdict.status == "passed", verdict
    assert "1 reading(s) of 1 account(s): 0 realised and unrealised, 1 realised only" in verdict.summary
    both = pnl(make_ctx, LONG, reading(3.0, 93.25, 80.0), reading(3.0, 93.245, 112.51))  # to the cent
    assert both.status == "passed", both
    assert "2 reading(s) of 1 account(s): 2 realised and unrealised, 0 realised only" in both.summary
    # half a second later only T0+3's quote is in force: [5001.00, 5001.25] -> [50, 62.5]
    moved = pnl(make_ctx, LONG, reading(3.0, 93.25, 112.5), reading(3.5, 93.25, 112.5))
    assert moved.status == "failed" and [e["reading"]["sent"] for e in moved.evidence] == [T0 + 3.5]
    # just past the mark range, or a cent and a half off
    assert pnl(make_ctx, LONG, reading(3.0, 93.25, 112.52)).status == "failed"
    assert pnl(make_ctx, LONG, reading(3.0, 93.265, 80.0)).status == "failed"


def test_realised_gross_of_fees_fails_with_the_ledger_arithmetic(make_ctx: MakeCtx) -> None:
    verdict = pnl(make_ctx, LONG, reading(3.0, 100.0, 50.0))
    assert verdict.status == "failed" and verdict.category == "price mismatch"
    [entry] = verdict.evidence
    assert entry["account"] == "A1" and entry["reading"]["realized"] == 100.0
    assert [(f["side"], f["qty"], f["price"], f["fee"], f["realised"]) for f in entry["fills"]] == [
        ("BUY", 2, 5000.0, 4.5, 0.0),
        ("SELL", 1, 5002.0, 2.25, 100.0),
    ]
    [state] = entry["candidates"]
    assert state["arithmetic"] == "realised 100.00 - fees 6.75 = 93.25"
    assert state["positions"] == {"ESZ6": {"net": 1, "avg_open": 5000.0}}
    assert state["unrealised_range"] == [50.0, 112.5] and entry["mark_range"] == {"ESZ6": [5001.0, 5002.25]}


def test_a_short_positions_unrealised_sign_flipped_fails(make_ctx: MakeCtx) -> None:
    # short 1 @ 5002 marked over [5001.00, 5002.25]: unrealised in [-12.5, 50]
    right = pnl(make_ctx, SHORT, reading(3.0, 93.25, 50.0), sides=("SELL", "BUY"))
    assert right.status == "passed", right
    flipped = pnl(make_ctx, SHORT, reading(3.0, 93.25, -50.0), sides=("SELL", "BUY"))
    assert flipped.status == "failed"
    assert flipped.evidence[0]["candidates"][0]["unrealised_range"] == [-12.5, 50.0]


def test_a_position_missing_a_fill_fails(make_ctx: MakeCtx) -> None:
    """The middleware missed the second buy: no fee, so realised agrees, but it marks 1 lot, not 2."""
    book = ledger(
        [vorder("c1", qty=2, at=1.0), vorder("c2", at=2.0)],
        [vfill("c1", "BUY", 2, 5000.0, at=1.0), vfill("c2", "BUY", 1, 5000.0, at=2.0)],
    )
    # the venue: long 3 @ 5000 -> [150, 337.5]; the middleware marks 2 at 5001
    verdict = pnl(make_ctx, book, reading(3.0, 0.0, 100.0), sides=("BUY", "BUY"))
    assert verdict.status == "failed"
    assert verdict.evidence[0]["candidates"][0]["positions"]["ESZ6"]["net"] == 3
    assert pnl(make_ctx, book, reading(3.0, 0.0, 150.0), sides=("BUY", "BUY")).status == "passed"


def test_a_fill_in_flight_at_the_window_edge_may_be_unseen(make_ctx: MakeCtx) -> None:
    # read at T0+2.5 without the sell of T0+2.0: realised -4.50 (the buy's fee), long 2 @ 5000 marked
    # at T0+2's quote [5002.00, 5002.25] -> [200, 225]
    before = reading(2.5, -4.5, 200.0)
    assert pnl(make_ctx, LONG, before, window_s=0.5).status == "passed"  # the sell is at the edge
    missed = pnl(make_ctx, LONG, before, window_s=0.4)  # the sell was 0.1 s before the window
    assert missed.status == "failed"
    assert [c["after_fills"] for c in missed.evidence[0]["candidates"]] == [2]
    after = reading(2.5, 93.25, 100.0)  # and the state after it is a candidate too
    assert pnl(make_ctx, LONG, after, window_s=0.5).status == "passed"
    # a fill after the answer arrived is never counted
    assert pnl(make_ctx, LONG, reading(1.5, -4.5, 0.0)).status == "passed"
    assert pnl(make_ctx, LONG, reading(1.5, 93.25, 0.0)).status == "failed"  # the sell came at T0+2


def test_fees_come_from_the_schedule_when_the_ledger_records_none(make_ctx: MakeCtx) -> None:
    book = ledger(LONG["orders"], [{k: v for k, v in f.items() if k != "fee"} for f in LONG["fills"]])
    assert pnl(make_ctx, book, reading(3.0, 93.25, 50.0)).status == "passed"
    assert pnl(make_ctx, book, reading(3.0, 100.0, 50.0)).status == "failed"


def test_an_open_position_without_prices_is_compared_on_realised_only(make_ctx: MakeCtx) -> None:
    unpriced = {"ESZ6": {"point_value": 50.0, "fee_per_contract": 2.25, "steps": []}}
    verdict = pnl(make_ctx, LONG, reading(3.0, 93.25, 99999.0), market=unpriced)
    assert verdict.status == "passed", verdict
    assert "0 realised and unrealised, 1 realised only" in verdict.summary
    wrong = pnl(make_ctx, LONG, reading(3.0, 100.0, None), market=unpriced)
    assert wrong.status == "failed" and wrong.evidence[0]["candidates"][0]["unpriced"] == ["ESZ6"]


def test_accounts_are_replayed_apart(make_ctx: MakeCtx) -> None:
    rec = Recorder()
    place(rec, "c1", qty=2)
    place(rec, "a2", "SELL", at=2.0, account="A2")
    book = ledger(
        [vorder("c1", qty=2, at=1.0), vorder("a2", "SELL", at=2.0)],
        [vfill("c1", "BUY", 2, 5000.0, at=1.0), vfill("a2", "SELL", 1, 5002.0, at=2.0)],
    )
    # A1 is long 2 @ 5000 with nothing realised; A2 is short 1 @ 5002
    readings = [reading(3.0, 0.0, 100.0), reading(3.0, 0.0, 50.0, account="A2")]
    extras = {"market": MARKET, "pnl": {"window_s": 0.5, "readings": readings}}
    verdict = CHECKERS["pnl_reconciles"](make_ctx(rec, ledger=book, extras=extras))
    assert verdict.status == "passed", verdict
    assert "2 reading(s) of 2 account(s)" in verdict.summary


@pytest.mark.parametrize(
    ("book", "readings", "says"),
    [
        (LONG, [], "0 P&L reading(s)"),
        (ledger([vorder("c1", qty=2, at=1.0, status="open")]), [reading(3.0, 0.0, 0.0)], "0 account(s)"),
        (LONG, [reading(3.0, 0.0, 0.0, account="SOMEONE")], "none of the 1 P&L reading(s)"),
    ],
)
def test_nothing_to_reconcile_is_no_evidence(
    make_ctx: MakeCtx, book: dict[str, Any], readings: list[dict[str, Any]], says: str
) -> None:
    verdict = pnl(make_ctx, book, *readings)
    assert verdict.status == "no_evidence" and says in verdict.summary
    assert CHECKERS["pnl_reconciles"](make_ctx()).status == "no_evidence"


def test_a_pnl_read_the_middleware_failed_is_a_failure_with_its_answer(make_ctx: MakeCtx) -> None:
    rec = Recorder()
    place(rec, "c1", "BUY", 2)
    failed = {"account": "A1", "outcome": "fail", "status": 500, "error": "HTTP 500", "answer": "boom"}
    extras = {"market": MARKET, "pnl": {"window_s": 0.5, "readings": [], "errors": [failed]}}
    verdict = CHECKERS["pnl_reconciles"](make_ctx(rec, ledger=LONG, extras=extras))
    assert verdict.status == "failed" and "1 account P&L read(s) failed" in verdict.summary, verdict
    assert verdict.evidence == [failed] and "HTTP 500" in verdict.summary
