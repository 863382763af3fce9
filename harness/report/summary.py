"""gate.json and gate-summary.md: the gate's verdict, one line per scenario, and for each
failure its checks, evidence and the command that reproduces it."""

from __future__ import annotations

import json
from typing import Any

VERDICT = {0: "PASSED", 1: "FAILED", 3: "HARNESS ERROR (not a verdict on the middleware)"}


def gate_json(meta: dict[str, Any], records: list[dict[str, Any]]) -> str:
    return json.dumps({**meta, "scenarios": records}, indent=2, default=str) + "\n"


def gate_markdown(meta: dict[str, Any], records: list[dict[str, Any]]) -> str:
    counts = {s: sum(r.get("status") == s for r in records) for s in ("passed", "failed", "harness_error")}
    lines = [
        f"# UAT gate: {VERDICT.get(meta['exit_code'], meta['verdict'])}",
        "",
        f"- target: `{meta['target']}`  seed: `{meta['seed']}`  backend: `{meta['backend']}`",
        f"- scenarios: {len(records)} ({counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['harness_error']} harness errors), wall time {meta['wall_time_s']:.0f} s",
        "",
        "| Scenario | Suite | Verdict | Time | Failing checks |",
        "|---|---|---|---:|---|",
    ]
    for r in records:
        failing = ", ".join(c["check"] for c in r.get("failing_checks", [])) or "-"
        status = {"passed": "pass", "failed": "**FAIL**", "harness_error": "harness error"}.get(
            r.get("status", ""), r.get("status", "?")
        )
        lines.append(f"| {r['id']} | {r['suite']} | {status} | {r.get('duration_s', 0):.1f} s | {failing} |")
    for r in records:
        if r.get("status") == "passed":
            continue
        lines += ["", f"## {r['id']}: {r['title']}", ""]
        if r.get("status") == "harness_error":
            lines.append(f"Harness error, not a verdict on the middleware: {r.get('error', '')}")
        for check in r.get("failing_checks", []):
            lines.append(
                f"- **{check['check']}** ({check.get('category') or 'protocol handling'}): {check['summary']}"
            )
            for item in check.get("evidence", [])[:3]:
                lines.append(f"  - `{json.dumps(item, default=str)[:300]}`")
        lines += ["", "```sh", r["reproduce"], "```"]
    return "\n".join(lines) + "\n"
