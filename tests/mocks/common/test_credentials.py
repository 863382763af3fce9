"""CredentialRing: generations, the grace period of the previous one, and the rotate body's checks.
A settable clock stands in for time.time(), so the grace edges are exact and the tests instant."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from mocks.common import FaultError
from mocks.common.credentials import DEFAULT_GRACE_S, CredentialRing, parse_rotate


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def ring(clock: Clock) -> CredentialRing:
    return CredentialRing("password", lambda g: f"pw-gen{g}", clock)


def test_generation_zero_is_the_seeded_value_and_nothing_else_is_accepted() -> None:
    r = ring(Clock())
    assert (r.generation, r.current, r.previous) == (0, "pw-gen0", None)
    assert r.classify("pw-gen0") == ("current", 0)
    assert r.classify("pw-gen1") == ("wrong", None)  # not issued yet
    assert r.classify("") == ("wrong", None)
    assert not r.accepts("pw-gen1") and r.accepts("pw-gen0")
    assert r.to_json() == {"name": "password", "generation": 0, "previous_valid_until": None}


def test_previous_is_accepted_until_the_grace_ends_then_revoked() -> None:
    clock = Clock()
    r = ring(clock)
    rotation = r.rotate(10)
    assert rotation.to_json() == {
        "credential": "password",
        "generation": 1,
        "value": "pw-gen1",
        "previous_valid_until": clock.now + 10,
    }
    assert (r.current, r.previous) == ("pw-gen1", "pw-gen0")
    assert r.classify("pw-gen1") == ("current", 1)
    assert r.classify("pw-gen0") == ("previous", 0) and r.accepts("pw-gen0")
    assert r.to_json()["previous_valid_until"] == clock.now + 10
    start = clock.now
    clock.now = start + 9.999
    assert r.accepts("pw-gen0")
    clock.now = start + 10  # exactly at the deadline: no longer valid
    assert r.classify("pw-gen0") == ("revoked", 0) and not r.accepts("pw-gen0")
    assert r.previous is None and r.to_json()["previous_valid_until"] is None
    assert r.classify("pw-gen1") == ("current", 1)


def test_a_second_rotation_revokes_the_older_generation_at_once() -> None:
    clock = Clock()
    r = ring(clock)
    r.rotate(60)
    clock.now += 1
    r.rotate(60)
    assert r.generation == 2
    assert r.classify("pw-gen2") == ("current", 2)
    assert r.classify("pw-gen1") == ("previous", 1)
    assert r.classify("pw-gen0") == ("revoked", 0)  # its grace had not ended, but it is two back
    assert r.value(0) == "pw-gen0"


def test_zero_grace_refuses_the_old_value_immediately() -> None:
    r = ring(Clock())
    r.rotate(0)
    assert r.classify("pw-gen0") == ("revoked", 0) and r.previous is None


def test_reset_returns_to_generation_zero() -> None:
    clock = Clock()
    r = ring(clock)
    r.rotate(30)
    r.rotate(30)
    r.reset()
    assert (r.generation, r.current, r.previous) == (0, "pw-gen0", None)
    assert r.classify("pw-gen1") == ("wrong", None)
    assert r.to_json() == {"name": "password", "generation": 0, "previous_valid_until": None}
    assert r.rotate(5).value == "pw-gen1"  # the same seeded sequence again


def test_to_json_never_holds_a_value() -> None:
    r = ring(Clock())
    r.rotate(30)
    text = json.dumps(r.to_json())
    assert "pw-gen" not in text


@pytest.mark.parametrize("grace", [-0.1, 3600.5, math.nan, math.inf])
def test_rotate_refuses_a_bad_grace(grace: float) -> None:
    r = ring(Clock())
    with pytest.raises(ValueError):
        r.rotate(grace)
    assert r.generation == 0


@pytest.mark.parametrize(
    ("body", "expected"), [({}, DEFAULT_GRACE_S), ({"grace_s": 0}, 0.0), ({"grace_s": 3600}, 3600.0),
                           ({"grace_s": 0.3}, 0.3)],
)  # fmt: skip
def test_parse_rotate_accepts(body: dict[str, Any], expected: float) -> None:
    assert parse_rotate(body) == expected


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "body"),
        ("x", "body"),
        ({"grace_s": -1}, "grace_s"),
        ({"grace_s": 3601}, "grace_s"),
        ({"grace_s": "5"}, "grace_s"),
        ({"grace_s": True}, "grace_s"),
        ({"grace_s": None}, "grace_s"),
        ({"grace_s": math.nan}, "grace_s"),
        ({"grace": 5}, "grace"),
    ],
)
def test_parse_rotate_names_the_bad_field(body: Any, field: str) -> None:
    with pytest.raises(FaultError) as caught:
        parse_rotate(body)
    assert caught.value.field == field
