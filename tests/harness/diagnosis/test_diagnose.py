"""diagnose() on hand-built evidence: each cause, the order the rules are tried in, and the span."""

from __future__ import annotations

import json
from collections.abc import Sequence

from harness.diagnosis import DbSample, DbSession, Diagnosis, HealthSample, ProcessEvent, diagnose
from harness.timeline import FaultWindow

from .conftest import LOCK_SQL, down, holder, sample, waiter, window


def judge(
    span: tuple[float, float] | None = (3.0, 8.0),
    *,
    faults: Sequence[FaultWindow] = (),
    db: Sequence[DbSample] = (),
    health: Sequence[HealthSample] = (),
    process: Sequence[ProcessEvent] = (),
) -> Diagnosis:
    found = diagnose(span, faults=faults, db=db, health=health, process=process)
    assert Diagnosis.from_json(json.loads(json.dumps(found.to_json()))) == found  # JSON all the way
    assert found.line() == found.summary and "\n" not in found.summary
    return found


def row_lock_samples() -> list[DbSample]:
    """pid 4242 holds a row; seven middleware sessions pile up behind it, 3.0 s to 7.0 s."""
    out = []
    for i, t in enumerate((3.0, 4.0, 5.0, 6.0, 7.0)):
        victims = [waiter(100 + n, 4242) for n in range(min(7, 2 * i + 1))]
        out.append(sample(t, holder(age=0.2 + t - 3.0 if t < 7.0 else 4.2), *victims, waiter(300)))
    return out


LOCK_WINDOW = window("postgres row_lock (lock=accounts)", 2.9, 7.5, kind="database")


def test_a_held_row_lock_names_its_holder_its_query_and_whom_it_blocked() -> None:
    found = judge(faults=[LOCK_WINDOW], db=row_lock_samples())
    assert found.cause == "database lock"
    assert found.summary.startswith(
        'database lock: pid 4242 (uat-fault:row_lock, idle in transaction for 4.2 s) held "SELECT 1 FROM '
    )
    assert "blocking 7 session(s) of reference_middleware" in found.summary
    assert "longest wait seen 4.0 s (3.0–7.0 s); the fault postgres row_lock (lock=accounts) (2.9–7.5 s)" in (
        found.summary
    )
    assert found.evidence["holder_fault"] == LOCK_WINDOW.name
    assert found.evidence["holder_query"] == LOCK_SQL
    assert found.evidence["holder"]["pid"] == 4242
    assert found.evidence["blocked_applications"] == {"reference_middleware": 7}
    assert found.evidence["max_wait_seen_s"] == 4.0
    assert [w["name"] for w in found.evidence["fault_windows"]] == [LOCK_WINDOW.name]
    assert found.evidence["db_sampled"] == [3.0, 7.0]


def test_an_active_holder_is_told_by_the_statement_it_runs_and_its_fault() -> None:
    sleeping = DbSession(
        4242, "uat-fault:row_lock", "active", "Timeout", "PgSleep", "SELECT pg_sleep(30)", 3.0
    )
    found = judge(faults=[LOCK_WINDOW], db=[sample(4.0, sleeping, waiter(7, 4242))])
    assert found.summary == (
        'database lock: pid 4242 (uat-fault:row_lock, active for 3.0 s) running "SELECT pg_sleep(30)", '
        "blocking 1 session(s) of reference_middleware; seen at 4.0 s; "
        "the fault postgres row_lock (lock=accounts) (2.9–7.5 s)"
    )


def test_a_long_holder_query_is_elided_in_the_middle() -> None:
    query = (
        "SELECT 1 FROM accounts WHERE id = ANY($1::text[]) AND "
        + " AND ".join(["x = 1"] * 40)
        + " FOR UPDATE"
    )
    lock = holder()
    lock = type(lock)(lock.pid, lock.application_name, lock.state, None, None, query, 4.2)
    found = judge(db=[sample(4.0, lock, waiter(7, 4242))])
    assert (
        'held "SELECT 1 FROM accounts WHERE' in found.summary
        and '… x = 1 AND x = 1 FOR UPDATE"' in found.summary
    )
    assert found.evidence["holder_query"] == query


def test_the_holder_that_blocked_most_is_named_and_a_chain_is_charged_to_its_root() -> None:
    chain = [
        holder(100, app="psql"),  # holds: 101 waits on it, 102 and 103 wait on 101
        waiter(101, 100, app="reference_middleware"),
        waiter(102, 101),
        waiter(103, 101),
        holder(200, age=9.0, app="uat-fault:table_lock"),  # an older holder, but it blocks only one
        waiter(201, 200),
    ]
    found = judge(db=[sample(4.0, *chain), sample(4.5, *chain)])
    assert "pid 100 (psql, idle in transaction for 4.2 s)" in found.summary
    assert "blocking 3 session(s) of reference_middleware" in found.summary
    assert "; 2 other holder(s)" in found.summary
    assert {h["pid"] for h in found.evidence["other_holders"]} == {101, 200}


def test_brief_row_contention_between_the_middlewares_own_sessions_is_no_lock() -> None:
    blip = sample(4.0, holder(10, age=0.05, app="reference_middleware"), waiter(11, 10))
    assert judge(db=[blip]).cause == "undetermined"
    # The same blocking seen twice is held long enough to count, whatever its transaction's age.
    assert judge(db=[blip, sample(4.5, *blip.sessions)]).cause == "database lock"


def test_a_lock_fault_that_blocked_nobody_is_neither_a_lock_nor_an_outage() -> None:
    idle = [sample(t, holder(), waiter(300)) for t in (3.0, 4.0, 5.0)]
    found = judge(faults=[LOCK_WINDOW], db=idle)
    assert found.cause == "undetermined"
    assert "postgres row_lock (lock=accounts) was in force but blocked no sampled session" in found.summary


def test_a_deployment_outranks_a_lock_an_outage_and_a_venue() -> None:
    crash = window("middleware crash", 4.0, 6.5, kind="deployment")
    events = [
        ProcessEvent(4.0, "sigkill", "middleware crash"),
        ProcessEvent(4.1, "exited", "middleware crash", 137, tuple(f"log line {n}" for n in range(8))),
        ProcessEvent(4.2, "started", "middleware crash"),
        ProcessEvent(6.4, "ready", "middleware crash"),
    ]
    found = judge(
        faults=[crash, window("rithmic down", 3.0, 7.0)],
        db=[*row_lock_samples(), down(5.5)],
        process=events,
    )
    assert found.cause == "deployment"
    assert found.summary == (
        "deployment: middleware crash (4.0–6.5 s): sigkill at 4.0 s, exited at 4.1 s (exit code 137), "
        'started at 4.2 s, ready at 6.4 s; last log: "log line 7"'
    )
    assert found.evidence["exit_codes"] == [137]
    assert found.evidence["log_lines"] == [f"log line {n}" for n in range(3, 8)]
    assert [d.split(":")[0] for d in found.evidence["also"]] == [
        "database lock",
        "database unavailable",
        "venue",
    ]


def test_an_unscheduled_exit_is_a_deployment_too_and_a_start_alone_is_not() -> None:
    assert judge(process=[ProcessEvent(1.0, "started"), ProcessEvent(2.0, "ready")]).cause == "undetermined"
    found = judge(process=[ProcessEvent(5.0, "exited", "the middleware exited on its own", 1, ("boom",))])
    assert (
        found.summary
        == 'deployment: the middleware exited on its own: exited at 5.0 s (exit code 1); last log: "boom"'
    )


def test_a_flood_or_a_rotation_on_the_middleware_is_no_deployment() -> None:
    for name in ("middleware flood", "middleware rotate_secrets"):
        found = judge(faults=[window(name, 1.0, 3.0, kind="protocol")])
        assert found.cause == "undetermined", (name, found.summary)  # what failed is its own doing
    restart = judge(faults=[window("middleware graceful", 1.0, 3.0, kind="deployment")])
    assert restart.cause == "deployment"


def test_a_lock_outranks_an_outage_and_a_venue_fault() -> None:
    found = judge(faults=[window("tt down", 2.0, 9.0)], db=[*row_lock_samples(), down(7.5)])
    assert found.cause == "database lock"
    assert found.evidence["also"][0].startswith("database unavailable: Postgres unreachable")
    assert found.evidence["also"][1] == "venue: tt — tt down (2.0–9.0 s)"


def test_a_postgres_restart_is_told_with_how_long_it_was_unreachable() -> None:
    samples = [sample(2.5), down(3.0), down(3.5), down(4.0, "x"), sample(4.3), sample(4.8)]
    found = judge(faults=[window("postgres restart", 2.9, 4.2, kind="database")], db=samples)
    assert found.cause == "database unavailable"
    assert found.summary == (
        "database unavailable: Postgres restarted (postgres restart, 2.9–4.2 s): "
        "unreachable for 1.3 s (3.0–4.3 s)"
    )
    assert found.evidence["outages"][0]["samples"] == 3


def test_the_database_link_down_or_slowed_is_an_outage_without_any_sample() -> None:
    found = judge(faults=[window("postgres down", 3.0, 7.0)])
    assert found.summary == "database unavailable: the database link was down 3.0–7.0 s (postgres down)"
    slow = window("postgres latency downstream (latency=800)", 3.0, None)
    assert judge(faults=[slow]).summary == (
        "database unavailable: the database link was degraded from 3.0 s on "
        "(postgres latency downstream (latency=800))"
    )


def test_unreachable_samples_exhausted_connections_and_a_health_answer_each_tell_an_outage() -> None:
    refused = down(4.0, "TooManyConnectionsError: sorry, too many clients already")
    found = judge(db=[refused, sample(4.5, connections=97), sample(5.0, connections=40)])
    assert found.summary == (
        "database unavailable: Postgres refused connections (out of slots) for 0.5 s (4.0–4.5 s): "
        "TooManyConnectionsError: sorry, too many clients already; "
        "connections at the limit: 97 of 97 in use (4.5–4.5 s)"
    )
    gone = judge(db=[sample(3.0), down(5.0)])
    assert "Postgres unreachable for 0.0 s (5.0–5.0 s, not back by the last sample)" in gone.summary
    said = [
        HealthSample(4.0, ok=False, database_ok=False, status=503),
        HealthSample(4.5, ok=True, database_ok=True),
    ]
    told = judge(health=said)
    assert (
        told.summary
        == "database unavailable: the middleware's health said its database was down (1 probe(s), 4.0–4.0 s)"
    )
    assert told.evidence["unhealthy"][0]["status"] == 503


def test_exhaustion_and_statement_timeout_faults_are_outages_by_themselves() -> None:
    exhaust = window("postgres exhaust_connections (leave=0)", 3.0, 6.0, kind="database")
    assert judge(faults=[exhaust]).summary == (
        "database unavailable: connections exhausted (postgres exhaust_connections (leave=0), 3.0–6.0 s)"
    )
    timeouts = window("postgres statement_timeout (ms=50)", 3.0, 6.0, kind="database")
    assert judge(faults=[timeouts]).cause == "database unavailable"


def test_a_venue_fault_names_each_venue_and_its_faults() -> None:
    faults = [
        window("rithmic down", 2.0, 6.0),
        window("rithmic duplicate_fill x2", 5.0, 6.0, kind="protocol"),
        window("stripe replay", 4.0, 5.0, kind="protocol"),
    ]
    found = judge(faults=faults)
    assert found.summary == (
        "venue: rithmic — rithmic down (2.0–6.0 s), rithmic duplicate_fill x2 (5.0–6.0 s); "
        "stripe — stripe replay (4.0–5.0 s)"
    )
    assert found.evidence["venues"] == ["rithmic", "stripe"]


def test_nothing_external_in_the_span_is_the_middlewares_own_fault() -> None:
    found = judge((3.0, 8.0), db=[sample(4.0, waiter(300))], health=[HealthSample(4.0, ok=True)])
    assert found.summary == (
        "undetermined: no deployment, database lock, database outage or venue fault was seen in 3.0–8.0 s: "
        "the failure is the middleware's own"
    )
    assert judge(None).summary.endswith(
        "seen in the run: the failure is the middleware's own (the database was not sampled)"
    )


def test_only_evidence_within_the_span_and_its_slack_counts() -> None:
    early = window("rithmic down", 0.0, 1.5)
    late_lock = row_lock_samples()[1:]  # 4.0 s to 7.0 s
    assert (
        judge((3.0, 3.5), faults=[early], db=late_lock).cause == "database lock"
    )  # 4.0 is within the 1 s slack
    assert judge((2.4, 2.9), faults=[early], db=late_lock).cause == "venue"  # it ended 0.9 s before
    assert judge((2.6, 2.9), faults=[early], db=late_lock).cause == "undetermined"
    assert judge((9.0, 12.0), process=[ProcessEvent(5.0, "sigterm")]).cause == "undetermined"
    assert judge(None, faults=[early]).cause == "venue"  # no span: the whole run
    assert judge((50.0, 60.0), faults=[window("tt down", 10.0, None)]).cause == "venue"  # still open
    assert judge((8.0, 3.0), faults=[window("tt down", 2.0, 2.5)]).cause == "venue"  # a reversed span
