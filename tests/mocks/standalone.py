"""Start `python -m mocks.<venue>` as a real process and read its one JSON line (bounded)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from typing import Any


def start(module: str, *args: str, timeout: float = 20) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline() if proc.stdout else ""))
    reader.start()
    reader.join(timeout)
    if not line or not line[0]:
        proc.kill()
        _, err = proc.communicate(timeout=10)
        raise AssertionError(f"{module} printed no JSON line within {timeout}s; stderr: {err[-2000:]}")
    return proc, json.loads(line[0])


def stop(proc: subprocess.Popen[str]) -> int:
    """SIGTERM, then wait (bounded); a process that ignores it is killed and the test fails."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
        raise AssertionError("process did not exit on SIGTERM within 10 s") from None
    finally:
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    return proc.returncode
