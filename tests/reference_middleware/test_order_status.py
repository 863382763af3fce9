"""An order's status only moves forward, in one call to set_order_status (migration 4), against
the real Postgres the middleware migrated: the same decisions the old four-statement transaction
made, and a log entry only for a real move."""

from __future__ import annotations

import pytest

from reference_middleware.order_status import FINAL, kept_by

from .conftest import Env


def _sql_list(items: list[str]) -> str:
    return "ARRAY[" + ",".join(f"'{i}'" for i in items) + "]::text[]"


def _move(env: Env, coid: str, status: str, reason: str | None = None, basket: str | None = None) -> str:
    reason_sql = f"'{reason}'" if reason is not None else "NULL"
    basket_sql = f"'{basket}'" if basket is not None else "NULL"
    out = env.topo.postgres.psql(
        f"SELECT status || '|' || coalesce(reason, '') || '|' || coalesce(basket_id, '') FROM "
        f"set_order_status('{coid}', '{status}', {reason_sql}, {basket_sql}, {_sql_list(kept_by(status))})"
    )
    return out.strip()


def _logged(env: Env, coid: str) -> list[str]:
    out = env.topo.postgres.psql(
        f"SELECT detail->>'status' FROM txlog WHERE kind = 'order_status' "
        f"AND detail->>'client_order_id' = '{coid}' ORDER BY id"
    )
    return [line for line in out.splitlines() if line]


@pytest.fixture
def order(fresh: Env) -> str:
    coid = "status-1"
    fresh.topo.postgres.psql(
        "INSERT INTO accounts (id, rithmic_account, max_position, max_order_qty, daily_loss_limit) "
        "VALUES ('ACC-S', 'ACC-S', 5, 5, 1000) ON CONFLICT DO NOTHING; "
        "INSERT INTO orders (client_order_id, account_id, venue, symbol, exchange, side, qty, "
        f"order_type, status) VALUES ('{coid}', 'ACC-S', 'rithmic', 'ESZ6', 'CME', 'BUY', 2, 'MARKET', "
        "'pending_new')"
    )
    return coid


@pytest.fixture
def fresh(env: Env) -> Env:
    env.restart()
    return env


def test_kept_statuses_are_the_final_ones_and_those_further_on() -> None:
    assert set(kept_by("working")) == FINAL | {"partially_filled"}
    assert set(kept_by("pending_new")) == FINAL | {"working", "partially_filled"}
    assert set(kept_by("cancelled")) == FINAL


def test_a_status_moves_forward_never_back_and_a_final_one_stays(fresh: Env, order: str) -> None:
    assert _move(fresh, order, "working", basket="B1") == "working||B1"
    assert _move(fresh, order, "pending_new") == "working||B1", "went back"
    fresh.topo.postgres.psql(
        f"UPDATE orders SET status = 'partially_filled' WHERE client_order_id = '{order}'"
    )
    late = _move(fresh, order, "working", basket="B2")
    assert late == "partially_filled||B1", "a late 'working' undid a fill"
    assert _move(fresh, order, "cancelled", reason="by trader") == "cancelled|by trader|B1"
    assert _move(fresh, order, "rejected", reason="late reject") == "cancelled|by trader|B1"
    # logged: the two real moves (working, cancelled), none of the kept ones
    assert _logged(fresh, order) == ["working", "cancelled"]


def test_an_unknown_order_moves_nothing(fresh: Env) -> None:
    assert _move(fresh, "no-such-order", "working") == ""
