"""The deliberately broken API (brokenapp.py) as a live process on a free port, stopped after."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.ports import free_port

ROOT = Path(__file__).resolve().parents[3]
READY_WITHIN_S = 20.0


@contextlib.contextmanager
def running_broken_app() -> Iterator[str]:
    """A fresh process (no items yet); its base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.harness.contract.brokenapp", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_WITHIN_S
        while True:
            try:
                httpx.get(f"{base_url}/ping", timeout=1.0, trust_env=False)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the broken app did not start (exit code {proc.poll()})") from None
                time.sleep(0.05)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture
def broken_app() -> Iterator[str]:
    with running_broken_app() as base_url:
        yield base_url
