"""The gate's report pieces: analytics stripped, categories, summary, JUnit, the SVG plot, and
`uat report` building one self-contained HTML file from an allure-results directory."""

from __future__ import annotations

import json
import re
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.adapters import Outcome
from harness.cli import main
from harness.history import History, Op, OpType
from harness.report.allure import categories, write_metadata
from harness.report.html import ReportError, allure_command, strip_analytics
from harness.report.junit import junit_xml
from harness.report.plot import fault_svg
from harness.report.summary import gate_markdown
from harness.timeline import FaultWindow, Timeline

# What the Allure 3 awesome template emits when analytics are on (plugin-awesome generators.js).
GTAG = """<div id="app"></div>
    <script async src="https://www.googletagmanager.com/gtag/js?id=G-LNDJ3J7WT0"></script>
    <script>
        window.dataLayer = window.dataLayer || [];
        function gtag(){dataLayer.push(arguments);}
        gtag('js', new Date());
        gtag('config', 'G-LNDJ3J7WT0', {"report": "awesome"});
    </script>
    <script>window.allureReportData = {};</script>
</body>"""

META = {"verdict": "failed", "exit_code": 1, "target": "reference", "seed": 4, "backend": "auto",
        "wall_time_s": 30.0, "started_at": "2026-01-01T00:00:00Z"}  # fmt: skip
RECORDS = [
    {"id": "A-OK", "title": "fine", "suite": "connectivity", "status": "passed", "duration_s": 9.5,
     "reproduce": "uat reproduce A-OK --seed 4"},
    {"id": "B-BAD", "title": "broken by the middleware", "suite": "execution", "status": "failed",
     "duration_s": 11.0, "reproduce": "uat reproduce B-BAD --seed 4",
     "failing_checks": [{"check": "no_lost_fill", "summary": "1 fill lost", "category": "data loss",
                         "evidence": [{"client_order_id": "t1-7", "fault": "rithmic down"}]}]},
    {"id": "C-ERR", "title": "harness broke", "suite": "tt", "status": "harness_error", "duration_s": 1.0,
     "reproduce": "uat reproduce C-ERR --seed 4", "error": "BackendUnavailable: no binary"},
]  # fmt: skip


def test_strip_analytics_removes_the_tag_and_its_config_only() -> None:
    out = strip_analytics(GTAG)
    assert "googletagmanager" not in out and "gtag" not in out
    assert '<div id="app"></div>' in out and "window.allureReportData" in out


def test_categories_cover_every_failure_class_and_harness_errors_are_broken() -> None:
    rules = {c["name"]: c for c in categories()}
    for name in (
        "Data loss",
        "Duplicate order",
        "Recovery SLO breach",
        "Protocol handling",
        "Webhook handling",
    ):
        assert rules[name]["matchedStatuses"] == ["failed"]
    assert rules["Harness error (not the middleware)"]["matchedStatuses"] == ["broken"]
    import re

    assert re.fullmatch(rules["Data loss"]["messageRegex"], "Failed: [data loss] no_lost_fill: 1 fill lost")
    assert not re.fullmatch(rules["Data loss"]["messageRegex"], "Failed: [duplicate order] x")


def test_metadata_files(tmp_path: Path) -> None:
    write_metadata(tmp_path, {"target": "reference", "seed": "4", "note": "a=b:c"}, name="seed 4")
    assert json.loads((tmp_path / "categories.json").read_text()) == categories()
    props = (tmp_path / "environment.properties").read_text().splitlines()
    assert props == ["target=reference", "seed=4", "note=a\\=b\\:c"]
    assert json.loads((tmp_path / "executor.json").read_text())["buildName"] == "seed 4"


def test_summary_names_every_failure_and_how_to_reproduce_it() -> None:
    text = gate_markdown(META, RECORDS)
    assert text.startswith("# UAT gate: FAILED")
    assert "| A-OK | connectivity | pass | 9.5 s | - |" in text
    assert "| B-BAD | execution | **FAIL** | 11.0 s | no_lost_fill |" in text
    assert "**no_lost_fill** (data loss): 1 fill lost" in text
    assert "uat reproduce B-BAD --seed 4" in text
    assert "Harness error, not a verdict on the middleware: BackendUnavailable" in text
    assert "## A-OK" not in text


def test_junit_failure_for_the_middleware_error_for_the_harness() -> None:
    root = ET.fromstring(junit_xml(META, RECORDS).split("\n", 1)[1])
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "1")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert cases["A-OK"].find("failure") is None and cases["A-OK"].find("error") is None
    failure = cases["B-BAD"].find("failure")
    assert failure is not None and "no_lost_fill: 1 fill lost" in (failure.get("message") or "")
    assert cases["C-ERR"].find("error") is not None and cases["C-ERR"].find("failure") is None


THIN = "0 order(s) accepted (2xx), at least 3 needed"
NO_EVIDENCE = {
    "id": "D-THIN",
    "title": "every order refused",
    "suite": "execution",
    "status": "inconclusive",
    "duration_s": 8.0,
    "reproduce": "uat reproduce D-THIN --seed 4",
    "reason": f"inconclusive, not enough evidence to judge: {THIN}",
    "missing_evidence": [THIN, "no_duplicate_order: no order of ours reached the venue"],
}
NOT_APPLICABLE = {
    "id": "E-TT",
    "title": "a TT scenario",
    "suite": "tt",
    "status": "skipped",
    "duration_s": 0.0,
    "reproduce": "uat reproduce E-TT --seed 4",
    "reason": "not applicable to this target: the target is not wired to venue `tt`",
}
SKIPPED_CHECK = {
    "id": "F-NODB",
    "title": "no database",
    "suite": "separation",
    "status": "passed",
    "duration_s": 7.0,
    "reproduce": "uat reproduce F-NODB --seed 4",
    "skipped_checks": [
        {"check": "db_reconcile", "summary": "not run: no access to the middleware's database"}
    ],
}
STATUSES = [*RECORDS, NO_EVIDENCE, NOT_APPLICABLE, SKIPPED_CHECK]


def test_summary_shows_every_status_and_why() -> None:
    text = gate_markdown({**META, "strict": True, "strict_violations": ["E-TT: skipped (...)"]}, STATUSES)
    assert text.startswith("# UAT gate: FAILED (strict)")
    assert "6 (2 passed, 1 failed, 1 inconclusive, 1 skipped, 1 harness errors)" in text
    why = f"no evidence: {THIN}; no_duplicate_order: no order of ours reached the venue"
    assert f"| D-THIN | execution | **INCONCLUSIVE** | 8.0 s | {why} |" in text
    assert "| E-TT | tt | skipped | 0.0 s | not applicable to this target: the target is not wired" in text
    assert "| F-NODB | separation | pass | 7.0 s | skipped checks: db_reconcile |" in text
    assert f"- missing evidence: {THIN}" in text
    assert "Skipped, not applicable to this target: the target is not wired to venue `tt`." in text
    assert "- db_reconcile skipped: not run: no access to the middleware's database" in text
    assert "strict: E-TT: skipped (...)" in text


def test_junit_inconclusive_is_a_failure_of_its_own_type_and_not_applicable_is_skipped() -> None:
    root = ET.fromstring(junit_xml(META, STATUSES).split("\n", 1)[1])
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == (
        "6", "2", "1", "1",
    )  # fmt: skip
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    thin = cases["D-THIN"].find("failure")
    assert thin is not None and thin.get("type") == "inconclusive"
    assert THIN in (thin.get("message") or "")
    skipped = cases["E-TT"].find("skipped")
    assert skipped is not None and "not wired to venue `tt`" in (skipped.get("message") or "")
    assert cases["E-TT"].find("failure") is None
    assert cases["F-NODB"].find("failure") is None and cases["F-NODB"].find("skipped") is None


def test_categories_give_no_evidence_and_not_applicable_their_own_class() -> None:
    import re

    rules = {c["name"]: c for c in categories()}
    assert rules["No evidence"]["matchedStatuses"] == ["failed"]
    message = "[no evidence] inconclusive: not enough evidence to judge the middleware\nmissing: ..."
    assert re.fullmatch(rules["No evidence"]["messageRegex"], message)
    assert not re.fullmatch(rules["Data loss"]["messageRegex"], message)
    assert rules["Not applicable to this target"]["matchedStatuses"] == ["skipped"]


SVG = "{http://www.w3.org/2000/svg}"


def _svg(history: History, timeline: Timeline, title: str = "plot") -> ET.Element:
    root = ET.fromstring(fault_svg(history, timeline, title))
    assert root.tag == f"{SVG}svg"
    assert root.get("width") and root.get("height") and root.get("viewBox")
    return root


def _orders(history: History, *orders: tuple[float, OpType, float | None]) -> None:
    """Completed place_order calls at chosen times: (time, "ok"/"fail"/"info", latency_ms)."""
    for time, kind, latency in orders:
        invoke = Op(len(history.ops), "t1", "invoke", "place_order", {}, time)
        done = Op(invoke.index + 1, "t1", kind, "place_order", {}, time, latency, invoke_index=invoke.index)
        history.ops += [invoke, done]


def _window(timeline: Timeline, name: str, start: float, end: float | None) -> None:
    timeline.windows.append(FaultWindow(name, "network", "rithmic", True, start, end))


def _group(root: ET.Element, gid: str) -> ET.Element:
    group = root.find(f".//{SVG}g[@id='{gid}']")
    assert group is not None, gid
    return group


def _markers(root: ET.Element) -> tuple[int, int]:
    """(ok dots, fail/unknown crosses) drawn in the latency panel."""
    return len(_group(root, "ok-orders").findall(f"{SVG}circle")), len(_group(root, "failed-orders"))


def _ticks(root: ET.Element, panel: str) -> dict[str, float]:
    """A panel's y tick labels and the y coordinate each stands at."""
    ticks = {}
    for tick in _group(root, panel).findall(f"{SVG}g[@class='ytick']"):
        label = tick.find(f"{SVG}text")
        assert label is not None and label.text
        ticks[label.text] = float(re.findall(r"[-\d.]+", tick.get("transform", ""))[1])
    return ticks


def _window_names(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text") if t.get("class") == "window"]


def test_plot_is_svg_with_a_marker_per_order_and_each_window_named() -> None:
    timeline = Timeline(started=0.0)
    window = timeline.begin("rithmic down", kind="network", target="rithmic", venue_down=True)
    timeline.end(window)
    history = History(started=0.0)
    for i in range(20):
        history.record("t1", "place_order", {"client_order_id": f"t1-{i}"},
                       lambda i=i: Outcome("ok" if i % 3 else "fail", 200, None, 5.0 + i))  # fmt: skip
    history.record("t1", "order_status", {}, lambda: Outcome("fail", 500, None, 1.0))  # not an order
    root = _svg(history, timeline, "RITHMIC-ORDER-PLANT-DROP (seed 4)")
    assert _markers(root) == (13, 7)
    assert _window_names(root) == ["rithmic down"]
    legend = "".join(_group(root, "legend").itertext())
    assert "ok" in legend and "fail / unknown" in legend
    assert "RITHMIC-ORDER-PLANT-DROP (seed 4)" in [t.text for t in root.iter(f"{SVG}text")]


def test_plot_without_orders_is_still_a_valid_svg() -> None:
    root = _svg(History(started=0.0), Timeline(started=0.0), "empty")
    assert _markers(root) == (0, 0)
    assert root.find(f".//{SVG}g[@id='legend']") is None
    assert _group(root, "refused").find(f"{SVG}path[@id='refused-rate']") is not None
    assert {"0", "100"} <= set(_ticks(root, "refused")) and _ticks(root, "latency")


def test_plot_escapes_window_names_and_the_title() -> None:
    timeline = Timeline(started=0.0)
    _window(timeline, "a<b&c", 1.0, 2.0)
    _window(timeline, 'latency "800±200 ms" > 1 s', 3.0, None)
    history = History(started=0.0)
    _orders(history, (0.5, "ok", 10.0))
    raw = fault_svg(history, timeline, 'T<1> & "x"')
    assert b"a&lt;b&amp;c" in raw
    root = ET.fromstring(raw)
    assert _window_names(root) == ["a<b&c", 'latency "800±200 ms" > 1 s']
    assert 'T<1> & "x"' in [t.text for t in root.iter(f"{SVG}text")]


def test_plot_shows_the_share_of_orders_refused_per_half_second() -> None:
    history = History(started=0.0)
    _orders(history, (0.1, "ok", 5.0), (0.2, "ok", 6.0))  # bin 0: none refused
    _orders(history, (1.1, "fail", None), (1.3, "info", 9.0))  # bin 2: all refused
    _orders(history, (2.1, "ok", 5.0), (2.2, "fail", 7.0))  # bin 4: half
    root = _svg(history, Timeline(started=0.0))
    assert _markers(root) == (3, 3)
    path = _group(root, "refused").find(f"{SVG}path[@id='refused-rate']")
    assert path is not None
    d = path.get("d", "")
    levels = [float(y) for y in re.findall(r"(?:^M[-\d.]+,|V)([-\d.]+)", d)]
    ticks = _ticks(root, "refused")
    zero, full = ticks["0"], ticks["100"]
    assert full < zero  # SVG y grows downwards
    # 0 % from the start, 100 % over bin 2 (1.0-1.5 s), 0 % again, 50 % over bin 4, then 0 %
    assert levels == pytest.approx([zero, full, zero, (zero + full) / 2, zero], abs=0.2)


def test_plot_copes_with_huge_latencies_and_windows_past_the_last_order() -> None:
    history = History(started=0.0)
    _orders(history, (0.2, "info", 3.7e9))  # a single order, unknown, absurdly slow
    timeline = Timeline(started=0.0)
    _window(timeline, "late", 30.0, 45.0)
    _window(timeline, "open", 50.0, None)
    root = _svg(history, timeline)
    assert _markers(root) == (0, 1)
    assert max(float(label) for label in _ticks(root, "latency")) >= 3.7e9
    xticks = [t for t in root.iter(f"{SVG}g") if t.get("class") == "xtick"]
    last = xticks[-1]
    assert float("".join(last.itertext())) >= 50.0
    right = float(re.findall(r"[-\d.]+", last.get("transform", ""))[0])
    shades = [r for r in root.iter(f"{SVG}rect") if r.get("fill-opacity")]
    assert len(shades) == 4  # each window, across both panels
    for shade in shades[2:]:  # the open window runs to the end of the plot
        assert float(shade.get("x", "")) + float(shade.get("width", "")) == pytest.approx(right, abs=0.2)
    assert _window_names(root) == ["late", "open"]


def _has_cli() -> bool:
    try:
        allure_command()
    except ReportError:
        return False
    return True


def test_uat_report_on_a_missing_dir_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["report", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "no such directory" in result.output


@pytest.mark.skipif(not _has_cli(), reason="the Allure 3 CLI is not installed: run `npm ci`")
def test_uat_report_builds_one_self_contained_file(tmp_path: Path) -> None:
    results = tmp_path / "allure-results"
    results.mkdir()
    rid = str(uuid.uuid4())
    (results / f"{rid}-result.json").write_text(json.dumps({
        "uuid": rid, "name": "B-BAD: lost a fill", "fullName": "uat#B-BAD", "historyId": "b-bad",
        "status": "failed", "statusDetails": {"message": "Failed: [data loss] no_lost_fill: 1 fill lost"},
        "start": 1_700_000_000_000, "stop": 1_700_000_001_000,
        "labels": [{"name": "epic", "value": "rithmic"}, {"name": "feature", "value": "connectivity"}],
    }))  # fmt: skip
    write_metadata(results, {"target": "reference", "seed": "4"}, name="seed 4")
    result = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert result.exit_code == 0, result.output
    html = Path(result.output.strip())
    assert html == tmp_path / "html" / "index.html"
    assert [p.name for p in html.parent.iterdir()] == ["index.html"]
    text = html.read_text()
    assert "googletagmanager" not in text and "gtag(" not in text
    assert "<script" in text and 'src="http' not in text
