"""`uat report DIR... --out OUT`: the report dirs of a gate's shards (`uat gate --shard i/n`) merged
into one: gate.json, gate-summary.md and junit.xml written by the gate's own writer
(harness.gate.outputs), and one allure-results dir holding every shard's result, container and
attachment files (their names are unique uuids), from which the HTML is built as for a gate.

A merge is refused (MergeRefused: exit 2) when its inputs cannot be one gate: runs of different
seeds, target files, builds or strictness, of different splits or selections, the same shard twice,
or a scenario (or an Allure file) in two inputs. A missing shard is not refused: the merge says which
and what it held, and its verdict is never a pass (harness.gate.status.merged_exit_code)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import outputs, status

# allure-pytest's per-test files, named by uuid; the rest of an allure-results dir is the run's
# metadata (categories.json, environment.properties, executor.json), taken from the first shard.
_PER_TEST = ("-result.json", "-container.json", "-attachment")


class MergeRefused(ValueError):
    """The report dirs cannot be merged into one gate: exit 2, with the reason."""


@dataclass(frozen=True)
class ShardReport:
    """One input of a merge: a gate's report dir, and the shard it ran (an unsharded run is 1/1)."""

    path: Path
    meta: dict[str, Any]
    records: list[dict[str, Any]]
    index: int
    count: int
    selection: tuple[str, ...]  # the whole selection's ids, in registry order
    scenarios: tuple[str, ...]  # this shard's share

    @property
    def name(self) -> str:
        return f"shard {self.index}/{self.count} ({self.path})"


@dataclass
class Merged:
    meta: dict[str, Any]
    records: list[dict[str, Any]]
    exit_code: int
    missing: list[int] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)


def load(path: Path) -> ShardReport:
    """A report dir's gate.json, read back; MergeRefused when there is none or it is not a gate's."""
    source = path / outputs.GATE_JSON
    try:
        data = json.loads(source.read_text())
    except FileNotFoundError:
        raise MergeRefused(
            f"{path}: no {outputs.GATE_JSON}: not the report dir of a `uat gate` run"
        ) from None
    except (OSError, ValueError) as exc:
        raise MergeRefused(f"{source}: unreadable: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("scenarios"), list) or "seed" not in data:
        raise MergeRefused(f"{source}: not a gate.json (no seed or scenarios)")
    records: list[dict[str, Any]] = data.pop("scenarios")
    ids = tuple(str(r.get("id")) for r in records)
    shard = data.get("shard")
    if shard is None:  # an unsharded run: the whole of its own selection
        return ShardReport(path, data, records, 1, 1, ids, ids)
    return ShardReport(
        path,
        data,
        records,
        int(shard["index"]),
        int(shard["count"]),
        tuple(shard["selection"]),
        tuple(shard["scenarios"]),
    )


def _same(reports: Sequence[ShardReport], what: str, key: Any) -> None:
    seen: dict[str, list[ShardReport]] = {}
    for report in reports:
        seen.setdefault(json.dumps(key(report), sort_keys=True, default=str), []).append(report)
    if len(seen) > 1:
        shown = "; ".join(f"{value} in {', '.join(str(r.path) for r in rs)}" for value, rs in seen.items())
        raise MergeRefused(f"cannot merge runs of different {what}: {shown}")


def check(reports: Sequence[ShardReport]) -> None:
    """MergeRefused unless the reports are shards of one gate: one seed, target file, build,
    strictness, split and selection; each shard once; each scenario and Allure file in one input."""
    if not reports:
        raise MergeRefused("no report dirs to merge")
    _same(reports, "seeds", lambda r: r.meta.get("seed"))
    _same(reports, "targets", lambda r: r.meta.get("target_identity") or r.meta.get("target"))
    _same(reports, "builds", lambda r: r.meta.get("build", {}))
    _same(reports, "strictness (--strict)", lambda r: bool(r.meta.get("strict")))
    _same(reports, "splits (--shard i/N)", lambda r: r.count)
    _same(reports, "selections (--suite/--scenario)", lambda r: sorted(r.selection))
    by_index: dict[int, ShardReport] = {}
    for report in reports:
        if report.index in by_index:
            raise MergeRefused(
                f"shard {report.index}/{report.count} given twice: {by_index[report.index].path} and "
                f"{report.path}"
            )
        by_index[report.index] = report
    owner: dict[str, ShardReport] = {}
    for report in reports:
        ran = {str(r.get("id")) for r in report.records}
        stray = sorted(ran - set(report.scenarios))
        if stray:
            raise MergeRefused(f"{report.path}: ran {stray[0]}, which is not in its shard's share")
        for sid in sorted(set(report.scenarios) | ran):
            if sid in owner:
                raise MergeRefused(f"overlapping scenarios: {sid} is in {owner[sid].path} and {report.path}")
            owner[sid] = report
    files: dict[str, Path] = {}
    for report in reports:
        for name in _per_test_files(report.path):
            if name in files:
                raise MergeRefused(f"overlapping results: {name} is in {files[name]} and {report.path}")
            files[name] = report.path


def _per_test_files(report: Path) -> list[str]:
    results = report / outputs.RESULTS
    if not results.is_dir():
        return []
    return sorted(p.name for p in results.iterdir() if p.is_file() and any(t in p.name for t in _PER_TEST))


def merge(reports: Sequence[ShardReport]) -> Merged:
    """The shards as one gate: every record once, in the selection's order, and the gate's exit code
    over them (status.merged_exit_code), which a missing shard keeps from passing."""
    check(reports)
    reports = sorted(reports, key=lambda r: r.index)
    first = reports[0]
    count, selection = first.count, list(first.selection)
    present = [r.index for r in reports]
    missing = [i for i in range(1, count + 1) if i not in present]
    covered = {sid for r in reports for sid in r.scenarios}
    not_run = [sid for sid in selection if sid not in covered]
    order = {sid: k for k, sid in enumerate(selection)}
    records = sorted((rec for r in reports for rec in r.records), key=lambda rec: order.get(rec["id"], 0))
    strict = bool(first.meta.get("strict"))
    code = status.merged_exit_code(
        records,
        sum(len(r.scenarios) for r in reports),
        (int(r.meta.get("pytest_exit", 0 if r.meta.get("exit_code") == 0 else 1)) for r in reports),
        strict=strict,
        missing_shards=missing,
    )
    backends = sorted({str(r.meta.get("backend", "auto")) for r in reports})
    meta: dict[str, Any] = {
        "verdict": status.VERDICTS.get(code, "harness_error"),
        "exit_code": code,
        "strict": strict,
        "counts": status.counts(records),
        "target": first.meta.get("target"),
        "target_identity": first.meta.get("target_identity"),
        "build": first.meta.get("build", {}),
        "seed": first.meta["seed"],
        "backend": ", ".join(backends),
        "wall_time_s": max(float(r.meta.get("wall_time_s", 0.0)) for r in reports),
        "started_at": min(str(r.meta.get("started_at", "")) for r in reports),
        "merged": {
            "count": count,
            "present": present,
            "missing": missing,
            "complete": not missing,
            "selection": selection,
            "not_run": not_run,
            "shards": [
                {
                    "index": r.index,
                    "dir": str(r.path),
                    "exit_code": r.meta.get("exit_code"),
                    "verdict": r.meta.get("verdict"),
                    "backend": r.meta.get("backend"),
                    "wall_time_s": r.meta.get("wall_time_s"),
                    "scenarios": list(r.scenarios),
                }
                for r in reports
            ],
        },
    }
    if strict:
        meta["strict_violations"] = status.strict_violations(records)
    return Merged(meta, records, code, missing, not_run)


def write(merged: Merged, reports: Sequence[ShardReport], out: Path) -> Path:
    """gate.json, gate-summary.md, junit.xml and allure-results/ into `out`; the results dir."""
    sources = {r.path.resolve() for r in reports}
    if out.resolve() in sources:
        raise MergeRefused(f"--out: {out} is one of the report dirs being merged")
    results = out / outputs.RESULTS
    if results.exists():
        shutil.rmtree(results)  # what a previous merge left: the gate's --clean-alluredir
    results.mkdir(parents=True)
    for report in sorted(reports, key=lambda r: r.index):
        source = report.path / outputs.RESULTS
        if not source.is_dir():
            continue
        for path in sorted(source.iterdir()):
            target = results / path.name
            if path.is_file() and not target.exists():  # metadata: the first shard's
                shutil.copy2(path, target)
    environment = results / "environment.properties"
    if environment.exists():
        shards = ", ".join(f"{i}/{merged.meta['merged']['count']}" for i in merged.meta["merged"]["present"])
        with environment.open("a") as fh:
            fh.write(f"merged_shards={shards}\n")
    outputs.write(out, merged.meta, merged.records)
    return results
