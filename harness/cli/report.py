"""`uat report`: the single-file Allure HTML from one results dir, or (`--out`) the report dirs of a
gate's shards merged into one report with the gate's verdict and exit code."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..exitcodes import InfraFailure, UsageFailure


@click.command()
@click.argument("results_dirs", nargs=-1, type=click.Path(file_okay=False))
@click.option(
    "--output", "output_dir", type=click.Path(file_okay=False), help="Default: RESULTS_DIR/../html."
)
@click.option(
    "--out",
    "merge_dir",
    type=click.Path(file_okay=False),
    help="Merge the gate report dirs given (the shards of one `uat gate --shard`) into this dir.",
)
@click.option("--no-html", is_flag=True, help="With --out: skip the single-file HTML.")
def report(
    results_dirs: tuple[str, ...], output_dir: str | None, merge_dir: str | None, no_html: bool
) -> None:
    """Build the single-file Allure HTML from RESULTS_DIR (allure-results, or a gate's report dir)
    and print its path.

    With --out OUT: merge gate report dirs (`uat report shard-1 shard-2 --out merged`) into one
    gate.json, gate-summary.md, junit.xml, allure-results/ and html/, and exit as the gate would over
    all of them: 0 passed, 1 failed or incomplete (a shard missing), 2 the dirs cannot be merged
    (different seeds, targets, builds or splits, a shard twice, overlapping scenarios), 3 a harness
    error in a shard.
    """
    if merge_dir is not None:
        if output_dir is not None:
            raise UsageFailure("--output: not with --out (the merged HTML goes to OUT/html)")
        if not results_dirs:
            raise UsageFailure("--out: name the report dirs to merge (uat report DIR... --out OUT)")
        _merge([Path(d) for d in results_dirs], Path(merge_dir), html=not no_html)
        return
    if len(results_dirs) > 1:
        raise UsageFailure(f"--out: merging {len(results_dirs)} report dirs needs --out OUT")
    if no_html:
        raise UsageFailure("--no-html: only with --out (without it, building the HTML is all this does)")
    _html(results_dirs[0] if results_dirs else "allure-results", output_dir)


def _html(results_dir: str, output_dir: str | None) -> None:
    from ..report.html import ReportError, build_html

    results = Path(results_dir)
    if (results / "allure-results").is_dir():
        results = results / "allure-results"
    if not results.is_dir():
        raise UsageFailure(f"RESULTS_DIR: {results_dir}: no such directory")
    out = Path(output_dir) if output_dir else results.parent / "html"
    try:
        built = build_html(results, out)
    except ReportError as exc:
        raise InfraFailure(str(exc)) from None
    click.echo(str(built))


def _merge(dirs: list[Path], out: Path, *, html: bool) -> None:
    from ..gate import merge
    from ..report.summary import incomplete
    from .gate import print_records, verdict_line

    for path in dirs:
        if not path.is_dir():
            raise UsageFailure(f"DIR: {path}: no such directory")
    try:
        reports = [merge.load(path) for path in dirs]
        merged = merge.merge(reports)
        results = merge.write(merged, reports, out)
    except merge.MergeRefused as exc:
        raise UsageFailure(str(exc)) from None
    info = merged.meta["merged"]
    present = ", ".join(f"{i}/{info['count']}" for i in info["present"])
    click.echo(f"merged shards {present} of a selection of {len(info['selection'])} scenarios")
    print_records(merged.records)
    note = incomplete(merged.missing, info["count"]) if merged.missing else ""
    if merged.missing:
        click.echo(f"{note}: not run: {', '.join(merged.not_run) or '-'}")
    click.echo(
        verdict_line(
            merged.exit_code,
            merged.records,
            strict=bool(merged.meta["strict"]),
            seed=int(merged.meta["seed"]),
            wall_s=float(merged.meta["wall_time_s"]),
            report=out,
            note=note,
        )
    )
    if html:
        from ..gate.outputs import build_report_html

        built, why_not = build_report_html(results, out)
        if built is not None:
            click.echo(f"html report: {built}")
        else:
            click.echo(f"html report not built: {why_not}", err=True)
    sys.exit(merged.exit_code)
