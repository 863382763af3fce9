"""FaultBook and FaultKind: validation naming the field, counted and timed faults, clearing."""

from __future__ import annotations

import time

import pytest

from mocks.common import FaultBook, FaultError, FaultKind

KINDS = [
    FaultKind("drop", "drop frames", {"n": (int, 1), "ratio": (float, 0.5), "mode": (str, None)}),
    FaultKind(
        "status",
        "answer a status",
        {"code": (int, 503), "mode": (str, "json")},
        bounds={"code": (500, 599)},
        choices={"mode": ("json", "html")},
    ),
    FaultKind("flag", "no params"),
]


@pytest.fixture
def book() -> FaultBook:
    return FaultBook(KINDS)


def field_of(book: FaultBook, body: object) -> str:
    with pytest.raises(FaultError) as info:
        book.arm_request(body)
    return info.value.field


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "body"),
        ("drop", "body"),
        (None, "body"),
        ({}, "fault"),
        ({"fault": 3}, "fault"),
        ({"fault": "nope"}, "fault"),
        ({"fault": "drop", "count": 0}, "count"),
        ({"fault": "drop", "count": -2}, "count"),
        ({"fault": "drop", "count": 1.5}, "count"),
        ({"fault": "drop", "count": True}, "count"),
        ({"fault": "drop", "count": "2"}, "count"),
        ({"fault": "drop", "duration_ms": 0}, "duration_ms"),
        ({"fault": "drop", "duration_ms": "10"}, "duration_ms"),
        ({"fault": "drop", "duration_ms": False}, "duration_ms"),
        ({"fault": "drop", "duration_ms": float("nan")}, "duration_ms"),
        ({"fault": "drop", "colour": "red"}, "colour"),
        ({"fault": "drop", "params": []}, "params"),
        ({"fault": "drop", "params": {"x": 1}}, "params.x"),
        ({"fault": "drop", "params": {"n": "1"}}, "params.n"),
        ({"fault": "drop", "params": {"n": True}}, "params.n"),
        ({"fault": "drop", "params": {"n": 1.0}}, "params.n"),
        ({"fault": "status", "params": {"code": 404}}, "params.code"),
        ({"fault": "status", "params": {"mode": "xml"}}, "params.mode"),
        # null where the param has a default: once armed as None, and a 500 when it fired (the fuzz suites)
        ({"fault": "status", "params": {"code": None}}, "params.code"),
        ({"fault": "drop", "params": {"n": None}}, "params.n"),
    ],
)
def test_bad_arm_requests_name_the_field(book: FaultBook, body: object, field: str) -> None:
    assert field_of(book, body) == field
    assert book.snapshot() == []


def test_unknown_fault_message_lists_the_catalogue(book: FaultBook) -> None:
    with pytest.raises(FaultError, match="drop, flag, status"):
        book.arm("nope")


def test_params_defaults_and_int_accepted_as_float(book: FaultBook) -> None:
    fault = book.arm_request({"fault": "drop", "params": {"ratio": 1, "mode": None}})  # null: not set
    assert fault.params == {"n": 1, "ratio": 1.0, "mode": None}
    assert isinstance(fault.params["ratio"], float)
    assert book.arm("status", {"code": 599, "mode": "html"}).params == {"code": 599, "mode": "html"}


def test_counted_fault_fires_exactly_count_times(book: FaultBook) -> None:
    book.arm_request({"fault": "drop", "count": 2})
    first, second, third = book.take("drop"), book.take("drop"), book.take("drop")
    assert first is not None and second is not None and third is None
    assert second.fired == 2 and second.remaining == 0
    assert book.snapshot() == []


def test_active_does_not_use_a_firing_up(book: FaultBook) -> None:
    book.arm("flag", count=1)
    for _ in range(3):
        assert book.active("flag") is not None
    assert book.take("flag") is not None
    assert book.active("flag") is None


def test_uncounted_fault_stays_until_cleared(book: FaultBook) -> None:
    book.arm("flag")
    assert all(book.take("flag") is not None for _ in range(50))
    assert book.clear() == 1
    assert book.take("flag") is None


def test_timed_fault_expires(book: FaultBook) -> None:
    book.arm_request({"fault": "flag", "duration_ms": 60})
    assert book.active("flag") is not None
    [entry] = book.snapshot()
    assert 0 < entry["seconds_left"] <= 0.06
    time.sleep(0.1)
    assert book.active("flag") is None
    assert book.snapshot() == []


def test_counted_and_timed_ends_on_whichever_comes_first(book: FaultBook) -> None:
    book.arm("flag", count=100, duration_ms=50)
    assert book.take("flag") is not None
    time.sleep(0.08)
    assert book.take("flag") is None


def test_oldest_armed_fires_first(book: FaultBook) -> None:
    a = book.arm("drop", {"n": 1}, count=1)
    b = book.arm("drop", {"n": 2}, count=1)
    assert book.take("drop") is a
    assert book.take("drop") is b
    assert book.take("drop") is None


def test_clear_one_kind_leaves_the_others(book: FaultBook) -> None:
    book.arm("drop")
    book.arm("drop")
    book.arm("flag")
    assert book.clear("drop") == 2
    assert [f["fault"] for f in book.snapshot()] == ["flag"]
    assert book.clear("drop") == 0


def test_catalogue_json_shows_types_bounds_and_choices() -> None:
    payload = KINDS[1].to_json()
    assert payload["params"]["code"] == {"type": "int", "default": 503, "bounds": [500, 599]}
    assert payload["params"]["mode"]["choices"] == ["json", "html"]


def test_a_fault_aimed_elsewhere_does_not_hide_one_aimed_here() -> None:
    """take(name, matches) uses up the oldest fault of the kind that matches: an older one aimed at
    another event stays armed, untouched, and fires when its own event comes."""
    book = FaultBook([FaultKind("dup", "duplicate", {"event": (str, None)})])
    other = book.arm("dup", {"event": "a"}, count=1)
    here = book.arm("dup", {"event": "b"}, count=1)
    for_b = book.take("dup", lambda f: f.params["event"] == "b")
    assert for_b is here and here.remaining == 0 and other.remaining == 1
    assert book.take("dup", lambda f: f.params["event"] == "b") is None
    assert book.take("dup", lambda f: f.params["event"] == "a") is other
