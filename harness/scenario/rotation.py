"""The `rotate_secrets` action, run as an operator would: each venue rotates its credential first,
keeping the old one for `grace_s`, then the target's secret source is rewritten. Afterwards, the
authentications each venue saw are gathered for `credentials_rotated`: a middleware that read its
secrets once keeps presenting the old credential once its grace is over."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from ..topology import Topology
from .faults import FaultStep
from .result import HarnessError

DEFAULT_GRACE_S = 2.0
# what each venue's event log says of an authentication: a login to Rithmic, a token asked of TT, a
# Stripe delivery (which the middleware authenticates by its signature)
AUTH_EVENTS = {"rithmic": ("login", "login_rejected"), "tt": ("token_request",), "stripe": ("delivery",)}


@dataclass(frozen=True)
class Rotation:
    venue: str
    credential: str  # password | app_secret | webhook_secret
    generation: int  # the new credential's
    rotated_at: float  # wall clock, when the venue rotated it
    valid_until: float  # wall clock: the old credential's grace ends (the venue's own clock)
    source_written_at: float  # wall clock: the secret source rewritten (0 if its content was unchanged)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def rotate_secrets(
    step: FaultStep, topo: Topology, http: httpx.Client, controls: dict[str, str]
) -> list[Rotation]:
    spec = topo.target.secrets
    if spec is None:  # never reached: the rotation need keeps such a target out
        raise HarnessError("the rotate_secrets action needs a target file with a [secrets] source")
    venues = tuple(step.params.get("venues") or spec.rotatable())
    missing = [v for v in venues if v not in spec.rotatable()]
    if missing:
        raise HarnessError(
            f"rotate_secrets: the target's [secrets] source carries no credential of {', '.join(missing)}"
        )
    grace = float(step.params.get("grace_s", DEFAULT_GRACE_S))
    rotated: list[tuple[str, dict[str, Any], float]] = []
    for venue in venues:
        at = time.time()
        answer = http.post(f"{controls[venue]}/{venue}/credentials/rotate", json={"grace_s": grace})
        if answer.status_code != 200:
            raise HarnessError(
                f"the {venue} mock refused to rotate its credential: {answer.status_code} {answer.text}"
            )
        rotated.append((venue, answer.json(), at))
    written = time.time() if topo.refresh_secrets() else 0.0
    return [
        Rotation(
            venue,
            str(body["credential"]),
            int(body["generation"]),
            at,
            float(body["previous_valid_until"]),
            written,
        )
        for venue, body, at in rotated
    ]


def rotation_extras(
    rotations: list[Rotation], http: httpx.Client, controls: dict[str, str]
) -> dict[str, Any]:
    """The rotations, and each rotated venue's authentications from its rotation on."""
    if not rotations:
        return {}
    seen: dict[str, list[dict[str, Any]]] = {}
    for rotation in rotations:
        events = [  # only the authentication kinds: a venue's whole log can hold 50,000 events
            e
            for kind in AUTH_EVENTS[rotation.venue]
            for e in http.get(f"{controls[rotation.venue]}/events", params={"kind": kind}).json()["events"]
        ]
        seen[rotation.venue] = sorted(
            (e for e in events if e["ts"] >= rotation.rotated_at), key=lambda e: e["seq"]
        )
    return {"rotations": [r.to_json() for r in rotations], "auth_events": seen}
