"""The single-file Allure HTML report, built with the Allure 3 CLI from npm (package "allure"),
with the analytics tag its generator embeds taken out: reports are opened offline."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from .allure import categories

ROOT = Path(__file__).resolve().parents[2]  # the checkout, where package.json pins the CLI
# The awesome plugin's template loads gtag.js from googletagmanager and configures it inline.
_ANALYTICS = re.compile(
    r"<script[^>]*googletagmanager\.com[^>]*>\s*</script>\s*"
    r"(<script>(?:(?!</script>)[\s\S])*?gtag\((?:(?!</script>)[\s\S])*</script>)?",
    re.IGNORECASE,
)


class ReportError(RuntimeError):
    """The HTML could not be built (no Allure CLI, or it failed): an infrastructure problem."""


def allure_command() -> list[str]:
    """$ALLURE_CLI, then the checkout's node_modules (from `npm ci`), then `allure` on PATH."""
    explicit = os.environ.get("ALLURE_CLI")
    if explicit:
        return [explicit]
    local = ROOT / "node_modules" / "allure" / "cli.js"
    node = shutil.which("node")
    if local.is_file() and node:
        return [node, str(local)]
    on_path = shutil.which("allure")
    if on_path:
        return [on_path]
    raise ReportError("the Allure 3 CLI is not installed: run `npm ci` in the checkout (needs Node 20+)")


def strip_analytics(html: str) -> str:
    return _ANALYTICS.sub("", html)


def build_html(
    results: Path, out: Path, *, name: str = "stack-uat acceptance gate", timeout: float = 300
) -> Path:
    """Build `out`/index.html (one self-contained file) from an allure-results dir; its path."""
    if not results.is_dir():
        raise ReportError(f"{results}: no such results directory")
    command = allure_command()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="uat-allure-") as tmp:
        staging = Path(tmp) / "report"
        config = Path(tmp) / "allurerc.json"
        config.write_text(
            json.dumps(
                {
                    "name": name,
                    "output": str(staging),
                    # Allure 3 takes its categories from the config (categories.json is Allure 2's)
                    "categories": categories(),
                    "plugins": {
                        "awesome": {
                            "options": {
                                "singleFile": True,
                                "reportName": name,
                                "groupBy": ["epic", "feature"],
                            }
                        }
                    },
                }
            )
        )
        env = {**os.environ, "NO_COLOR": "1", "ALLURE_NO_ANALYTICS": "1"}
        try:
            done = subprocess.run(
                [
                    *command,
                    "generate",
                    str(results.resolve()),
                    "--config",
                    str(config),
                    "--output",
                    str(staging),
                ],
                cwd=tmp,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ReportError(f"allure generate failed: {exc}") from None
        built = staging / "index.html"
        if done.returncode != 0 or not built.is_file():
            tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
            raise ReportError(f"allure generate exited {done.returncode}:\n{tail}")
        target = out / "index.html"
        target.write_text(strip_analytics(built.read_text(encoding="utf-8")), encoding="utf-8")
    return target


def embedded_data(html: str) -> dict[str, str]:
    """The data files a single-file Allure 3 report embeds (name -> text), e.g. its test results:
    for reading back what a report shows, without a browser."""
    import base64
    import re

    found = re.findall(r'd\("([^"]+)",\s*"([A-Za-z0-9+/=]+)"\)', html)
    return {name: base64.b64decode(value).decode("utf-8", "replace") for name, value in found}
