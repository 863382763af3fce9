"""The SQL reconciliation checker: the reference's queries parsed from the file, run through a fake
psql, with the queries and their rows recorded as evidence."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from harness import resources
from harness.checks import CHECKERS, sql

from .conftest import FakeAdapter, MakeCtx, Recorder, ok

OUR_ORDER = {"orders": [{"client_tag": "t1-1", "status": "filled"}], "fills": []}


def _placed() -> Recorder:
    rec = Recorder()
    rec.order("t1-1", 1.0, ok({"status": "filled"}))
    return rec


def test_the_reference_sql_file_parses_into_named_queries() -> None:
    queries = sql.parse(resources.data(resources.TARGETS, "reference.sql").read_text())
    names = {q.name for q in queries}
    assert {
        "db.fills_duplicated",
        "db.positions",
        "db.txlog_orders_unbalanced",
        "webhook.txlog_effects",
    } <= names
    assert all(q.what and q.sql.upper().startswith("SELECT") for q in queries)
    assert [q.compare for q in queries if q.compare] == ["positions"]


def _psql(answers: dict[str, str]) -> Callable[[str], str]:
    def run(text: str) -> str:
        for needle, rows in answers.items():
            if needle in text:
                return rows
        return ""

    return run


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "t.sql"
    path.write_text(
        "-- name: db.dupes\n-- what: fills once\nSELECT fill_id FROM fills_dupes;\n\n"
        "-- name: db.positions\n-- what: positions = fills\n-- compare: positions\nSELECT * FROM pos;\n"
        "-- name: webhook.other\n-- what: not this group\nSELECT 1;\n"
    )
    return path


def test_db_reconcile_passes_clean_rows_and_records_every_query(make_ctx: MakeCtx, tmp_path: Path) -> None:
    adapter = FakeAdapter({"A1": [{"symbol": "ESZ6", "net_qty": 2, "venue": "rithmic"}]})
    psql = _psql({"FROM pos": "A1|rithmic|ESZ6|2\nB9|rithmic|ESZ6|5\n"})  # B9 is not ours: not compared
    ctx = make_ctx(_placed(), ledger=OUR_ORDER, adapter=adapter, psql=psql, sql_file=_file(tmp_path))
    verdict = CHECKERS["db_reconcile"](ctx)
    assert verdict.passed, verdict.evidence
    assert [e["query"] for e in verdict.evidence] == ["db.dupes", "db.positions"]
    assert all("sql" in e and "rows" in e for e in verdict.evidence)


def test_db_reconcile_with_no_order_at_the_venue_has_no_evidence(make_ctx: MakeCtx, tmp_path: Path) -> None:
    """Queries that find nothing wrong in a database nothing was booked into prove nothing."""
    verdict = CHECKERS["db_reconcile"](make_ctx(psql=_psql({}), sql_file=_file(tmp_path)))
    assert verdict.status == "no_evidence" and "no order of ours reached the venue" in verdict.summary
    assert [e["query"] for e in verdict.evidence] == ["db.dupes", "db.positions"]  # what ran, all the same


def test_db_reconcile_fails_on_offending_rows_and_position_mismatch(
    make_ctx: MakeCtx, tmp_path: Path
) -> None:
    adapter = FakeAdapter({"A1": [{"symbol": "ESZ6", "net_qty": 4, "venue": "rithmic"}]})
    psql = _psql({"fills_dupes": "f-1\n", "FROM pos": "A1|rithmic|ESZ6|2\n"})
    verdict = CHECKERS["db_reconcile"](make_ctx(adapter=adapter, psql=psql, sql_file=_file(tmp_path)))
    assert not verdict.passed and verdict.category == "data loss"
    failed = {e["query"]: e for e in verdict.evidence if not e["passed"]}
    assert failed["db.dupes"]["rows"] == [["f-1"]]
    assert failed["db.positions"]["mismatches"] == [
        {"account": "A1", "venue": "rithmic", "symbol": "ESZ6", "sum_of_fills": 2, "api_net_qty": 4}
    ]


def test_db_reconcile_that_cannot_run_is_skipped_with_its_reason_never_passed(
    make_ctx: MakeCtx, tmp_path: Path
) -> None:
    no_database = CHECKERS["db_reconcile"](make_ctx(_placed(), ledger=OUR_ORDER, sql_file=_file(tmp_path)))
    assert no_database.status == "skipped" and not no_database.passed
    assert no_database.summary == "not run: no access to the middleware's database"
    no_sql = CHECKERS["db_reconcile"](make_ctx(_placed(), ledger=OUR_ORDER, psql=_psql({})))
    assert no_sql.status == "skipped" and "declares no reconciliation SQL ([checks] sql)" in no_sql.summary
    other = tmp_path / "webhooks-only.sql"
    other.write_text("-- name: webhook.x\n-- what: w\nSELECT 1;\n")
    no_db_group = CHECKERS["db_reconcile"](
        make_ctx(_placed(), ledger=OUR_ORDER, psql=_psql({}), sql_file=other)
    )
    assert no_db_group.status == "skipped" and "has no db.* reconciliation query" in no_db_group.summary
