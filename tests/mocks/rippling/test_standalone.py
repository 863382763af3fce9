"""`python -m mocks.rippling` as a real process: one JSON line, then served until SIGTERM."""

from __future__ import annotations

import subprocess
import sys

import httpx

from tests.mocks.standalone import start, stop


def test_prints_its_endpoints_and_serves() -> None:
    proc, info = start("mocks.rippling", "--seed", "3", "--listener", "http://127.0.0.1:9/hook")
    try:
        assert info["venue"] == "rippling"
        assert {"url", "control", "token", "company_id"} <= set(info)
        assert len(info["company_id"]) == 24
        assert [x["url"] for x in info["listeners"]] == ["http://127.0.0.1:9/hook"]
        headers = {"Authorization": f"Bearer {info['token']}"}
        r = httpx.get(f"{info['url']}/workers", headers=headers, timeout=10)
        assert r.status_code == 200 and len(r.json()["results"]) == 3
        assert httpx.get(f"{info['control']}/health", timeout=10).json()["venue"] == "rippling"
    finally:
        assert stop(proc) == 0


def test_the_same_seed_gives_the_same_company_and_token() -> None:
    seen = []
    for _ in range(2):
        proc, info = start("mocks.rippling", "--seed", "5")
        stop(proc)
        seen.append((info["company_id"], info["token"]))
    assert seen[0] == seen[1]


def test_a_refused_listener_url_is_a_usage_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mocks.rippling", "--listener", "https://example.com/hook"],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert done.returncode == 2 and "url" in done.stderr


def test_a_listener_token_with_spaces_is_a_usage_error() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mocks.rippling",
            "--listener",
            "http://127.0.0.1:9/h",
            "--listener-token",
            "a b",
        ],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert done.returncode == 2 and "listener_token" in done.stderr
