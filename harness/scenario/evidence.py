"""No verdict without evidence: what a run showed, measured against the minimum its scenario
declares (Scenario.minimum); whether a scenario applies to a target at all (Scenario.requires);
and the scenario's status from both and its checks' verdicts.

Pure functions of the history, the fault timeline, the venue ledger and the mocks' events, so they
are tested on hand-built runs; the runner gathers the inputs once the run has settled."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from ..adapters import OrderView
from ..adapters.base import OPERATIONS
from ..adapters.spec import DECLARED_REQUESTS, PER_TRADER_KEYS
from ..checks import Verdict
from ..faults.embedded.extensions import EVIDENCE
from ..history import History
from ..security.secretspec import ROTATION_NEED
from ..security.spec import ALLOWLIST_NEED
from ..timeline import Timeline
from .model import COUNTED, Minimum, Scenario, fault_key

# passed: every check held over enough evidence; failed: a check found the middleware at fault;
# inconclusive: the run fell short of its minimum evidence, or a check had nothing to judge (fails the
# gate); skipped: the scenario does not apply to this target; harness_error: the harness could not run it.
ScenarioStatus = Literal["passed", "failed", "inconclusive", "skipped", "harness_error"]
SCENARIO_STATUSES: tuple[ScenarioStatus, ...] = (
    "passed",
    "failed",
    "inconclusive",
    "skipped",
    "harness_error",
)
ADAPTER_OPERATIONS = (
    *OPERATIONS,
    "stream",
    "quote_age",
    "health_database",
    "issue_key",
    "revoke_key",
    DECLARED_REQUESTS,
    PER_TRADER_KEYS,
)  # a need that is not one of these names a venue


@dataclass(frozen=True)
class Measured:
    """What one run showed, in the terms of `Minimum`."""

    accepted_orders: int = 0
    venue_fills: int = 0
    resting_orders: int = 0
    orders_during_faults: int = 0
    faults_fired: tuple[str, ...] = ()
    webhook_sends: int = 0
    cancels: int = 0
    risk_refusals: int = 0
    multi_fill_orders: int = 0
    lifecycle_traders: int = 0
    mock_events: tuple[tuple[str, str, int], ...] = ()  # (venue, kind, how many) for each kind asked for

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["faults_fired"] = list(self.faults_fired)
        data["mock_events"] = [list(e) for e in self.mock_events]
        return data


def fault_windows(scenario: Scenario, timeline: Timeline) -> list[tuple[str, float, float | None]]:
    """(fault key, start, end) of every window the schedule's faults opened (not actions or markers)."""
    keys = {step.label: fault_key(step) for step in scenario.schedule if fault_key(step)}
    return [(keys[w.name], w.start, w.end) for w in timeline.windows if w.name in keys]


def event_kinds(scenario: Scenario) -> dict[str, tuple[str, ...]]:
    """venue -> the event kinds to read from its mock (`GET /events?kind=K`) to measure this scenario."""
    kinds: dict[str, list[str]] = {}
    for step in scenario.schedule:
        if step.kind == "protocol":
            kinds.setdefault(step.venue, []).append("fault_fired")
    for venue, kind, _ in scenario.minimum.mock_events:
        kinds.setdefault(venue, []).append(kind)
    return {venue: tuple(dict.fromkeys(found)) for venue, found in sorted(kinds.items())}


def fired_faults(
    scenario: Scenario, timeline: Timeline, mock_events: Mapping[str, Sequence[Mapping[str, Any]]]
) -> tuple[str, ...]:
    """The schedule's faults that took effect: a network fault whose window is in the timeline (the
    fault plane accepted it), a protocol fault its mock reported fired. A push fault that hit no
    session (`sessions: []`) did not take effect, nor did an extension toxic (packet_loss, corrupt)
    whose window's `effects` do not show it biting (EVIDENCE: a segment lost, a byte flipped)."""
    opened = {key for key, _, _ in fault_windows(scenario, timeline)}
    found: list[str] = []
    for step in scenario.schedule:
        key = fault_key(step)
        if not key or key in found:
            continue
        if step.kind == "protocol":
            events = mock_events.get(step.venue, ())
            fired = (e for e in events if e.get("kind") == "fault_fired" and e.get("fault") == step.fault)
            if any(e.get("sessions", True) for e in fired):
                found.append(key)
        elif step.kind == "toxic" and step.toxic in EVIDENCE:
            counted = EVIDENCE[step.toxic][0]
            windows = [w for w in timeline.windows if w.name == step.label]
            if any((w.effects or {}).get(counted, 0) > 0 for w in windows):
                found.append(key)
        elif key in opened:
            found.append(key)
    return tuple(found)


def measure(
    scenario: Scenario,
    history: History,
    timeline: Timeline,
    *,
    venue_fills: Iterable[Mapping[str, Any]] = (),
    venue_orders: Iterable[Mapping[str, Any]] = (),
    mock_events: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    webhook_sends: Iterable[Mapping[str, Any]] = (),
    orders: Mapping[str, OrderView] | None = None,
    lifecycle_sends: Iterable[Mapping[str, Any]] = (),
) -> Measured:
    """`venue_fills`, `venue_orders`: the Rithmic ledger's; `mock_events`: venue -> its mock's events of
    the kinds `event_kinds` names; `webhook_sends`: the Stripe mock's answers to the run's sends;
    `orders`: the middleware's final view of each order (client_order_id -> view); `lifecycle_sends`:
    the funded checkouts' Stripe sends (one per trader)."""
    events = mock_events or {}
    venue_orders = list(venue_orders)
    views = orders or {}
    placed = history.completions("place_order")
    ours = {str(invoked.value.get("client_order_id")) for invoked, _ in placed}
    windows = fault_windows(scenario, timeline)
    during = [
        invoked
        for invoked, _ in placed
        if any(start <= invoked.time and (end is None or invoked.time <= end) for _, start, end in windows)
    ]
    fills = [f for f in venue_fills if str(f.get("client_tag")) in ours and not f.get("duplicate_of")]
    pieces = Counter(str(f.get("client_tag")) for f in fills)
    at_venue = {str(o.get("client_tag")) for o in venue_orders}
    refused = {
        str(invoked.value.get("client_order_id"))
        for invoked, done in placed
        if done.type == "fail"
        and str(invoked.value.get("client_order_id")) not in at_venue
        and getattr(views.get(str(invoked.value.get("client_order_id"))), "status", "") == "rejected"
    }
    resting = [
        o
        for o in venue_orders
        if str(o.get("client_tag")) in ours and o.get("status") == "open" and not o.get("filled_qty")
    ]
    delivered = [
        send for send in webhook_sends if any(d.get("status") for d in send.get("deliveries", ()) or ())
    ]
    return Measured(
        accepted_orders=sum(1 for _, done in placed if done.type == "ok"),
        venue_fills=len(fills),
        resting_orders=len(resting),
        orders_during_faults=len(during),
        faults_fired=fired_faults(scenario, timeline, events),
        webhook_sends=len(delivered),
        cancels=sum(1 for _, done in history.completions("cancel_order") if done.type == "ok"),
        risk_refusals=len(refused),
        multi_fill_orders=sum(1 for n in pieces.values() if n > 1),
        lifecycle_traders=sum(
            1
            for send in lifecycle_sends
            if any(200 <= int(d.get("status") or 0) < 300 for d in send.get("deliveries", ()) or ())
        ),
        mock_events=tuple(
            (venue, kind, sum(1 for e in events.get(venue, ()) if e.get("kind") == kind))
            for venue, kind, _ in scenario.minimum.mock_events
        ),
    )


TRADING_GROWS = ("accepted_orders", "venue_fills", "cancels")  # what more trading after a recovery adds


def thin_trading(minimum: Minimum, measured: Measured) -> bool:
    """The run is short of evidence that more ordinary trading would add: accepted orders, fills at
    the venue, accepted cancels. Not orders during a fault, multi-piece fills or refusals, which
    only the fault phase or a crafted order makes."""
    return any(getattr(measured, name) < getattr(minimum, name) for name in TRADING_GROWS)


def shortfall(minimum: Minimum, measured: Measured) -> list[str]:
    """What the run is missing to be judged, one phrase each; empty when it has enough."""
    missing = []
    for name, what in COUNTED:
        need, got = getattr(minimum, name), getattr(measured, name)
        if got < need:
            missing.append(f"{got} {what}, at least {need} needed")
    for fault in minimum.faults_fired:
        if fault not in measured.faults_fired:
            kind = fault.rpartition(":")[2]
            if kind in EVIDENCE:
                how = EVIDENCE[kind][1]
            else:
                how = "not reported fired by its mock" if not fault.endswith(":down") else "not applied"
            missing.append(f"fault `{fault}` never took effect ({how})")
    seen = {(venue, kind): n for venue, kind, n in measured.mock_events}
    for venue, kind, need in minimum.mock_events:
        got = seen.get((venue, kind), 0)
        if got < need:
            missing.append(f"{got} `{kind}` event(s) at the {venue} mock, at least {need} needed")
    return missing


def unmet_needs(
    requires: Iterable[str],
    offers: Collection[str],
    supports: Callable[[str], bool],
    settings: Collection[str] = (),
) -> list[str]:
    """Why the target cannot run a scenario that requires these: each venue it is not wired to, each
    optional adapter operation it lacks, each setting its file does not map, each database or
    deployment part it does not declare (Target.offers). Empty: it applies."""
    unmet = []
    for need in requires:
        if need.startswith("setting:"):
            if need.removeprefix("setting:") not in settings:
                unmet.append(f"the target file maps no [settings] {need.removeprefix('setting:')}")
        elif need in ADAPTER_OPERATIONS:
            if not supports(need):
                unmet.append(CAPABILITIES.get(need, f"the target's adapter has no `{need}` operation"))
        elif need not in offers:
            unmet.append(_unmet(need))
    return unmet


CAPABILITIES = {
    DECLARED_REQUESTS: 'the target\'s adapter is code (kind = "python"): the harness cannot vary the '
    "credentials, sources and bodies of its requests",
    PER_TRADER_KEYS: "the target file declares no per-trader keys ([adapter.auth] trader and issue_key), "
    "so one trader cannot be set against another's objects",
}


def _unmet(need: str) -> str:
    kind, _, name = need.partition(":")
    if kind == "db_lock":
        return f"the target file declares no [database.locks] {name} statement"
    if kind == "db_table":
        return "the target file declares no [database] lock_table"
    if kind in ("db_sql", "db_restart"):
        return (
            "the target's database is its own ([postgres] dsn): the harness only locks, exhausts or "
            "restarts a throwaway cluster it started"
        )
    if kind == "deploy" and name == "bad_release":
        return "the target file declares no [deploy] bad_release_env (the switch for a broken release)"
    if kind == "deploy":
        return "the harness does not start this target, so it cannot redeploy it"
    if kind == "plane":
        return (
            "the fault plane is a real Toxiproxy, and this scenario uses stack-uat's extension toxics "
            "(packet_loss, corrupt), which only the embedded fault plane implements (--backend embedded)"
        )
    if need == ROTATION_NEED:
        return (
            "the target file declares no [secrets] source carrying a venue credential that rotates "
            "(the Rithmic password, the TT app secret or the Stripe webhook secret)"
        )
    if need == ALLOWLIST_NEED:
        return "the target file declares no [security] admin_allowlisted and admin_not_allowlisted addresses"
    if kind == "metrics":
        return "the target file declares no [metrics] (a Prometheus endpoint and its database_up gauge)"
    return f"the target is not wired to venue `{need}`"


def scenario_status(verdicts: Sequence[Verdict], missing: Sequence[str]) -> ScenarioStatus:
    """failed beats inconclusive: a failed check carries its own evidence, however thin the run."""
    if any(v.status == "failed" for v in verdicts):
        return "failed"
    if (
        missing
        or any(v.status == "no_evidence" for v in verdicts)
        or all(v.status == "skipped" for v in verdicts)
    ):
        return "inconclusive"
    return "passed"


def missing_evidence(verdicts: Sequence[Verdict], missing: Sequence[str]) -> list[str]:
    """The scenario's shortfall, then each check that had nothing to judge, with its reason."""
    found = list(missing)
    found += [f"{v.check}: {v.summary}" for v in verdicts if v.status == "no_evidence"]
    if verdicts and all(v.status == "skipped" for v in verdicts):
        found.append("every check was skipped: nothing was judged")
    return found


def status_reason(status: ScenarioStatus, verdicts: Sequence[Verdict], missing: Sequence[str]) -> str:
    """One line: why the scenario has this status."""
    if status == "failed":
        return "failed: " + ", ".join(f"{v.check} ({v.summary})" for v in verdicts if v.status == "failed")
    if status == "inconclusive":
        return "inconclusive, not enough evidence to judge: " + "; ".join(missing_evidence(verdicts, missing))
    skipped = [f"{v.check} skipped ({v.summary})" for v in verdicts if v.status == "skipped"]
    held = sum(1 for v in verdicts if v.status == "passed")
    return f"passed: {held} check(s) held" + (f"; {'; '.join(skipped)}" if skipped else "")
