"""What a gate run records besides its scenarios: which target and build it judged (so shards of
different runs are never merged), its shard, and the writer of gate.json, gate-summary.md and
junit.xml that `uat gate` and `uat report --out` (harness.gate.merge) both use."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .shard import RULE, Shard

GATE_JSON, SUMMARY_MD, JUNIT_XML, RESULTS = "gate.json", "gate-summary.md", "junit.xml", "allure-results"
BUILD_ENV = "UAT_BUILD"  # an optional label for the build under test (e.g. the agency's commit)


def target_identity(target: Any) -> dict[str, str]:
    """The target file by name and content: the same file under another path is the same target."""
    try:
        digest = hashlib.sha256(Path(target.source).read_bytes()).hexdigest()
    except OSError:
        digest = ""
    return {"name": str(target.name), "sha256": digest}


def build_identity(target: Any) -> dict[str, Any]:
    """What fixes the build under test, as far as the harness can see: the image a container target
    runs, the environment it passes through (e.g. REFMW_MUTANTS), the harness's own commit, and
    $UAT_BUILD when CI names the build."""
    from harness.report.allure import git_commit

    env = {name: os.environ[name] for name in target.passthrough_env if os.environ.get(name)}
    return {
        "image": target.image or "",
        "env": env,
        "harness_commit": git_commit(Path(__file__).resolve().parents[2]),
        "label": os.environ.get(BUILD_ENV, ""),
    }


def shard_meta(shard: Shard, selection: Sequence[Any], mine: Sequence[Any]) -> dict[str, Any]:
    """gate.json's `shard`: this shard, the whole selection's ids (in registry order) and this shard's,
    so a merge can tell whether every shard is present and name what a missing one holds."""
    return {
        "index": shard.index,
        "count": shard.count,
        "rule": RULE,
        "selection": [s.id for s in selection],
        "scenarios": [s.id for s in mine],
    }


def write(report: Path, meta: dict[str, Any], records: list[dict[str, Any]]) -> None:
    """gate.json, gate-summary.md and junit.xml into a report dir."""
    from harness.report.junit import junit_xml
    from harness.report.summary import gate_json, gate_markdown

    report.mkdir(parents=True, exist_ok=True)
    (report / GATE_JSON).write_text(gate_json(meta, records))
    (report / SUMMARY_MD).write_text(gate_markdown(meta, records))
    (report / JUNIT_XML).write_text(junit_xml(meta, records))


def build_report_html(results: Path, report: Path) -> tuple[Path | None, str]:
    """REPORT/html/index.html from the allure-results: its path, or why it was not built (a report
    that cannot be built never changes a verdict)."""
    from harness.report.html import ReportError, build_html

    try:
        return build_html(results, report / "html"), ""
    except ReportError as exc:
        return None, str(exc)
