"""Evidence measured on hand-built runs against a scenario's declared minimum, applicability, and
the scenario status that follows (fast: no topology)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from harness.checks import Verdict
from harness.history import History, Op, OpType
from harness.scenario import Evidence, Scenario, action, down, expect_down, protocol, toxic
from harness.scenario.evidence import (
    Measured,
    event_kinds,
    fired_faults,
    measure,
    missing_evidence,
    scenario_status,
    shortfall,
    status_reason,
    thin_trading,
    unmet_needs,
)
from harness.scenario.model import Minimum
from harness.timeline import Timeline

RITHMIC_DROP = down("rithmic", at=0.0, for_s=4.0)
DUPLICATES = protocol("rithmic", "duplicate_fill", at=0.0, for_s=3.0)


def scenario(*schedule: Any, **extra: Any) -> Scenario:
    fields: dict[str, Any] = {
        "title": "t",
        "description": "d",
        "suite": "execution",
        "venue": "rithmic",
        "fault_class": "x",
        "severity": "normal",
        **extra,
    }
    return Scenario("S", schedule=tuple(schedule), **fields)


class Run:
    """A hand-built run: a history with explicit times and a timeline with the schedule's windows."""

    def __init__(self) -> None:
        self.history = History(started=0.0)
        self.timeline = Timeline(started=0.0)
        self._ids = 0

    def window(self, step: Any, start: float, end: float | None) -> None:
        window = self.timeline.begin(step.label, kind="network", target=step.venue)
        window.start, window.end = start, end

    def op(self, f: str, value: dict[str, Any], at: float, kind: OpType, status: int | None) -> None:
        self._ids += 2
        invoke = Op(self._ids - 1, "t1", "invoke", f, value, at)
        done = Op(self._ids, "t1", kind, f, value, at + 0.01, status=status, invoke_index=invoke.index)
        self.history.ops += [invoke, done]

    def order(self, tag: str, at: float, *, accepted: bool = True) -> None:
        value = {"client_order_id": tag, "account": "A1", "symbol": "ESZ6", "side": "BUY", "qty": 1}
        self.op("place_order", value, at, "ok" if accepted else "fail", 200 if accepted else 503)


def fill(tag: str, dup: str | None = None) -> dict[str, Any]:
    return {"client_tag": tag, "qty": 1, "side": "BUY", "symbol": "ESZ6", "duplicate_of": dup}


# -- the declared minimum, derived from the workload and schedule unless the scenario says otherwise


def test_an_order_flow_scenario_needs_accepted_orders_fills_orders_during_its_faults_and_its_faults() -> None:
    minimum = scenario(RITHMIC_DROP, DUPLICATES, traders=2).minimum
    assert minimum == Minimum(
        accepted_orders=2,
        venue_fills=2,
        orders_during_faults=1,
        faults_fired=("rithmic:down", "rithmic:duplicate_fill"),
    )
    assert minimum.describe() == [
        "at least 2 order(s) accepted (2xx)",
        "at least 2 fill(s) of our orders at the venue",
        "at least 1 order(s) sent while a fault was active",
        "`rithmic:down` took effect",
        "`rithmic:duplicate_fill` took effect",
    ]


def test_markers_and_actions_are_not_faults_but_sends_and_seeded_fills_are_evidence() -> None:
    quiet = scenario(
        expect_down("rithmic", "silent", at=1.0, for_s=2.0),
        action("stripe", "stripe_send", types=("invoice.paid",)),
        action("tt", "tt_fills", count=40),
        workload="quiet",
    )
    assert quiet.minimum == Minimum(webhook_sends=1, mock_events=(("tt", "fills_seeded", 1),))


def test_resting_limits_need_a_resting_order_and_a_declaration_overrides_one_field_only() -> None:
    resting = scenario(resting_limit_rate=0.4, evidence=Evidence(venue_fills=1))
    assert resting.minimum == Minimum(accepted_orders=3, venue_fills=1, resting_orders=1)


def test_requires_derives_venues_and_operations_from_workload_schedule_and_checks() -> None:
    s = scenario(
        down("tt"),
        checks=("no_lost_fill", "admin_separation"),
        mock_setup=(("tt", "/tt/config", {}),),
        needs=("cancel_order",),
    )
    assert s.requires == ("account", "accounts_for_customer", "cancel_order", "rithmic", "stripe", "tt")
    webhooks = scenario(checks=("webhook_state",), workload="quiet")
    assert webhooks.requires == ("account", "accounts_for_customer", "stripe")


# -- measuring a run


def test_measure_counts_what_the_run_showed() -> None:
    s = scenario(RITHMIC_DROP, DUPLICATES, toxic("rithmic", "latency", at=5.0, for_s=1.0, latency=100))
    run = Run()
    run.window(RITHMIC_DROP, 10.0, 14.0)
    run.window(DUPLICATES, 10.0, 13.0)
    run.order("c1", 5.0)
    run.order("c2", 11.0, accepted=False)  # refused during the drop: sent during a fault all the same
    run.order("c3", 16.0)
    run.op("cancel_order", {"client_order_id": "c3"}, 16.5, "ok", 200)
    measured = measure(
        s,
        run.history,
        run.timeline,
        venue_fills=[fill("c1"), fill("c1", dup="f1"), fill("c3"), fill("someone-else")],
        venue_orders=[
            {"client_tag": "c1", "status": "filled", "filled_qty": 1},
            {"client_tag": "c3", "status": "open", "filled_qty": 0},
            {"client_tag": "not-ours", "status": "open", "filled_qty": 0},
        ],
        mock_events={"rithmic": [{"kind": "fault_fired", "fault": "duplicate_fill", "fill_id": "f1"}]},
        webhook_sends=[
            {"customer": "a", "deliveries": [{"event_id": "e1", "status": 200}]},
            {"customer": "b", "deliveries": [{"event_id": "e2", "status": None}]},  # never reached it
        ],
    )
    assert measured == Measured(
        accepted_orders=2,
        venue_fills=2,
        resting_orders=1,
        orders_during_faults=1,
        faults_fired=("rithmic:down", "rithmic:duplicate_fill"),  # the latency toxic never opened
        webhook_sends=1,
        cancels=1,
    )


def test_risk_refusals_and_orders_filled_in_pieces_are_counted_from_the_venue_and_final_views() -> None:
    from harness.adapters import OrderView

    s = scenario()
    run = Run()
    run.order("ok-1", 1.0)
    run.order("risk-1", 2.0, accepted=False)  # refused, never at the venue, finally rejected: a refusal
    run.order("down-1", 3.0, accepted=False)  # refused as the venue was down: the middleware has no order
    run.order("late-1", 4.0, accepted=False)  # answered 4xx, yet the venue has it: not a refusal
    measured = measure(
        s,
        run.history,
        run.timeline,
        venue_fills=[fill("ok-1"), fill("ok-1"), fill("ok-1", dup="f1"), fill("late-1")],
        venue_orders=[
            {"client_tag": "ok-1", "status": "filled", "filled_qty": 2},
            {"client_tag": "late-1", "status": "filled", "filled_qty": 1},
        ],
        orders={
            "ok-1": OrderView("filled", 2),
            "risk-1": OrderView("rejected"),
            "down-1": OrderView.missing(),
            "late-1": OrderView("rejected"),
        },
    )
    assert measured.risk_refusals == 1
    assert measured.multi_fill_orders == 1, "two real pieces; the duplicate notice is not a piece"
    minimum = Minimum(risk_refusals=2, multi_fill_orders=1)
    assert shortfall(minimum, measured) == [
        "1 order(s) refused by the middleware's risk checks (never sent to the venue), at least 2 needed"
    ]


def test_a_protocol_fault_fired_only_if_its_mock_says_so_and_it_hit_something() -> None:
    s = scenario(protocol("rithmic", "forced_logout", plant="ticker"), protocol("tt", "malformed_json"))
    run = Run()
    nobody = {"rithmic": [{"kind": "fault_fired", "fault": "forced_logout", "sessions": []}]}
    assert fired_faults(s, run.timeline, nobody) == ()
    hit: dict[str, list[dict[str, Any]]] = {
        "rithmic": [{"kind": "fault_fired", "fault": "forced_logout", "sessions": [3]}],
        "tt": [{"kind": "fault_armed", "fault": "malformed_json"}],  # armed is not fired
    }
    assert fired_faults(s, run.timeline, hit) == ("rithmic:forced_logout",)
    assert event_kinds(s) == {"rithmic": ("fault_fired",), "tt": ("fault_fired",)}


def test_an_extension_toxic_took_effect_only_if_the_plane_counted_it_biting() -> None:
    loss = toxic("postgres", "packet_loss", for_s=5.0, bad_loss_ppm=400_000)
    flips = toxic("rithmic", "corrupt", for_s=2.0, byte_ppm=100)
    s = scenario(loss, flips)
    run = Run()
    assert fired_faults(s, run.timeline, {}) == ()  # never opened
    run.window(loss, 1.0, 6.0)
    run.window(flips, 1.0, 3.0)
    assert fired_faults(s, run.timeline, {}) == ()  # opened, but no count read: no proof
    run.timeline.windows[0].effects = {"lost": 0, "stalled_ms": 0}  # in force over a quiet link
    run.timeline.windows[1].effects = {"flipped": 3}
    assert fired_faults(s, run.timeline, {}) == ("rithmic:corrupt",)
    measured = measure(s, run.history, run.timeline)
    assert shortfall(s.minimum, measured)[-1] == (
        "fault `postgres:packet_loss` never took effect (no segment was lost while it was in force)"
    )
    run.timeline.windows[0].effects = {"lost": 2, "stalled_ms": 600}
    assert fired_faults(s, run.timeline, {}) == ("postgres:packet_loss", "rithmic:corrupt")


def test_mock_events_are_counted_per_kind() -> None:
    s = scenario(workload="quiet", evidence=Evidence(mock_events=(("tt", "token_request", 2),)))
    run = Run()
    events = {"tt": [{"kind": "token_request", "status": 200}]}
    measured = measure(s, run.history, run.timeline, mock_events=events)
    assert measured.mock_events == (("tt", "token_request", 1),)
    assert shortfall(s.minimum, measured) == ["1 `token_request` event(s) at the tt mock, at least 2 needed"]
    assert event_kinds(s) == {"tt": ("token_request",)}


# -- below the minimum, and the status that follows


def test_shortfall_says_exactly_what_is_missing() -> None:
    minimum = Minimum(
        accepted_orders=3, venue_fills=3, orders_during_faults=1, faults_fired=("rithmic:down",)
    )
    assert shortfall(minimum, Measured(accepted_orders=3, venue_fills=5, orders_during_faults=2,
                                       faults_fired=("rithmic:down",))) == []  # fmt: skip
    assert shortfall(minimum, Measured()) == [
        "0 order(s) accepted (2xx), at least 3 needed",
        "0 fill(s) of our orders at the venue, at least 3 needed",
        "0 order(s) sent while a fault was active, at least 1 needed",
        "fault `rithmic:down` never took effect (not applied)",
    ]


def test_thin_trading_is_a_shortfall_more_trading_would_fill_and_nothing_else() -> None:
    minimum = Minimum(
        accepted_orders=3, venue_fills=3, cancels=2, orders_during_faults=1, multi_fill_orders=1
    )
    enough = Measured(accepted_orders=3, venue_fills=3, cancels=2)
    assert not thin_trading(minimum, enough)  # short of faulted orders and pieces: trading on adds none
    assert shortfall(minimum, enough)  # ...though the run is still short of them
    for field in ("accepted_orders", "venue_fills", "cancels"):
        assert thin_trading(minimum, replace(enough, **{field: getattr(enough, field) - 1})), field
    assert not thin_trading(Minimum(), Measured())


HELD = Verdict.ok("no_lost_fill", "all 4 contracts in the middleware")
BROKE = Verdict.fail("positions_reconcile", "1 position differs", [{"account": "A1"}], "data loss")
EMPTY = Verdict.no_evidence("no_duplicate_order", "no order of ours reached the venue")
CANNOT = Verdict.skip("db_reconcile", "not run: no access to the middleware's database")


@pytest.mark.parametrize(
    ("verdicts", "missing", "status"),
    [
        ([HELD], [], "passed"),
        ([HELD, CANNOT], [], "passed"),  # a skipped check: passed (--strict fails the gate on it)
        ([HELD], ["0 order(s) accepted (2xx), at least 3 needed"], "inconclusive"),
        ([HELD, EMPTY], [], "inconclusive"),
        ([CANNOT], [], "inconclusive"),  # nothing was judged at all
        ([BROKE, EMPTY], ["0 fill(s) of our orders at the venue, at least 3 needed"], "failed"),
    ],
)
def test_scenario_status(verdicts: list[Verdict], missing: list[str], status: str) -> None:
    assert scenario_status(verdicts, missing) == status


def test_the_reason_names_what_failed_or_what_was_missing() -> None:
    missing = ["0 order(s) accepted (2xx), at least 3 needed"]
    assert missing_evidence([HELD, EMPTY], missing) == [
        "0 order(s) accepted (2xx), at least 3 needed",
        "no_duplicate_order: no order of ours reached the venue",
    ]
    assert status_reason("inconclusive", [HELD, EMPTY], missing) == (
        "inconclusive, not enough evidence to judge: 0 order(s) accepted (2xx), at least 3 needed; "
        "no_duplicate_order: no order of ours reached the venue"
    )
    assert status_reason("failed", [BROKE], []) == "failed: positions_reconcile (1 position differs)"
    assert status_reason("passed", [HELD, CANNOT], []) == (
        "passed: 1 check(s) held; db_reconcile skipped (not run: no access to the middleware's database)"
    )


def test_a_scenario_applies_only_to_a_target_with_its_venues_and_operations() -> None:
    def supports(operation: str) -> bool:
        return operation != "cancel_order"

    needs = ("account", "cancel_order", "rithmic", "tt")
    assert unmet_needs(needs, ("rithmic", "tt", "stripe"), lambda op: True) == []
    assert unmet_needs(needs, ("rithmic", "stripe"), supports) == [
        "the target's adapter has no `cancel_order` operation",
        "the target is not wired to venue `tt`",
    ]


def test_a_scenario_needing_a_setting_the_target_does_not_map_is_not_applicable() -> None:
    needs = ("rithmic", "setting:order_timeout_s")
    assert unmet_needs(needs, ("rithmic",), lambda op: True, {"order_timeout_s"}) == []
    assert unmet_needs(needs, ("rithmic",), lambda op: True) == [
        "the target file maps no [settings] order_timeout_s"
    ]


def test_a_scenario_with_extension_toxics_does_not_apply_on_a_real_toxiproxy() -> None:
    needs = ("rithmic", "plane:extensions")
    assert unmet_needs(needs, ("rithmic", "plane:extensions"), lambda op: True) == []
    (why,) = unmet_needs(needs, ("rithmic",), lambda op: True)
    assert "real Toxiproxy" in why and "--backend embedded" in why
