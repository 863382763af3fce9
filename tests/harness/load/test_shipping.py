"""Journals over the wire: batches are bounded and carry a running total, the final batch always
goes, a failed send keeps its rows, the master's files read like any journal, and the audit
names every way a shipped journal can be incomplete."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.history import History
from harness.load.journal import Journal, merge, read_measures, read_status
from harness.load.shipping import Receiver, Shipper, audit


def _row(n: int) -> str:
    return json.dumps(
        {
            "process": "scalper-1",
            "type": "invoke",
            "f": "place_order",
            "value": {"client_order_id": f"o{n}"},
            "time": float(n),
            "latency_ms": None,
            "status": None,
            "error": "",
            "key": f"o{n}",
        }
    )


def test_batches_are_bounded_totals_run_and_the_final_batch_always_goes() -> None:
    sent: list[dict[str, Any]] = []
    shipper = Shipper(sent.append, batch_rows=4)
    shipper.flush(final=False)
    assert sent == []  # nothing buffered, not final: no chatter
    for n in range(10):
        shipper.put("history", _row(n))
    shipper.put("measures", json.dumps({"measure": "order to fill", "time": 1.0, "latency_ms": 3.0}))
    shipper.flush(final=False)
    assert [len(b["history"]) + len(b["measures"]) for b in sent] == [4, 4, 3]
    assert [b["sent"] for b in sent] == [4, 8, 11] and [b["seq"] for b in sent] == [0, 1, 2]
    assert not any(b["final"] for b in sent)
    shipper.close()
    assert sent[-1] == {"history": [], "measures": [], "seq": 3, "sent": 11, "final": True}
    shipper.close()
    assert len(sent) == 4, "a second close with nothing new must not send again"
    # rows written after the final batch (a straggler) still go, and the total says so
    shipper.put("history", _row(99))
    shipper.flush(final=True)
    assert sent[-1]["sent"] == 12 and sent[-1]["final"] and sent[-1]["history"] == [_row(99)]


def test_a_failed_send_keeps_its_rows_in_order_for_the_next_flush() -> None:
    sent: list[dict[str, Any]] = []
    broken = True

    def send(batch: dict[str, Any]) -> None:
        if broken:
            raise ConnectionError("master unreachable")
        sent.append(batch)

    shipper = Shipper(send, batch_rows=2)
    for n in range(3):
        shipper.put("history", _row(n))
    with pytest.raises(ConnectionError):
        shipper.flush(final=False)
    assert shipper.sent == 0
    broken = False
    shipper.put("history", _row(3))
    shipper.flush(final=True)
    assert [line for b in sent for line in b["history"]] == [_row(n) for n in range(4)]
    assert sent[-1]["sent"] == 4 and sent[-1]["final"]


def _ship(tmp_path: Path, client: str, rows: int, *, drop: int | None = None, final: bool = True) -> Receiver:
    receiver = Receiver(tmp_path, expected_workers=1, remote_workers=1)
    receiver.join(client)
    shipper = Shipper(
        lambda batch: None if batch["seq"] == drop else receiver.receive(client, batch, worker_index=3),
        batch_rows=5,
    )
    journal = Journal(shipper, started_wall=0.0)
    for n in range(rows):
        journal.write(f"swing-{n}", "invoke", "place_order", {"client_order_id": f"o{n}"}, key=f"o{n}")
        journal.write(
            f"swing-{n}", "ok", "place_order", {"client_order_id": f"o{n}"}, key=f"o{n}", status=202
        )
    journal.measured("order to fill", 12.0)
    if final:
        journal.flush(final=True)
    else:
        shipper.flush(final=False)
    receiver.close()
    return receiver


def test_shipped_rows_land_in_files_that_merge_reads_and_the_audit_agrees(tmp_path: Path) -> None:
    receiver = _ship(tmp_path, "host-a_0f3c", rows=6)
    assert receiver.complete(expected_shippers=1) and not receiver.complete(expected_shippers=2)
    assert sorted(p.name for p in tmp_path.glob("*-remote-*")) == [
        "history-remote-host-a_0f3c.jsonl",
        "measures-remote-host-a_0f3c.jsonl",
    ]
    history = History(started=0.0)
    assert merge(tmp_path, history) == 12
    assert len(history.completions("place_order")) == 6
    assert len(read_measures(tmp_path, "order to fill")) == 1
    status = read_status(tmp_path)
    assert status["joined"] == ["host-a_0f3c"]
    assert status["shipped"]["host-a_0f3c"] | {"batches": 0} == {
        "worker_index": 3,
        "received": 13,
        "sent": 13,
        "batches": 0,
        "final": True,
        "out_of_order": 0,
    }
    report = audit(tmp_path, remote_workers=1)
    assert (report["local_rows"], report["remote_rows"], report["problems"]) == (0, 13, [])


def test_the_audit_names_a_lost_batch_a_missing_final_and_a_worker_that_never_shipped(tmp_path: Path) -> None:
    _ship(tmp_path / "lost", "w1", rows=6, drop=1)  # the second batch never arrives
    lost = audit(tmp_path / "lost", remote_workers=1)["problems"]
    assert lost == ["worker 3 (w1) says it sent 13 journal rows; 8 arrived and 8 are on disk"]
    _ship(tmp_path / "unfinished", "w2", rows=1, final=False)
    unfinished = audit(tmp_path / "unfinished", remote_workers=1)["problems"]
    assert unfinished == ["worker 3 (w2) never sent its final journal batch: its last rows are missing"]
    local = Journal(tmp_path / "kept", started_wall=0.0)  # a remote worker that kept its journal
    local.write("t", "invoke", "place_order", {"client_order_id": "a"}, key="a")
    local.close()
    kept = audit(tmp_path / "kept", remote_workers=1)
    assert kept["local_rows"] == 1 and kept["remote_rows"] == 0
    assert kept["problems"] == [
        "0 worker(s) shipped a journal to the master, but 1 remote worker(s) were expected: "
        "a remote worker with UAT_JOURNAL set keeps its journal on its own disk"
    ]
