"""`uat investigate PATH`: the desync report across Stripe, the bus, DocuSign, MT5, Rippling and the
middleware, from lifecycle snapshots saved by a run: which traders' records disagree, and where each
one's chain broke."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..exitcodes import EXIT_FAILED, EXIT_OK, UsageFailure


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "json_out", is_flag=True, help="Every trader's verdict as JSON on stdout.")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=50,
    show_default=True,
    help="Disagreeing traders shown in detail (the table and --json have them all).",
)
def investigate(path: Path, json_out: bool, limit: int) -> None:
    """Investigate PATH: a lifecycle snapshot (JSON), or a gate report dir searched for every
    `lifecycle-snapshot.json` below it (one per scenario, each headed by its path).

    Each expected trader's hops are judged in chain order (stripe, bus, contract, signature,
    mt5_login, deposit, payouts, rippling, middleware), and the first that disagrees is where the
    chain broke.

    Exit 0 every trader agrees; 1 a trader disagrees, a lifecycle SQL query returned rows, a system
    could not be read, or a snapshot has no trader to investigate (not evidence of agreement); 2
    PATH is missing, holds no snapshot, or a snapshot is not JSON or is malformed (the message names
    the file and the field).
    """
    from ..lifecycle.investigate import investigate as judge_snapshot
    from ..lifecycle.render import render_text
    from ..lifecycle.snapshotfile import SnapshotError, find, read

    try:
        snapshots = [(file, read(file)) for file in find(path)]
    except SnapshotError as exc:
        raise UsageFailure(f"PATH: {exc}") from None
    labelled = [(_label(path, file), judge_snapshot(snapshot)) for file, snapshot in snapshots]
    agrees = all(report.agrees for _, report in labelled)
    if json_out:
        document = {
            "path": str(path),
            "agrees": agrees,
            "reports": [{"snapshot": label, **report.to_json()} for label, report in labelled],
        }
        sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")
    else:
        for n, (label, report) in enumerate(labelled):
            if path.is_dir():
                click.echo(("\n" if n else "") + f"== {label} ==")
            click.echo(render_text(report, limit=limit), nl=False)
        if len(labelled) > 1:
            bad = sum(1 for _, report in labelled if not report.agrees)
            click.echo(f"\n{bad} of {len(labelled)} snapshots disagree")
    raise SystemExit(EXIT_OK if agrees else EXIT_FAILED)


def _label(root: Path, file: Path) -> str:
    return str(file.relative_to(root)) if root.is_dir() else str(file)
