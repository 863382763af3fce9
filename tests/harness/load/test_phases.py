"""Before, during and after the faults: each measurement lands in the phase its order was sent in."""

from __future__ import annotations

from pathlib import Path

from harness.history import History, Op
from harness.load.locust_csv import read_csv, writes
from harness.load.phases import split_by_phase
from harness.timeline import FaultWindow, Timeline


def _history(acks: list[tuple[float, float]]) -> History:
    """Accepted orders: (sent at, ack latency in ms)."""
    history = History(started=0.0)
    for i, (t, ms) in enumerate(acks):
        value = {"client_order_id": f"o{i}"}
        history.ops.append(Op(2 * i, "p", "invoke", "place_order", value, t))
        history.ops.append(
            Op(2 * i + 1, "p", "ok", "place_order", value, t + ms / 1000, ms, invoke_index=2 * i)
        )
    return history


def test_phases_split_acks_fills_and_rps_around_the_fault_with_grace() -> None:
    timeline = Timeline()
    timeline.windows.append(FaultWindow("rithmic down", "network", "rithmic", True, start=10.0, end=20.0))
    history = _history([(1.0, 5.0), (2.0, 7.0), (12.0, 900.0), (23.0, 50.0), (40.0, 6.0), (41.0, 8.0)])
    fills = [(1.5, 400.0), (15.0, 2000.0), (45.0, 300.0)]
    rps = [(5.0, 100.0), (15.0, 10.0), (30.0, 90.0), (50.0, 110.0)]
    phases = split_by_phase(history, timeline, fills, rps, grace_s=5.0)
    assert phases["before"]["order_ack_ms"]["n"] == 2
    assert phases["during"]["order_ack_ms"]["n"] == 2  # 12 s, and 23 s inside the 5 s grace
    assert phases["during"]["order_ack_ms"]["p99"] > 800
    assert phases["after"]["order_ack_ms"]["n"] == 2 and phases["after"]["order_ack_ms"]["p99"] < 10
    assert phases["during"]["order_to_fill_ms"]["n"] == 1  # sent at 13 s
    assert phases["before"]["order_to_fill_ms"]["n"] == 1 and phases["after"]["order_to_fill_ms"]["n"] == 1
    assert (phases["before"]["rps"], phases["during"]["rps"]) == (100.0, 10.0)
    assert phases["after"]["rps"] == 100.0  # mean of 90 and 110
    assert phases["during"]["window_s"] == [10.0, 25.0]


def test_without_faults_everything_is_before() -> None:
    phases = split_by_phase(_history([(1.0, 5.0)]), Timeline(), [(2.0, 100.0)], [(1.0, 50.0)], grace_s=5.0)
    assert phases["before"]["order_ack_ms"]["n"] == 1 and phases["after"]["order_ack_ms"]["n"] == 0
    assert phases["during"]["window_s"] is None and phases["after"]["rps"] is None


def test_phase_rates_count_http_requests_not_our_stream_events(tmp_path: Path) -> None:
    csv = tmp_path / "locust_stats_history.csv"
    csv.write_text(
        "Timestamp,User Count,Type,Name,Requests/s,Failures/s\n"
        "1005,5,POST,POST /v1/orders,30.0,0.0\n"
        "1005,5,WS,quote age,500.0,0.0\n"
        "1005,5,,Aggregated,530.0,0.0\n"
        "1015,5,POST,POST /v1/orders,4.0,0.0\n"
        "1015,5,ORDER,order to fill,4.0,0.0\n"
        "1015,5,,Aggregated,8.0,0.0\n"
    )
    timeline = Timeline()
    timeline.windows.append(FaultWindow("rithmic down", "network", "rithmic", True, start=10.0, end=20.0))
    started = 1000.0
    rps = [(w.timestamp - started, w.http_rps) for w in writes(read_csv(csv))]
    phases = split_by_phase(_history([]), timeline, [], rps, grace_s=5.0)
    assert (phases["before"]["rps"], phases["during"]["rps"]) == (30.0, 4.0)
