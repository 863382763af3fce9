"""`[metrics]` in a target file, and reading a gauge from Prometheus text exposition."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from harness.metrics import MetricsProbe, read_gauge
from harness.target import TargetError, load

from .test_target import GOOD, _write

TEXT = """# HELP refmw_database_up Whether the service can use its database.
# TYPE refmw_database_up gauge
refmw_database_up_total 7
refmw_venue_up{venue="rithmic"} 1
refmw_database_up 0
"""


def test_read_gauge_takes_the_named_sample_not_a_prefix_or_a_comment() -> None:
    assert read_gauge(TEXT, "refmw_database_up") == 0.0
    assert read_gauge(TEXT, "refmw_venue_up") == 1.0  # labels ignored
    assert read_gauge(TEXT, "absent") is None
    assert read_gauge("x NaN\ny abc\n", "x") is None and read_gauge("y abc\n", "y") is None


def test_declared_metrics_are_offered_and_bad_ones_named(tmp_path: Path) -> None:
    declared = GOOD + '\n[metrics]\nurl = "http://127.0.0.1:{port}/metrics"\ndatabase_up = "app_db_up"\n'
    parsed = load(_write(tmp_path, declared))
    assert parsed.metrics is not None and parsed.metrics.database_up == "app_db_up"
    assert "metrics" in parsed.offers() and "metrics" not in load(_write(tmp_path, GOOD)).offers()
    with pytest.raises(TargetError, match=r"metrics\.database_up: must be a Prometheus metric name"):
        load(_write(tmp_path, declared.replace('"app_db_up"', '"app db up"')))
    with pytest.raises(TargetError, match=r"metrics\.url: is required"):
        load(_write(tmp_path, GOOD + '\n[metrics]\ndatabase_up = "app_db_up"\n'))
    with pytest.raises(TargetError, match=r"metrics\.url: .*only loopback or hosts allowlisted"):
        load(_write(tmp_path, declared.replace("127.0.0.1:{port}/metrics", "metrics.example.com/metrics")))


class _Exporter(BaseHTTPRequestHandler):
    answer: tuple[int, str] = (200, TEXT)

    def do_GET(self) -> None:
        status, text = type(self).answer
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def exporter() -> Iterator[tuple[str, type[_Exporter]]]:
    handler = type("Exporter", (_Exporter,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/metrics", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_probe_reads_the_gauge_and_reports_a_missing_one(exporter: tuple[str, type[_Exporter]]) -> None:
    url, handler = exporter
    probe = MetricsProbe(url, "refmw_database_up")
    try:
        read = probe.read()
        assert read.type == "ok" and read.body["database_up"] == 0.0
        handler.answer = (200, "other 1\n")
        missing = probe.read()
        assert missing.body["database_up"] is None and "no refmw_database_up sample" in missing.error
        handler.answer = (503, "down")
        assert probe.read().type == "fail"
    finally:
        probe.close()
