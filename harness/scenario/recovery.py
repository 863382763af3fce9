"""When the steady and recovery phases have seen enough: each lasts its declared length at most
(`steady_s`, `recovery_s`), and ends sooner once the middleware is visibly working, so a healthy
build is not kept waiting while a broken one still gets the whole phase to show how it fails.

The steady phase ends early only before a fault: there it is a baseline (the middleware works, and
what each operation takes when nothing is broken), counted from the phase's start by the same signs
as a recovery, and never under MIN_STEADY_S, so db_bounded_answers has a latency baseline. A
scenario without faults keeps its whole steady phase: that phase is then its workload.

Recovered means, for what was asked after the last fault cleared: each trader's last two orders
were answered 2xx; the last health answer was 2xx and healthy (its database up, and a quote that
arrived after the clearing, where it says); the last admin read of an account was 2xx; and the last
metrics scrape, where there is one, read the database up. Each needs at least one answer after the
clearing, so the checks that judge the recovery (recovery_slo, admin_recovers, health_truthful,
metrics_truthful, quotes_resume) always have some.

A recovery phase shorter than the target's recovery SLO must not end before the SLO does with no
order accepted since the clearing: recovery_slo would then call a build that recovers at second 6 of
a 15 s SLO one that never recovered (a loaded CI box once did exactly that). So where recovery_slo
judges, the phase runs on until an order is accepted or the SLO has passed (`wait_for_reacceptance`);
a build that recovers in time costs nothing more, one that does not costs the SLO.

A run can reach its end short of the evidence it declared because of chance, not the build: a
seed whose traders rested most of their orders and cancelled them, on a loaded box, once left
RISK-CANCEL-PLANT-DOWN with 2 fills of the 3 it needs (5 gates in 20). After the recovery, while
the run is short of what more ordinary trading adds (`thin_trading`: accepted orders, fills,
cancels), the traders trade on for at most EVIDENCE_S (`wait_for_evidence`); a run with enough
evidence costs nothing, and a build that accepts nothing costs EVIDENCE_S before it is reported
inconclusive, as before.

A build that refused every order it answered in the steady phase, before any fault, gives the faults
nothing to break: `refused_everything` says so, and the runner then injects nothing and waits out no
recovery. The scenario is inconclusive at once, naming the answers it got (a build that refuses all
orders went from about 19 s a scenario to about 5, set-up included). An order still unanswered is not a
refusal, so a build that hangs still runs the whole scenario and fails its checks with the evidence."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection

from ..checks import Verdict
from ..checks.availability import QUOTE_FRESH_S
from ..history import History, Op
from .model import Scenario

MIN_RECOVERY_S = 1.0  # never shorter: a first answer after the clearing is not yet a recovery
MIN_STEADY_S = 1.0  # about four orders a trader at the default pace: a baseline, not one sample
POLL_S = 0.1
EVIDENCE_S = 8.0  # trading on after the recovery for evidence the run still lacks: at most this
EVIDENCE_POLL_S = 0.5  # each poll reads the venue's ledger: not ten times a second
ORDERS_PER_TRADER = 2


def recovered(history: History, cleared_at: float, traders: Collection[str], *, metrics: bool) -> bool:
    after = [(invoked, done) for invoked, done in history.completions() if invoked.time >= cleared_at]
    for trader in traders:
        orders = [done for invoked, done in after if invoked.f == "place_order" and invoked.process == trader]
        if len(orders) < ORDERS_PER_TRADER or any(o.type != "ok" for o in orders[-ORDERS_PER_TRADER:]):
            return False
    wanted: dict[str, Callable[[Op], bool]] = {
        "health": lambda done: _healthy(done, cleared_at),
        "account": _ok,
    }
    if metrics:
        wanted["metrics"] = _database_up
    for f, good in wanted.items():
        answers = [done for invoked, done in after if invoked.f == f]
        if not answers or not good(answers[-1]):
            return False
    return True


def refused_everything(history: History, since: float) -> dict[str, int] | None:
    """The refusals of the orders placed since `since`, counted by HTTP status (or error), when
    there was at least one and every order answered was refused; None when some order was accepted,
    none was answered yet, or one ended unknown (a timeout: a hang is judged by the whole run)."""
    answers: dict[str, int] = {}
    for invoked, done in history.completions("place_order"):
        if invoked.time < since:
            continue
        if done.type != "fail":
            return None
        key = str(done.status) if done.status is not None else (done.error.split(":")[0] or "error")
        answers[key] = answers.get(key, 0) + 1
    return answers or None


def not_driven(scenario: Scenario, refused: dict[str, int]) -> tuple[str, list[Verdict]]:
    """Why a scenario's faults were not injected (its first missing evidence), and each of its checks
    with nothing to judge."""
    answers = ", ".join(f"{n} x {key}" for key, n in sorted(refused.items()))
    why = (
        f"every order answered in the steady phase, before any fault, was refused ({answers}), so the "
        "faults were not injected: a build that takes no order when nothing is broken gives them "
        "nothing to break"
    )
    evidence = [{"refused_in_steady_phase": refused}]
    summary = "not judged: the faults were not injected (every order was refused before them)"
    return why, [Verdict.no_evidence(name, summary, evidence) for name in scenario.checks]


def wait_for_recovery(
    history: History,
    cleared_at: Callable[[], float],
    traders: Collection[str],
    *,
    metrics: bool,
    at_most_s: float,
) -> float:
    """Waits until `recovered`, at least MIN_RECOVERY_S and at most `at_most_s`; the seconds waited."""
    return _wait(
        lambda: recovered(history, cleared_at(), traders, metrics=metrics), MIN_RECOVERY_S, at_most_s
    )


def accepted_since(history: History, cleared_at: float) -> bool:
    """Some order asked for at or after `cleared_at` was accepted: what recovery_slo looks for."""
    return any(
        done.type == "ok"
        for invoked, done in history.completions("place_order")
        if invoked.time >= cleared_at
    )


def wait_for_reacceptance(
    history: History, cleared_at: Callable[[], float], now: Callable[[], float], *, slo_s: float
) -> float:
    """Waits, after the recovery phase, until an order asked for since the clearing is accepted or
    `slo_s` has passed since the clearing (in the history's clock, `now`); the seconds waited."""
    remaining = cleared_at() + slo_s - now()
    if remaining <= 0:
        return 0.0
    return _wait(lambda: accepted_since(history, cleared_at()), 0.0, remaining)


def wait_for_steady(
    history: History,
    began_at: float,
    traders: Collection[str],
    *,
    metrics: bool,
    at_most_s: float,
    faults_follow: bool,
) -> float:
    """The steady phase: until the middleware is working (`recovered`, counted from `began_at`), at
    least MIN_STEADY_S and at most `at_most_s`; all of `at_most_s` when no fault follows."""
    if not faults_follow:
        return _wait(lambda: False, at_most_s, at_most_s)
    return _wait(lambda: recovered(history, began_at, traders, metrics=metrics), MIN_STEADY_S, at_most_s)


def wait_for_evidence(
    thin: Callable[[], bool], *, at_most_s: float = EVIDENCE_S, known_thin: bool = False
) -> float:
    """Waits while the run is `thin` (short of evidence more trading adds), at most `at_most_s`;
    the seconds waited, 0 when it already had enough. `known_thin`: the caller has just found it
    thin, so the first poll comes one interval later rather than reading the ledger again at once."""
    first = EVIDENCE_POLL_S if known_thin else 0.0
    return _wait(lambda: not thin(), first, at_most_s, poll_s=EVIDENCE_POLL_S)


def _wait(done: Callable[[], bool], at_least_s: float, at_most_s: float, *, poll_s: float = POLL_S) -> float:
    began = time.monotonic()
    at_least = min(at_least_s, at_most_s)
    while True:
        waited = time.monotonic() - began
        if waited >= at_most_s:
            return waited
        if waited >= at_least and done():
            return waited
        time.sleep(min(poll_s, at_most_s - waited))


def _ok(done: Op) -> bool:
    return done.type == "ok"


def _healthy(done: Op, cleared_at: float) -> bool:
    """2xx, healthy, its database up where it says, and, where it reports its quotes' age, a fresh
    quote that arrived after the clearing: market data flowing again, not a last quote from before
    the fault still young enough to pass for fresh (quotes_resume judges the same)."""
    view = done.value.get("view") or {}
    age = view.get("quote_age_s")
    flowing = age is None or (float(age) < QUOTE_FRESH_S and done.time - float(age) >= cleared_at)
    return (
        done.type == "ok"
        and view.get("healthy") is not False
        and view.get("database_ok") is not False
        and flowing
    )


def _database_up(done: Op) -> bool:
    value = (done.value.get("response") or {}).get("database_up")
    return done.type == "ok" and isinstance(value, int | float) and value > 0
