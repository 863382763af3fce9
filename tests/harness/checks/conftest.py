"""Hand-made histories, timelines and ledgers for the checkers, with a tiny fake adapter: the checkers
are pure functions of their context, so no mock venue or middleware is needed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from harness.adapters import AccountView, OrderView, Outcome, PositionsView, PositionView
from harness.checks import CheckContext, Deployment
from harness.history import History, Op, completion_value
from harness.target import Slo
from harness.timeline import FaultWindow, Timeline


def ok(body: Any = None, latency_ms: float = 5.0, status: int = 200) -> Outcome:
    return Outcome("ok", status, body, latency_ms)


def fail(status: int | None = 503, latency_ms: float = 5.0) -> Outcome:
    return Outcome("fail", status, {"error": "venue down"}, latency_ms, f"HTTP {status}")


def info(status: int | None = None, latency_ms: float = 5000.0) -> Outcome:
    return Outcome("info", status, None, latency_ms, "ReadTimeout: timed out")


@dataclass
class FakeAdapter:
    """Answers positions and accounts from dicts; records nothing."""

    positions_by_account: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def positions(self, account: str) -> Outcome:
        rows = self.positions_by_account.get(account, [])
        view = PositionsView(
            tuple(PositionView(r["symbol"], int(r["net_qty"]), r.get("venue", "rithmic")) for r in rows)
        )
        body = {"account": account, "positions": rows}
        return Outcome("ok", 200, body, 5.0, view=view)

    def account(self, account_id: str) -> Outcome:
        return Outcome("ok", 200, {"id": account_id}, 5.0, view=AccountView(account_id))


class Recorder:
    """Builds a history with explicit times (seconds since start), as the runner would record it."""

    def __init__(self) -> None:
        self.history = History(started=0.0)
        self._ids = 0

    def op(self, process: str, f: str, value: dict[str, Any], at: float, outcome: Outcome) -> None:
        invoke = Op(self._next(), process, "invoke", f, dict(value), at)
        done_value = completion_value(value, outcome)
        done = Op(
            self._next(),
            process,
            outcome.type,
            f,
            done_value,
            at + outcome.latency_ms / 1000,
            latency_ms=outcome.latency_ms,
            status=outcome.status,
            error=outcome.error,
            invoke_index=invoke.index,
        )
        self.history.ops += [invoke, done]

    def order(self, coid: str, at: float, outcome: Outcome, account: str = "A1", side: str = "BUY") -> None:
        value = {"account": account, "symbol": "ESZ6", "side": side, "qty": 1, "client_order_id": coid}
        self.op("t1", "place_order", value, at, outcome)

    def _next(self) -> int:
        self._ids += 1
        return self._ids


def timeline(*windows: tuple[str, float, float | None, bool]) -> Timeline:
    tl = Timeline(started=0.0)
    for name, start, end, venue_down in windows:
        tl.windows.append(FaultWindow(name, "network", "rithmic", venue_down, start, end))
    return tl


MakeCtx = Callable[..., CheckContext]


@pytest.fixture
def make_ctx() -> MakeCtx:
    def build(
        recorder: Recorder | None = None,
        tl: Timeline | None = None,
        *,
        ledger: dict[str, Any] | None = None,
        orders: dict[str, OrderView] | None = None,
        adapter: FakeAdapter | None = None,
        accounts: dict[str, str] | None = None,
        extras: dict[str, Any] | None = None,
        psql: Callable[[str], str] | None = None,
        slo: Slo | None = None,
        sql_file: Path | None = None,
        deployments: list[Deployment] | None = None,
    ) -> CheckContext:
        return CheckContext(
            (recorder or Recorder()).history,
            tl or Timeline(started=0.0),
            adapter or FakeAdapter(),  # type: ignore[arg-type]
            slo or Slo(recovery_s=15, fast_reject_ms=1000, fill_visible_s=15),
            ledger or {"orders": [], "fills": []},
            accounts if accounts is not None else {"t1": "A1"},
            orders or {},
            extras=extras or {},
            psql=psql,
            sql_file=sql_file,
            deployments=deployments or [],
        )

    return build
