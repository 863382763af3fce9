"""Journals through Locust's own master/worker messages, for real: a master, a local worker that
writes its journal to files, and a 'remote' worker with no UAT_* variable and another cwd, which
ships its journal to the master. Every row either worker wrote must be in the journal directory,
and the master's counts must say so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from harness.load.journal import read_status
from harness.load.shipping import audit
from harness.ports import free_port

LOCUSTFILE = str(Path(__file__).with_name("shipping_locustfile.py"))


def _locust(args: list[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "locust", "-f", LOCUSTFILE, *args],
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def test_a_worker_without_a_journal_directory_ships_every_row_to_the_master(tmp_path: Path) -> None:
    journal, counts, elsewhere = tmp_path / "journal", tmp_path / "counts", tmp_path / "elsewhere"
    counts.mkdir()
    elsewhere.mkdir()
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("UAT_")}
    ours = {**clean, "ROWS_COUNT_DIR": str(counts), "UAT_JOURNAL": str(journal)}
    master = _locust(
        [
            "--headless",
            "--only-summary",
            "--stop-timeout",
            "3",
            "--master",
            "--master-bind-host",
            "127.0.0.1",
            "--master-bind-port",
            str(port),
            "--expect-workers",
            "2",
            "--expect-workers-max-wait",
            "30",
        ],
        {**ours, "UAT_REMOTE_WORKERS": "1"},
        tmp_path,
        tmp_path / "master.log",
    )
    worker = ["--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
    local = _locust(worker, ours, tmp_path, tmp_path / "local.log")
    remote = _locust(worker, {**clean, "ROWS_COUNT_DIR": str(counts)}, elsewhere, tmp_path / "remote.log")
    procs = (master, local, remote)
    try:
        for proc in procs:
            proc.wait(timeout=60)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    logs = "".join(p.read_text()[-2000:] for p in sorted(tmp_path.glob("*.log")))
    assert [p.returncode for p in procs] == [0, 0, 0], logs
    written = {int(p.stem): int(p.read_text()) for p in counts.glob("*.count")}
    assert set(written) == {local.pid, remote.pid}, logs
    report = audit(journal, remote_workers=1)
    assert report["problems"] == [], report
    assert report["remote_rows"] == written[remote.pid] > 1000, "too few rows to need several batches"
    assert report["local_rows"] == written[local.pid] > 0
    (client, shipped), *others = report["shipped"].items()
    assert not others and shipped["received"] == shipped["sent"] == shipped["on_disk"] == written[remote.pid]
    assert shipped["batches"] > 2
    # the remote rows are the remote worker's own: its index, as the master numbered it
    remote_index = shipped["worker_index"]
    status = read_status(journal)
    assert len(status["joined"]) == 2 and client in status["joined"] and status["run_started"]
    keys = [
        json.loads(line)["key"]
        for line in next(journal.glob("history-remote-*.jsonl")).read_text().splitlines()
    ]
    assert keys and all(key.startswith(f"w{remote_index}-") for key in keys)
    assert len(set(keys)) == len(keys), "a row arrived twice"
    print(f"rows: {written[local.pid]} local, {written[remote.pid]} shipped in {shipped['batches']} batches")
