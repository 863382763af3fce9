"""Credential rotation for the mocks: one credential with generations, and its control API.

Real venues rotate a secret with an overlap: the new value is live at once, the old one is still
accepted for a grace period, then refused. The gate uses this to prove a middleware picks up a
rotated credential without a restart and loses nothing on the way. Generation 0 is the mock's
seeded value, so nothing changes until someone rotates; every later generation is fixed by the
seed too, so a run reproduces. Only the immediately previous generation gets a grace period.

| Path | What it does |
|---|---|
| POST /<venue>/credentials/rotate | `{"grace_s"?: 0..3600, default 30}`: a new generation, and its value |
| GET /<venue>/credentials | name, generation, previous_valid_until (never a value) |
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .control import read_json
from .faults import FaultError
from .venue import MockVenue, Route

DEFAULT_GRACE_S = 30.0
MAX_GRACE_S = 3600.0

# What classify() says about a presented value.
CURRENT, PREVIOUS, REVOKED, WRONG = "current", "previous", "revoked", "wrong"


@dataclass(frozen=True)
class Rotation:
    credential: str
    generation: int
    value: str
    previous_valid_until: float

    def to_json(self) -> dict[str, Any]:
        return {
            "credential": self.credential,
            "generation": self.generation,
            "value": self.value,
            "previous_valid_until": self.previous_valid_until,
        }


class CredentialRing:
    """One credential's generations. Single-loop use only: no locks, no awaits inside."""

    def __init__(
        self, name: str, seeded: Callable[[int], str], clock: Callable[[], float] = time.time
    ) -> None:
        self.name = name
        self._seeded = seeded
        self._clock = clock  # wall-clock, since previous_valid_until is reported as unix seconds
        self._values: list[str] = [seeded(0)]
        self._previous_until: float | None = None

    @property
    def generation(self) -> int:
        return len(self._values) - 1

    @property
    def current(self) -> str:
        return self._values[-1]

    def _in_grace(self) -> bool:
        return self._previous_until is not None and self._clock() < self._previous_until

    @property
    def previous(self) -> str | None:
        """The previous generation's value while its grace lasts, else None."""
        return self._values[-2] if self._in_grace() else None

    @property
    def previous_valid_until(self) -> float | None:
        return self._previous_until if self._in_grace() else None

    def value(self, generation: int) -> str:
        """Any generation issued so far (for signing with an old secret on purpose)."""
        return self._values[generation]

    def rotate(self, grace_s: float) -> Rotation:
        if not (math.isfinite(grace_s) and 0 <= grace_s <= MAX_GRACE_S):
            raise ValueError(f"grace_s must be between 0 and {MAX_GRACE_S:g}")
        self._values.append(self._seeded(len(self._values)))
        self._previous_until = self._clock() + grace_s
        return Rotation(self.name, self.generation, self.current, self._previous_until)

    def classify(self, value: str) -> tuple[str, int | None]:
        """Which generation `value` is, and whether it is still accepted. The newest match wins,
        should a seed ever give two generations the same value."""
        if value == self.current:
            return CURRENT, self.generation
        for generation in range(self.generation - 1, -1, -1):
            if value == self._values[generation]:
                late = generation < self.generation - 1 or not self._in_grace()
                return (REVOKED if late else PREVIOUS), generation
        return WRONG, None

    def accepts(self, value: str) -> bool:
        return self.classify(value)[0] in (CURRENT, PREVIOUS)

    def reset(self) -> None:
        self._values = self._values[:1]
        self._previous_until = None

    def to_json(self) -> dict[str, Any]:
        """What the control API shows: never a value, so it is safe in logs and reports."""
        return {
            "name": self.name,
            "generation": self.generation,
            "previous_valid_until": self.previous_valid_until,
        }


def parse_rotate(body: Any) -> float:
    """The grace period of a rotate request; a FaultError (400) naming the bad field."""
    if not isinstance(body, dict):
        raise FaultError("body", "must be a JSON object")
    unknown = sorted(set(body) - {"grace_s"})
    if unknown:
        raise FaultError(unknown[0], "unknown field")
    grace = body.get("grace_s", DEFAULT_GRACE_S)
    if (
        isinstance(grace, bool)
        or not isinstance(grace, int | float)
        or not math.isfinite(grace)
        or not 0 <= grace <= MAX_GRACE_S
    ):
        raise FaultError("grace_s", f"must be a number between 0 and {MAX_GRACE_S:g}")
    return float(grace)


def credential_routes(
    venue: MockVenue, ring: CredentialRing, changed: Callable[[], None] | None = None
) -> list[Route]:
    """`POST /<name>/credentials/rotate` and `GET /<name>/credentials` for one venue's ring.
    `changed` runs after a rotation, for a venue that mirrors the current value elsewhere."""

    async def rotate(request: web.Request) -> web.Response:
        grace = parse_rotate(await read_json(request))
        rotation = ring.rotate(grace)
        if changed is not None:
            changed()
        venue.events.add(
            "credential_rotated", credential=ring.name, generation=rotation.generation, grace_s=grace
        )
        return web.json_response(rotation.to_json())

    async def show(request: web.Request) -> web.Response:
        return web.json_response(ring.to_json())

    return [
        ("POST", f"/{venue.name}/credentials/rotate", rotate),
        ("GET", f"/{venue.name}/credentials", show),
    ]
