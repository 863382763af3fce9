"""gate.json and gate-summary.md: the gate's verdict, one line per scenario with its status and why,
and for each scenario that did not pass its checks, missing evidence, and the command that
reproduces it."""

from __future__ import annotations

import json
from typing import Any

from ..exitcodes import EXIT_FAILED, EXIT_INFRA, EXIT_OK, EXIT_USAGE
from ..gate.status import counts

VERDICT = {
    EXIT_OK: "PASSED",
    EXIT_FAILED: "FAILED",
    EXIT_USAGE: "TARGET FILE ERROR (not a verdict on the middleware)",
    EXIT_INFRA: "HARNESS ERROR (not a verdict on the middleware)",
}
SHOWN = {
    "passed": "pass",
    "failed": "**FAIL**",
    "inconclusive": "**INCONCLUSIVE**",
    "skipped": "skipped",
    "harness_error": "harness error",
    "config_error": "target file error",
}


def gate_json(meta: dict[str, Any], records: list[dict[str, Any]]) -> str:
    return json.dumps({**meta, "scenarios": records}, indent=2, default=str) + "\n"


def _why(r: dict[str, Any]) -> str:
    if r.get("status") == "failed":
        return ", ".join(c["check"] for c in r.get("failing_checks", [])) or "-"
    if r.get("status") == "inconclusive":
        return "no evidence: " + "; ".join(r.get("missing_evidence", []))
    if r.get("status") == "skipped":
        return str(r.get("reason", ""))
    skipped = [c["check"] for c in r.get("skipped_checks", [])]
    return f"skipped checks: {', '.join(skipped)}" if skipped else "-"


def _headline(meta: dict[str, Any]) -> str:
    if meta.get("verdict") == "empty_shard":
        return "EMPTY SHARD (nothing ran here: the other shards hold the whole selection)"
    shown = VERDICT.get(meta["exit_code"], meta["verdict"])
    missing = meta.get("merged", {}).get("missing", [])
    return f"{shown} ({incomplete(missing, meta['merged']['count'])})" if missing else shown


def incomplete(missing: list[int], count: int) -> str:
    """`incomplete: shard 2/3 missing` (or shards 2/3 and 3/3), for a merge that lacks shards."""
    names = " and ".join(f"{index}/{count}" for index in missing)
    return f"incomplete: shard{'s' if len(missing) > 1 else ''} {names} missing"


def _shards(meta: dict[str, Any]) -> list[str]:
    """The shard line of a shard's summary, or the shards line of a merge's."""
    shard, merged = meta.get("shard"), meta.get("merged")
    if shard:
        return [
            f"- shard {shard['index']}/{shard['count']}: {len(shard['scenarios'])} of the "
            f"{len(shard['selection'])} selected scenarios"
        ]
    if merged:
        present = ", ".join(f"{i}/{merged['count']}" for i in merged["present"])
        line = f"- merged shards {present} of a selection of {len(merged['selection'])} scenarios"
        if merged["missing"]:
            line += f"; **{incomplete(merged['missing'], merged['count'])}** (not run: "
            line += ", ".join(merged["not_run"]) + ")"
        return [line]
    return []


def gate_markdown(meta: dict[str, Any], records: list[dict[str, Any]]) -> str:
    n = counts(records)
    strict = " (strict)" if meta.get("strict") else ""
    lines = [
        f"# UAT gate: {_headline(meta)}{strict}",
        "",
        f"- target: `{meta['target']}`  seed: `{meta['seed']}`  backend: `{meta['backend']}`",
        *_shards(meta),
        f"- scenarios: {len(records)} ({n['passed']} passed, {n['failed']} failed, "
        f"{n['inconclusive']} inconclusive, {n['skipped']} skipped, {n['harness_error']} harness errors), "
        f"wall time {meta['wall_time_s']:.0f} s",
        "- passed: every check held over enough evidence; inconclusive: too little evidence to judge "
        "(fails the gate); skipped: not applicable to this target"
        + (" (fails a strict gate)" if meta.get("strict") else ""),
        "",
        "| Scenario | Suite | Verdict | Time | Why |",
        "|---|---|---|---:|---|",
    ]
    for r in records:
        status = SHOWN.get(r.get("status", ""), r.get("status", "?"))
        lines.append(
            f"| {r['id']} | {r['suite']} | {status} | {r.get('duration_s', 0):.1f} s | {_why(r)[:300]} |"
        )
    for violation in meta.get("strict_violations", []):
        lines.append(f"\nstrict: {violation}")
    for r in records:
        if r.get("status") == "passed" and not r.get("skipped_checks"):
            continue
        lines += ["", f"## {r['id']}: {r['title']}", ""]
        status = r.get("status")
        if status == "harness_error":
            lines.append(f"Harness error, not a verdict on the middleware: {r.get('error', '')}")
        elif status == "config_error":
            lines.append(f"Target file error, not a verdict on the middleware: {r.get('error', '')}")
        elif status == "skipped":
            lines.append(f"Skipped, {r.get('reason', 'not applicable to this target')}.")
            continue
        elif status == "inconclusive":
            lines += [
                "Inconclusive: the run did not show enough to judge the middleware (fails the gate).",
                "",
            ]
        elif status == "passed":
            lines += ["Passed, but some checks could not run here:", ""]
        for check in r.get("failing_checks", []):
            lines.append(
                f"- **{check['check']}** ({check.get('category') or 'protocol handling'}): {check['summary']}"
            )
            if check.get("diagnosis"):
                lines.append(f"  - diagnosis: **{check['diagnosis']['summary']}**")
            for item in check.get("evidence", [])[:3]:
                lines.append(f"  - `{json.dumps(item, default=str)[:300]}`")
        for missing in r.get("missing_evidence", []):
            lines.append(f"- missing evidence: {missing}")
        for check in r.get("skipped_checks", []):
            lines.append(f"- {check['check']} skipped: {check['summary']}")
        lines += ["", "```sh", r["reproduce"], "```"]
    return "\n".join(lines) + "\n"
