"""Screenshots of a gate's HTML report in headless Chromium, for docs/: the overview, and one
failed scenario with its plot attachment opened. Driven over the DevTools protocol on loopback.

    python -m harness.report.screenshot REPORT_DIR OUT_DIR
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
)


class _Page:
    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = 0

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.ids += 1
        await self.ws.send(json.dumps({"id": self.ids, "method": method, "params": params}))
        while True:
            message = json.loads(await self.ws.recv())
            if message.get("id") == self.ids:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))

    async def js(self, expression: str) -> Any:
        result = await self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        return result.get("result", {}).get("value")

    async def wait_for(self, expression: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not await self.js(expression):
            if time.monotonic() > deadline:
                raise TimeoutError(expression)
            await asyncio.sleep(0.25)

    async def shot(self, path: Path, width: int, height: int) -> None:
        await self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                        mobile=False)  # fmt: skip
        await asyncio.sleep(1.0)
        data = await self.call("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(data["data"]))


def _failed_result_id(html: str) -> str | None:
    import re

    # The single file embeds each test result as data/test-results/<id>.json (base64 JSON)
    for match in re.finditer(r'"data/test-results/([0-9a-f]+)\.json"\s*[,:]\s*"([^"]+)"', html):
        with contextlib.suppress(Exception):
            if json.loads(base64.b64decode(match.group(2))).get("status") == "failed":
                return match.group(1)
    return None


async def _capture(port: int, url: str, failed: str | None, out: Path) -> list[Path]:
    async with httpx.AsyncClient(trust_env=False) as http:
        targets = (await http.get(f"http://127.0.0.1:{port}/json")).json()
    page_ws = next(t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page")
    made: list[Path] = []
    async with websockets.connect(page_ws, max_size=64 * 1024 * 1024) as ws:
        page = _Page(ws)
        await page.call("Page.enable")
        await page.call("Page.navigate", url=url)
        await page.wait_for("document.querySelectorAll('[data-tree-node-id]').length > 0")
        made.append(out / "report-overview.png")
        await page.shot(made[-1], 1400, 1000)
        if failed is None:
            return made
        await page.call("Page.navigate", url=f"{url}#/{failed}")
        await page.wait_for("document.body.innerText.includes('verdict per check')")
        # open the plot attachment in the steps, then scroll the failed check into view
        await page.js(
            "(() => { const name = 'faults vs latency and errors';"
            " const rows = [...document.querySelectorAll('div,span')]"
            ".filter(e => e.childElementCount === 0 && e.textContent.trim() === name);"
            " if (rows.length) rows[0].click(); return rows.length; })()"
        )
        await asyncio.sleep(1.5)
        made.append(out / "report-failed-scenario.png")
        await page.shot(made[-1], 1400, 2600)
    return made


def screenshots(report_dir: Path, out: Path) -> list[Path]:
    html = report_dir / "html" / "index.html" if report_dir.is_dir() else report_dir
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if chromium is None:
        raise RuntimeError("no chromium on PATH (apt-get install chromium)")
    out.mkdir(parents=True, exist_ok=True)
    failed = _failed_result_id(html.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="uat-chromium-") as profile:
        proc = subprocess.Popen(
            [chromium, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-address=127.0.0.1",
             "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + 30
            while not port_file.exists() or not port_file.read_text().strip():
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("chromium did not open its DevTools port")
                time.sleep(0.1)
            port = int(port_file.read_text().split()[0])
            return asyncio.run(_capture(port, html.resolve().as_uri(), failed, out))
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


if __name__ == "__main__":  # pragma: no cover
    for made in screenshots(Path(sys.argv[1]), Path(sys.argv[2])):
        print(made)
