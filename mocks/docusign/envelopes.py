"""Envelopes, templates and their lifecycle: the venue-side truth that Connect events report.

An envelope moves created → sent → delivered → completed, or ends declined or voided. DocuSign
voids neither drafts nor completed envelopes, so `voided` is reachable from sent and delivered
only. Every change after creation produces one Connect event, `envelope-<status>`; the ledger
keeps the whole history, including an event a fault kept from being sent, so a checker can tell
"DocuSign never said so" from "DocuSign said so and the middleware lost it".
"""

from __future__ import annotations

import random
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from mocks.common import Ledger

STATUSES = ("created", "sent", "delivered", "completed", "declined", "voided")
EVENTS = ("envelope-sent", "envelope-delivered", "envelope-completed", "envelope-declined", "envelope-voided")
FINAL = ("completed", "declined", "voided")
# The statuses an envelope in a given status may move to.
NEXT: dict[str, tuple[str, ...]] = {
    "created": ("sent",),
    "sent": ("delivered", "declined", "voided"),
    "delivered": ("completed", "declined", "voided"),
}


def event_for(status: str) -> str:
    return f"envelope-{status}"


def ds_time(ts: float) -> str:
    """DocuSign's timestamp form: ISO-8601 UTC with seven fractional digits, e.g. ...05.1234560Z."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


class InvalidTransition(ValueError):
    """An envelope asked to move somewhere its status does not allow."""

    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"an envelope that is {current!r} cannot become {wanted!r}")
        self.current = current
        self.wanted = wanted


class Ids:
    """Seeded ids, one generator per purpose so one kind of draw never shifts another."""

    def __init__(self, seed: int, purpose: str) -> None:
        self._rng = random.Random(f"docusign-{purpose}-{seed}")

    def uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def integer(self, low: int, high: int) -> int:
        return self._rng.randrange(low, high)

    def token(self, nbytes: int) -> bytes:
        return self._rng.randbytes(nbytes)


@dataclass(frozen=True)
class Account:
    """The account and the API user the envelopes are sent from (the `sender`)."""

    account_id: str
    user_id: str
    user_name: str = "UAT Sender"
    email: str = "uat.sender@example.test"


@dataclass(frozen=True)
class Template:
    template_id: str
    name: str
    email_subject: str
    roles: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "templateId": self.template_id,
            "name": self.name,
            "emailSubject": self.email_subject,
            "roles": list(self.roles),
        }


@dataclass
class Recipient:
    recipient_id: str
    recipient_guid: str
    role_name: str
    name: str
    email: str
    status: str = "created"
    sent_at: float | None = None
    delivered_at: float | None = None
    signed_at: float | None = None
    declined_at: float | None = None
    declined_reason: str | None = None


@dataclass
class StatusChange:
    status: str
    at: float
    event: str | None  # the Connect event this change produced; None for the creation
    suppressed_by: str | None = None  # a fault that kept the event from ever being sent


@dataclass
class Envelope:
    envelope_id: str
    template_id: str
    email_subject: str
    recipients: list[Recipient]
    status: str
    created_at: float
    history: list[StatusChange] = field(default_factory=list)
    voided_reason: str | None = None

    @property
    def changed_at(self) -> float:
        return self.history[-1].at if self.history else self.created_at

    def entered(self, status: str) -> float | None:
        """When the envelope last entered `status`, or None."""
        for change in reversed(self.history):
            if change.status == status:
                return change.at
        return None

    def move(self, status: str, at: float, reason: str | None = None) -> StatusChange:
        """Change status, recipients with it; InvalidTransition when the lifecycle forbids it."""
        if status not in NEXT.get(self.status, ()):
            raise InvalidTransition(self.status, status)
        self.status = status
        for recipient in self.recipients:
            if status == "sent":
                recipient.status, recipient.sent_at = "sent", at
            elif status == "delivered":
                recipient.status, recipient.delivered_at = "delivered", at
            elif status == "completed":
                recipient.status, recipient.signed_at = "completed", at
        if status == "declined" and self.recipients:
            first = self.recipients[0]
            first.status, first.declined_at, first.declined_reason = "declined", at, reason
        if status == "voided":
            self.voided_reason = reason
        change = StatusChange(status, at, event_for(status))
        self.history.append(change)
        return change


class DocuSignLedger(Ledger):
    """The shared ledger (Connect delivery attempts) plus every envelope and its status history."""

    def __init__(self) -> None:
        super().__init__()
        self.envelopes: dict[str, Envelope] = {}

    def add_envelope(self, envelope: Envelope) -> Envelope:
        self.envelopes[envelope.envelope_id] = envelope
        return envelope

    def clear(self) -> None:
        super().clear()
        self.envelopes.clear()

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "envelopes": [asdict(e) for e in self.envelopes.values()]}


def default_templates(ids: Ids) -> dict[str, Template]:
    """The templates a fresh account has: one signer, and two signers in routing order."""
    made = [
        Template(ids.uuid(), "Trader Agreement", "Please sign your trader agreement", ("Trader",)),
        Template(
            ids.uuid(), "Risk Disclosure", "Risk disclosure: please acknowledge", ("Trader", "Risk Officer")
        ),
    ]
    return {t.template_id: t for t in made}
