"""A scenario result's Allure attachments: the fault timeline (JSON and a plot), the evidence the
run showed against the minimum its scenario declares, the history excerpt that convicts the
middleware, SQL queries with their results, the redacted log tail, and the exact `uat reproduce`
command."""

from __future__ import annotations

import json
from typing import Any

from .plot import fault_svg

_TAG_KEYS = ("client_order_id", "client_tag", "tag", "order_id")
_TIME_KEYS = ("time", "t", "at", "invoked_at", "completed_at")


def offending_tags(evidence: list[dict[str, Any]]) -> set[str]:
    return {str(e[k]) for e in evidence for k in _TAG_KEYS if isinstance(e.get(k), str | int)}


def offending_times(evidence: list[dict[str, Any]]) -> list[float]:
    return [float(e[k]) for e in evidence for k in _TIME_KEYS if isinstance(e.get(k), int | float)]


def history_excerpt(result: Any, limit: int = 200) -> list[dict[str, Any]]:
    """The operations a failed verdict's evidence points at: by order tag, else by time (±1 s),
    else every operation that did not succeed while a fault was active."""
    evidence = [e for v in result.verdicts if v.status == "failed" for e in v.evidence if isinstance(e, dict)]
    tags = offending_tags(evidence)
    times = offending_times(evidence)
    if tags:
        return list(result.history.excerpt(lambda op: str(op.value.get("client_order_id")) in tags, limit))
    if times:
        return list(result.history.excerpt(lambda op: any(abs(op.time - t) <= 1.0 for t in times), limit))
    return list(result.history.excerpt(lambda op: op.type in ("fail", "info") or bool(op.faults), limit))


def sql_evidence(result: Any) -> str:
    """Every SQL query a verdict's evidence carries (key "sql"), with what it checks and its rows."""
    chunks: list[str] = []
    for verdict in result.verdicts:
        for item in verdict.evidence:
            if not isinstance(item, dict) or not isinstance(item.get("sql"), str):
                continue
            rows = item.get("rows", item.get("result", item.get("results")))
            head = f"-- {verdict.check} ({'ok' if verdict.passed else verdict.status.upper()})"
            if item.get("query"):
                head += f": {item['query']}"
            if item.get("what"):
                head += f"\n-- {item['what']}"
            status = "" if "passed" not in item else f" ({'holds' if item['passed'] else 'VIOLATED'})"
            extra = {k: v for k, v in item.items() if k in ("mismatches",) and v}
            shown = json.dumps(rows, indent=2, default=str)
            chunks.append(
                f"{head}\n{item['sql'].strip()}\n-- result{status}:\n{shown}\n"
                + (f"-- {json.dumps(extra, default=str)}\n" if extra else "")
            )
    return "\n".join(chunks)


def attach_result(result: Any, reproduce: str) -> None:
    import allure

    kind = allure.attachment_type
    allure.attach(reproduce, "reproduce command", kind.TEXT)
    allure.attach(json.dumps(result.timeline.to_json(), indent=2), "fault timeline", kind.JSON)
    try:
        svg = fault_svg(result.history, result.timeline, f"{result.scenario.id} (seed {result.seed})")
    except Exception as exc:  # a plot must never turn a verdict into an error
        allure.attach(f"plot failed: {exc}", "faults vs latency and errors", kind.TEXT)
    else:
        allure.attach(svg, "faults vs latency and errors", kind.SVG)
    allure.attach(
        json.dumps(
            {
                "status": result.status,
                "reason": result.reason,
                "minimum": result.scenario.minimum.to_json(),
                "measured": result.measured.to_json() if result.measured else None,
                "missing": result.missing_evidence,
            },
            indent=2,
        ),
        "evidence: the minimum to judge, and what the run showed",
        kind.JSON,
    )
    failed = [v for v in result.verdicts if v.status == "failed"]
    if failed:
        evidence = {v.check: {"summary": v.summary, "evidence": v.evidence[:50]} for v in failed}
        allure.attach(json.dumps(evidence, indent=2, default=str), "failing checks with evidence", kind.JSON)
        allure.attach(
            json.dumps(history_excerpt(result), indent=2, default=str), "offending history excerpt", kind.JSON
        )
    attach_lifecycle(result, bool(failed))
    sql = sql_evidence(result)
    if sql:
        allure.attach(sql, "SQL reconciliation queries and results", kind.TEXT)
    allure.attach(result.log_tail or "(no output)", "middleware log tail (redacted)", kind.TEXT)
    allure.attach(result.history.to_jsonl(), "full history (jsonl)", kind.TEXT)


def attach_lifecycle(result: Any, failed: bool) -> None:
    """The lifecycle snapshot; on a failure, `uat investigate`'s desync report of it, which names
    each trader whose records disagree and the hop where the chain broke."""
    snapshot = getattr(result, "lifecycle", None)
    if not snapshot:
        return
    import allure

    from harness.lifecycle import Snapshot, investigate, render_text

    kind = allure.attachment_type
    allure.attach(json.dumps(snapshot, indent=1, default=str), "lifecycle snapshot (every system)", kind.JSON)
    if failed:
        try:
            text = render_text(investigate(Snapshot.from_json(snapshot)))
        except Exception as exc:  # the report must never turn a verdict into an error
            text = f"investigation failed: {type(exc).__name__}: {exc}"
        allure.attach(text, "lifecycle investigation (uat investigate)", kind.TEXT)
