"""Request rates from Locust's full stats history are HTTP only: our stream and latency events
are Locust 'requests' too, and must not inflate them."""

from __future__ import annotations

from pathlib import Path

from harness.load.locust_csv import TAIL_BYTES, Write, last_writes, read_csv, writes

HEADER = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,Total Request Count\n"


def test_each_write_sums_only_its_http_rows_and_two_writes_in_one_second_stay_apart(tmp_path: Path) -> None:
    csv = tmp_path / "locust_stats_history.csv"
    csv.write_text(
        HEADER
        + "1000,5,GET,GET /v1/positions,2.000000,0.000000,10\n"
        + "1000,5,POST,POST /v1/orders,3.500000,0.500000,20\n"
        + "1000,5,WS,quote age,40.000000,0.000000,200\n"
        + "1000,5,ORDER,order ack,3.500000,0.000000,20\n"
        + "1000,5,,Aggregated,49.000000,0.500000,250\n"
        # a second write within the same whole second
        + "1000,6,DELETE,DELETE /v1/orders/{id},1.000000,0.000000,1\n"
        + "1000,6,WS,quote age,50.000000,0.000000,300\n"
        + "1000,6,,Aggregated,51.000000,0.000000,301\n"
        + "1001,6,,Aggregated,0.000000,0.000000,301\n"  # nothing but our events yet
    )
    history = writes(read_csv(csv))
    assert [(w.timestamp, w.users, w.http_rps, w.failures_per_s) for w in history] == [
        (1000.0, 5, 5.5, 0.5),
        (1000.0, 6, 1.0, 0.0),
        (1001.0, 6, 0.0, 0.0),
    ]


def test_a_missing_history_reads_as_no_writes(tmp_path: Path) -> None:
    assert writes(read_csv(tmp_path / "absent.csv")) == []


def test_the_last_writes_of_a_long_history_come_from_its_tail(tmp_path: Path) -> None:
    csv = tmp_path / "locust_stats_history.csv"
    rows = [HEADER]
    for second in range(5000):  # far more than the tail read: the latest writes must still be whole
        rows.append(f"{second},{second},GET,GET /v1/positions,2.000000,0.000000,{second}\n")
        rows.append(f"{second},{second},POST,POST /v1/orders,{second % 7}.000000,0.000000,{second}\n")
        rows.append(f"{second},{second},WS,quote age,40.000000,0.000000,{second}\n")
        rows.append(f"{second},{second},,Aggregated,49.000000,0.250000,{second}\n")
    csv.write_text("".join(rows))
    assert csv.stat().st_size > 2 * TAIL_BYTES
    tail = last_writes(csv)
    assert tail == writes(read_csv(csv))[-len(tail) :]
    assert tail[-1] == Write(4999.0, 4999, 2.0 + 4999 % 7, 0.25)
    assert len(tail) > 100


def test_the_last_writes_of_a_short_history_are_all_of_them(tmp_path: Path) -> None:
    csv = tmp_path / "locust_stats_history.csv"
    csv.write_text(HEADER + "1000,5,GET,GET /x,2.000000,0.000000,10\n1000,5,,Aggregated,2.0,0.0,10\n")
    assert last_writes(csv) == writes(read_csv(csv)) == [Write(1000.0, 5, 2.0, 0.0)]
    assert last_writes(tmp_path / "absent.csv") == []
