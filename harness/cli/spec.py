"""`uat spec review SPEC`: the architect's review of an OpenAPI spec before it is implemented."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from ..exitcodes import UsageFailure

WIDTH_PIPED = 140  # a CI log or a file: wide enough that a finding's pointer and message fit a line


@click.group()
def spec() -> None:
    """OpenAPI specs: judged before the agency builds them."""


@spec.command("review")
@click.argument("source", metavar="SPEC")
@click.option("--json", "json_out", metavar="FILE|-", help="The review as JSON into FILE (`-`: stdout).")
@click.option(
    "--allure-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write one Allure result per rule into DIR (for `uat report DIR`).",
)
@click.option("--quiet", is_flag=True, help="Print the verdict line only.")
def spec_review(source: str, json_out: str | None, allure_dir: Path | None, quiet: bool) -> None:
    """Review SPEC (a JSON or YAML file, a loopback http(s) URL, or `reference`): is it valid OpenAPI
    3.0/3.1, and does it say what a trading API must (idempotent orders, credentials, auth and
    rate-limit answers, error schemas, decimal money, pagination, signed webhooks)?

    Exit 0 passed (majors are printed but do not fail), 1 a blocker was found, 2 SPEC could not be
    read (the message names the problem, with its line for a syntax error).
    """
    from rich.console import Console

    from ..spec import load, print_review, review, to_json, verdict_line, write_allure

    started_ms = int(time.time() * 1000)
    result = review(load(source).document, source=source)
    if json_out is not None:
        _write_json(json_out, to_json(result))
    if allure_dir is not None:
        try:
            write_allure(result, allure_dir, start_ms=started_ms)
        except OSError as exc:
            raise UsageFailure(f"--allure-dir: {allure_dir}: cannot write: {exc.strerror or exc}") from None
    console = Console(stderr=json_out == "-", highlight=False)
    if not console.is_terminal:
        console.width = WIDTH_PIPED
    if quiet:
        console.print(verdict_line(result), markup=False, soft_wrap=True)
    else:
        print_review(result, console)
    if result.exit_code:
        raise SystemExit(result.exit_code)


def _write_json(target: str, document: dict[str, object]) -> None:
    text = json.dumps(document, indent=2) + "\n"
    if target == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        Path(target).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageFailure(f"--json: {target}: cannot write: {exc.strerror or exc}") from None
