"""GET /v1/accounts/{id}/pnl against fills booked at known prices and the Rithmic mock's live path:
realised P&L is the hand-computed average-cost arithmetic net of fees, and each open position is marked
to a price the venue showed, with the sign of its side."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from .conftest import Env, wait_for
from .mutant_cases import Outcome, Scenario, case_tests

CL_POINT = 1000  # USD per 1.0 of CL's price per contract


@pytest.fixture
def fresh(env: Env) -> Env:
    env.restart()
    return env


def _last_price(env: Env, symbol: str) -> Decimal:
    """The symbol's last trade as the middleware has it (once its first quote arrived)."""
    answer = wait_for(lambda: env.quote(symbol), lambda r: r.status_code == 200 and r.json()["last"], 10)
    assert answer.status_code == 200, answer.text
    return Decimal(answer.json()["last"])


def _es_round_trips(env: Env) -> None:
    """Bought 2 ES at 6800.00, sold 1 at 6801.25 and 1 at 6799.50: (1.25 - 0.50) x 50 = $37.50 of
    price P&L, and 4 x $2.25 = $9.00 of fees."""
    env.book_fills(
        ("ESZ6", "BUY", 2, "6800.00"), ("ESZ6", "SELL", 1, "6801.25"), ("ESZ6", "SELL", 1, "6799.50")
    )


def _pnl(env: Env) -> dict[str, Any]:
    answer = env.pnl()
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_realised_pnl_after_known_round_trips_is_the_arithmetic_net_of_fees(fresh: Env) -> None:
    _es_round_trips(fresh)
    body = _pnl(fresh)
    assert body == {
        "account": fresh.account,
        "realized_pnl": "28.50",  # 37.50 - 9.00
        "unrealized_pnl": "0.00",
        "positions": [],  # flat: nothing to mark
    }


def test_an_empty_account_has_zero_pnl_and_an_unknown_one_is_404(fresh: Env) -> None:
    assert _pnl(fresh) == {
        "account": fresh.account,
        "realized_pnl": "0.00",
        "unrealized_pnl": "0.00",
        "positions": [],
    }
    missing = fresh.pnl("no-such-account")
    assert missing.status_code == 404 and missing.json()["field"] == "account_id", missing.text


def test_open_positions_are_marked_to_the_venues_price_with_the_sign_of_their_side(fresh: Env) -> None:
    entry = _last_price(fresh, "CLF7") + 1  # a short sold $1 above the market: about +$2,000
    _es_round_trips(fresh)
    fresh.book_fills(
        ("CLF7", "SELL", 1, str(entry)), ("CLF7", "SELL", 1, str(entry)), ("ZBH7", "BUY", 3, "112.5")
    )
    body = _pnl(fresh)
    steps = fresh.market_steps("CLF7")
    assert body["realized_pnl"] == "23.50", body  # 28.50 - 2 x $2.50 of CL fees; ZB has no fee here
    by_symbol = {p["symbol"]: p for p in body["positions"]}
    assert set(by_symbol) == {"CLF7", "ZBH7"}, body
    cl = by_symbol["CLF7"]
    mark = Decimal(cl["mark"])
    assert cl["net_qty"] == -2 and Decimal(cl["avg_price"]) == entry, cl
    assert float(mark) in {s["last"] for s in steps[-50:]}, f"mark {mark} is not a recent venue price"
    expected = -2 * (mark - entry) * CL_POINT
    assert Decimal(cl["unrealized_pnl"]) == expected.quantize(Decimal("0.01")), (cl, expected)
    assert Decimal(cl["unrealized_pnl"]) > 0, "a short above the market is a gain"
    # ZB is not quoted by this venue: no mark, no unrealised, and left out of the total
    assert by_symbol["ZBH7"] == {
        "symbol": "ZBH7",
        "net_qty": 3,
        "avg_price": "112.5",
        "mark": None,
        "unrealized_pnl": None,
    }
    assert body["unrealized_pnl"] == cl["unrealized_pnl"], body
    assert fresh.spec_errors(body, "AccountPnl") == []
    assert fresh.spec_errors({**body, "realized_pnl": 23.5}, "AccountPnl"), "the check can fail"


def test_the_average_open_price_is_average_cost_across_adds_and_a_flip(fresh: Env) -> None:
    last = _last_price(fresh, "CLF7")
    # long 1 at last, add 1 at last + 0.10 (avg last + 0.05), sell 3: 2 closed (+0.05 - 0.05 = 0 net of
    # the add), 1 opened short at the selling price
    sell_at = last + Decimal("0.05")
    fresh.book_fills(
        ("CLF7", "BUY", 1, str(last)),
        ("CLF7", "BUY", 1, str(last + Decimal("0.10"))),
        ("CLF7", "SELL", 3, str(sell_at)),
    )
    body = _pnl(fresh)
    (cl,) = body["positions"]
    assert cl["net_qty"] == -1 and Decimal(cl["avg_price"]) == sell_at, cl
    assert body["realized_pnl"] == "-12.50", body  # price P&L 0; 5 contracts x $2.50 of fees


# ---------------------------------------------------------------------- mutants
def unrealized_ignores_short_side(env: Env) -> Outcome:
    entry = _last_price(env, "CLF7") + 1
    env.book_fills(("CLF7", "SELL", 2, str(entry)))
    (cl,) = _pnl(env)["positions"]
    value = Decimal(cl["unrealized_pnl"])
    return value > 0, f"short 2 CL at {entry}, marked {cl['mark']}: unrealised {value}"


def realized_pnl_gross(env: Env) -> Outcome:
    _es_round_trips(env)
    realized = _pnl(env)["realized_pnl"]
    return realized == "28.50", f"realised {realized} after $37.50 of price P&L and $9.00 of fees"


SCENARIOS: dict[str, Scenario] = {
    "unrealized_ignores_short_side": Scenario(unrealized_ignores_short_side),
    "realized_pnl_gross": Scenario(realized_pnl_gross),
}


test_healthy_build_passes_the_scenario, test_mutant_misbehaves_in_its_documented_way = case_tests(SCENARIOS)
