"""Fault schedules for load runs: parsed into fault steps, every bad field named."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.load.schedule import ScheduleError, load, parse, parse_duration

GOOD = """
seed: 7
faults:
  - at: 2m
    for: 30s
    venue: rithmic
    toxic: latency
    stream: upstream
    attributes: {latency: 500, jitter: 100}
  - at: 60s
    for: 10s
    venue: rithmic
    down: true
  - at: 150
    venue: rithmic
    protocol: duplicate_fill
    count: 3
"""


def test_a_good_schedule_becomes_ordered_fault_steps(tmp_path: Path) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text(GOOD)
    schedule = load(path)
    assert schedule.seed == 7
    assert [(s.kind, s.at, s.for_s) for s in schedule.steps] == [
        ("down", 60.0, 10.0),
        ("toxic", 120.0, 30.0),
        ("protocol", 150.0, None),
    ]
    latency = schedule.steps[1]
    assert latency.toxic == "latency" and latency.stream == "upstream"
    assert latency.attributes == {"latency": 500, "jitter": 100}
    assert schedule.steps[2].fault == "duplicate_fill" and schedule.steps[2].count == 3
    assert schedule.duration_s == 150.0
    assert schedule.to_json()["faults"][0] == {"at": 60.0, "for": 10.0, "fault": "rithmic down"}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90),
        (90, 90),
        ("90s", 90),
        ("1m30s", 90),
        ("250ms", 0.25),
        ("1h", 3600),
        (2.5, 2.5),
        ("2m", 120),
    ],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text, "at", "f") == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("entry", "field", "message"),
    [
        ({"at": 1, "for": 2, "venue": "rithmic"}, r"faults\[0\]", "exactly one of"),
        (
            {"at": 1, "for": 2, "venue": "rithmic", "down": True, "toxic": "latency"},
            r"faults\[0\]",
            "exactly one of",
        ),
        ({"at": 1, "for": 2, "venue": "cqgg", "down": True}, r"faults\[0\]\.venue", "must be one of"),
        ({"at": "soon", "for": 2, "venue": "rithmic", "down": True}, r"faults\[0\]\.at", "duration"),
        ({"at": 1, "venue": "rithmic", "down": True}, r"faults\[0\]\.for", "required"),
        ({"at": 1, "for": 0, "venue": "rithmic", "down": True}, r"faults\[0\]\.for", "longer than 0"),
        ({"at": -5, "for": 1, "venue": "rithmic", "down": True}, r"faults\[0\]\.at", "between 0"),
        ({"at": 1, "for": 1, "venue": "rithmic", "toxic": "latncy"}, r"faults\[0\]\.toxic", "unknown toxic"),
        (
            {"at": 1, "for": 1, "venue": "rithmic", "toxic": "latency", "attributes": {"latncy": 5}},
            r"faults\[0\]\.attributes\.latncy",
            "unknown attribute",
        ),
        (
            {"at": 1, "for": 1, "venue": "rithmic", "toxic": "latency", "attributes": {"latency": 1.5}},
            r"faults\[0\]\.attributes\.latency",
            "whole number",
        ),
        (
            {"at": 1, "for": 1, "venue": "rithmic", "toxic": "latency", "stream": "sideways"},
            r"faults\[0\]\.stream",
            "upstream or downstream",
        ),
        (
            {"at": 1, "for": 1, "venue": "rithmic", "toxic": "latency", "toxicity": 2},
            r"faults\[0\]\.toxicity",
            "from 0 to 1",
        ),
        (
            {"at": 1, "venue": "rithmic", "protocol": "duplicate_fill", "count": 0},
            r"faults\[0\]\.count",
            "positive",
        ),
        (
            {"at": 1, "venue": "rithmic", "protocol": "duplicate_fill", "colour": 1},
            r"faults\[0\]\.colour",
            "unknown field",
        ),
    ],
)
def test_each_bad_field_is_named(entry: dict[str, object], field: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=rf"^faults\.yaml: {field}: .*{message}"):
        parse({"faults": [entry]}, "faults.yaml")


def test_file_level_errors(tmp_path: Path) -> None:
    with pytest.raises(ScheduleError, match="faults: must be a non-empty list"):
        parse({"seed": 1}, "f")
    with pytest.raises(ScheduleError, match="seed: must be an integer"):
        parse({"seed": "x", "faults": [{"venue": "rithmic", "down": True, "for": 1}]}, "f")
    with pytest.raises(ScheduleError, match="repeat: unknown field"):
        parse({"repeat": 3, "faults": []}, "f")
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("faults: [\n")
    with pytest.raises(ScheduleError, match="yaml:"):
        load(bad_yaml)
    with pytest.raises(ScheduleError, match="file: no such file"):
        load(tmp_path / "missing.yaml")


def test_database_and_deploy_steps_target_the_middleware_itself() -> None:
    schedule = parse(
        {
            "faults": [
                {"at": "10s", "for": "10s", "venue": "postgres", "down": True},
                {"at": 20, "for": 3, "database": "table_lock", "params": {"table": "orders"}},
                {"at": 25, "database": "restart"},
                {"at": 30, "deploy": "graceful"},
            ]
        },
        "f",
    )
    kinds = [(s.kind, s.venue, s.fault) for s in schedule.steps]
    assert kinds == [
        ("down", "postgres", ""),
        ("database", "postgres", "table_lock"),
        ("database", "postgres", "restart"),
        ("deploy", "middleware", "graceful"),
    ]
    assert not schedule.steps[0].takes_venue_down  # the database is not an execution venue


@pytest.mark.parametrize(
    ("entry", "field", "message"),
    [
        ({"at": 1, "for": 2, "database": "row_lock"}, r"faults\[0\]\.database", "must be one of"),
        ({"at": 1, "for": 2, "database": "table_lock"}, r"faults\[0\]\.params\.table", "required"),
        ({"at": 1, "database": "exhaust_connections"}, r"faults\[0\]\.for", "required"),
        (
            {"at": 1, "for": 2, "database": "statement_timeout", "params": {"ms": -1}},
            r"faults\[0\]\.params",
            "",
        ),
        ({"at": 1, "deploy": "yolo"}, r"faults\[0\]\.deploy", "must be one of"),
        ({"at": 1, "for": 3, "deploy": "crash"}, r"faults\[0\]\.for", "takes no"),
        ({"at": 1, "deploy": "crash", "venue": "rithmic"}, r"faults\[0\]\.venue", "not used"),
        ({"at": 1, "for": 1, "venue": "postgres", "protocol": "x"}, r"faults\[0\]\.venue", "must be one of"),
    ],
)
def test_each_bad_state_fault_field_is_named(entry: dict[str, object], field: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=rf"^faults\.yaml: {field}: .*{message}"):
        parse({"faults": [entry]}, "faults.yaml")
