"""credentials_rotated: once a venue's old credential has passed its grace, every authentication the
middleware makes there must use the new one, with the middleware still the same process. The venue's
own event log is the evidence: which credential each login, token request or signed delivery used."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .base import CheckContext, Verdict, checker

NAME = "credentials_rotated"
CATEGORY = "credential handling"
WHAT = {"rithmic": "login", "tt": "token request", "stripe": "webhook delivery"}


@dataclass
class _Venue:
    """One rotated venue's authentications after the old credential's grace ended."""

    rotation: dict[str, Any]
    after: list[dict[str, Any]]
    taken: list[dict[str, Any]] = field(default_factory=list)  # succeeded with the new credential
    stale: list[dict[str, Any]] = field(default_factory=list)  # the old credential, or a refusal

    def to_json(self) -> dict[str, Any]:
        venue = self.rotation["venue"]
        return self.rotation | {
            "outcome": "stale" if self.stale else "taken up" if self.taken else "not exercised",
            f"{WHAT[venue].replace(' ', '_')}s_after_grace": len(self.after),
            "with_new_credential": len(self.taken),
            "stale": self.stale[:20],
        }


def _judge(rotation: dict[str, Any], events: list[dict[str, Any]]) -> _Venue:
    venue, until = rotation["venue"], float(rotation["valid_until"])
    judged = _Venue(rotation, [e for e in events if float(e["ts"]) > until])
    for event in judged.after:
        late = {**event, "after_grace_s": round(float(event["ts"]) - until, 3)}
        if venue == "stripe":
            status = int(event.get("status") or 0)
            if event.get("faults"):
                continue  # a forged or replayed delivery is refused on purpose: not the rotation's concern
            (judged.taken if 200 <= status < 300 else judged.stale).append(late)
        elif event.get("credential") in ("revoked", "previous"):
            judged.stale.append(late)  # "previous" cannot happen after the grace; counted if a venue says it
        elif event.get("credential") == "current" and _accepted(venue, event):
            judged.taken.append(late)
    return judged


def _accepted(venue: str, event: dict[str, Any]) -> bool:
    if venue == "rithmic":
        return bool(event["kind"] == "login")
    return int(event.get("status") or 0) == 200


@checker(NAME)
def credentials_rotated(ctx: CheckContext) -> Verdict:
    rotations = ctx.extras.get("rotations")
    if not rotations:
        return Verdict.skip(NAME, "no venue credential was rotated in this run")
    seen: dict[str, list[dict[str, Any]]] = ctx.extras.get("auth_events", {})
    venues = [_judge(r, seen.get(r["venue"], [])) for r in rotations]
    evidence = [v.to_json() for v in venues]
    restarts = f"; the middleware was redeployed {len(ctx.deployments)} time(s)" if ctx.deployments else ""
    stale = [v for v in venues if v.stale]
    if stale:
        parts = [
            f"{v.rotation['venue']}: {len(v.stale)} {WHAT[v.rotation['venue']]}(s) after the old "
            f"{v.rotation['credential']} expired were made with it or refused (first "
            f"{v.stale[0]['after_grace_s']} s after the grace)"
            for v in stale
        ]
        return Verdict.fail(
            NAME,
            "the middleware did not take up a rotated credential: " + "; ".join(parts) + restarts,
            evidence,
            CATEGORY,
        )
    unexercised = [v.rotation["venue"] for v in venues if not v.taken]
    if unexercised:
        return Verdict.no_evidence(
            NAME,
            f"no {', '.join(WHAT[v] for v in unexercised)} reached {', '.join(unexercised)} after the old "
            "credential's grace ended, so whether the middleware took up the new one is unknown",
            evidence,
        )
    if ctx.deployments:
        return Verdict.no_evidence(
            NAME,
            "every rotated credential was taken up, but the middleware was redeployed during the run, so "
            f"a restart may have read them{restarts}",
            evidence,
        )
    taken = ", ".join(
        f"{v.rotation['venue']} {v.rotation['credential']} (generation {v.rotation['generation']}: "
        f"{len(v.taken)} {WHAT[v.rotation['venue']]}(s))"
        for v in venues
    )
    return Verdict.ok(
        NAME,
        f"every rotated credential was taken up without a restart, none used or refused after its old "
        f"value's grace: {taken}",
        evidence,
    )
