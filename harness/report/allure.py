"""What the gate writes next to allure-pytest's results: categories, environment, executor."""

from __future__ import annotations

import json
import platform
import subprocess
from pathlib import Path
from typing import Any

# Failure messages start with "[category] check: summary" (see harness.gate.plugin), so each
# class below matches on that prefix. A harness error is never a failed test: it is "broken". An
# inconclusive scenario (too little evidence to judge) is failed with its own "[no evidence]" class;
# a scenario not applicable to the target is skipped, with its reason.
CATEGORIES = (
    "data loss",
    "duplicate order",
    "recovery SLO breach",
    "protocol handling",
    "webhook handling",
    "middleware fault",  # readiness, onboarding or provisioning never completed, with the last answer
    "unbounded wait",  # a request waited on a locked or absent database instead of failing fast
    "observability",  # health said ok while a dependency was down
    "deployment",  # a restart cut requests, or readiness passed a broken release
    "contract breach",  # the live API does not do what its OpenAPI spec says (harness.checks.contract)
    "risk breach",  # an order reached the venue past a risk limit (harness.checks.risk)
    "price mismatch",  # the middleware's prices differ from the venue's fills (harness.checks.prices)
    "security breach",  # a request got what its credential must not reach (harness.checks.security)
)


def categories() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [
        {
            "name": name[0].upper() + name[1:],
            "messageRegex": rf"[\s\S]*\[{name}\][\s\S]*",
            "matchedStatuses": ["failed"],
        }
        for name in CATEGORIES
    ]
    found.append(
        {
            "name": "Middleware did not start",
            "messageRegex": r"[\s\S]*\[target not ready\][\s\S]*",
            "matchedStatuses": ["failed"],
        }
    )
    found.append(
        {
            "name": "No evidence",
            "messageRegex": r"[\s\S]*\[no evidence\][\s\S]*",
            "matchedStatuses": ["failed"],
        }
    )
    found.append({"name": "Not applicable to this target", "matchedStatuses": ["skipped"]})
    found.append({"name": "Harness error (not the middleware)", "matchedStatuses": ["broken"]})
    return found


def git_commit(cwd: Path) -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5, check=False
        )
    except OSError:
        return "unknown"
    return out.stdout.strip() or "unknown"


def versions() -> dict[str, str]:
    from importlib import metadata

    found = {"python": platform.python_version()}
    for dist in ("stack-uat", "allure-pytest", "pytest", "async-rithmic"):
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found[dist] = "not installed"
    return found


def write_metadata(results: Path, env: dict[str, str], *, name: str, report_url: str = "") -> None:
    """categories.json, environment.properties and executor.json into an allure-results dir."""
    results.mkdir(parents=True, exist_ok=True)
    (results / "categories.json").write_text(json.dumps(categories(), indent=2))
    lines = [f"{key}={_escape(value)}" for key, value in env.items()]
    (results / "environment.properties").write_text("\n".join(lines) + "\n")
    executor = {
        "name": "stack-uat",
        "type": "uat-gate",
        "buildName": name,
        "reportName": "stack-uat acceptance gate",
    }
    if report_url:
        executor["reportUrl"] = report_url
    (results / "executor.json").write_text(json.dumps(executor, indent=2))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("=", "\\=").replace(":", "\\:")
