"""The eSignature REST surface a middleware uses: create from a template, get, list changes, void.

| Method and path (under /restapi/v2.1/accounts/{accountId}) | DocuSign name |
|---|---|
| POST /envelopes | Envelopes: create (`templateId`, `templateRoles`, `status` "sent" or "created") |
| GET /envelopes/{envelopeId} | Envelopes: get (`include=recipients`) |
| GET /envelopes?from_date=... | Envelopes: listStatusChanges, the poll behind a lost event |
| PUT /envelopes/{envelopeId} | Envelopes: update (`voided` + `voidedReason`; `sent` sends a draft) |

Authentication and faults are the gateway's (gateway.py); handlers only raise DocuSignError.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlencode

from aiohttp import web

from ..common.body import read_whole
from .envelopes import STATUSES, Account, DocuSignLedger, Envelope, Template
from .errors import DocuSignError, bad_body, bad_parameter, no_envelope
from .views import envelope_json, summary_json

PREFIX = "/restapi/v2.1/accounts/{account_id}"
MAX_ROLES = 100
MAX_PAGE = 1000
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class RestContext(Protocol):
    @property
    def account(self) -> Account: ...
    @property
    def templates(self) -> dict[str, Template]: ...
    @property
    def ledger(self) -> DocuSignLedger: ...

    def create_envelope(
        self, template: Template, fills: dict[str, tuple[str, str]], subject: str, send: bool
    ) -> Envelope: ...

    def change(self, envelope: Envelope, status: str, reason: str | None = None) -> None: ...


async def read_body(request: web.Request) -> dict[str, Any]:
    raw = await read_whole(request)
    if not raw.strip():
        raise bad_body()
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise bad_body(f"{type(exc).__name__}: {exc}"[:200]) from None
    if not isinstance(value, dict):
        raise bad_body("The body must be a JSON object.")
    return value


def check_sendable(signers: list[tuple[str, str, str]]) -> None:
    """Every signer (roleName, name, email), in routing order, needs a valid email and a name to send."""
    for n, (role, name, email) in enumerate(signers, start=1):
        if len(email) > 100 or not EMAIL.fullmatch(email):
            raise DocuSignError(
                400,
                "INVALID_EMAIL_ADDRESS_FOR_RECIPIENT",
                "The email address for the recipient is invalid. The recipient Id follows. "
                f"{n} (role {role!r})",
            )
        if not name.strip():
            raise DocuSignError(
                400,
                "INVALID_USERNAME_FOR_RECIPIENT",
                f"The user name for the recipient is invalid. The recipient Id follows. {n} (role {role!r})",
            )


def parse_roles(raw: Any, template: Template) -> dict[str, tuple[str, str]]:
    """`templateRoles` -> {roleName: (name, email)} for the template's roles; others are ignored."""
    if raw is None:
        return {}
    if not isinstance(raw, list) or len(raw) > MAX_ROLES:
        raise bad_body(f"templateRoles must be a list of at most {MAX_ROLES} objects.")
    fills: dict[str, tuple[str, str]] = {}
    for n, item in enumerate(raw):
        if not isinstance(item, dict):
            raise bad_body(f"templateRoles[{n}] must be an object.")
        values = [item.get(k, "") for k in ("roleName", "name", "email")]
        if not all(isinstance(v, str) for v in values):
            raise bad_body(f"templateRoles[{n}]: roleName, name and email must be strings.")
        role, name, email = (str(v) for v in values)
        if role in template.roles and role not in fills:
            fills[role] = (name.strip(), email.strip())
    return fills


def parse_date(raw: str, name: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise bad_parameter(f"Query parameter '{name}' must be set to a valid DateTime.") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def parse_int(raw: str | None, name: str, low: int, high: int, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_parameter(f"Query parameter '{name}' must be an integer.") from None
    if not low <= value <= high:
        raise bad_parameter(f"Query parameter '{name}' must be between {low} and {high}.")
    return value


def _split(raw: str | None) -> list[str]:
    return [p.strip().lower() for p in (raw or "").split(",") if p.strip()]


class EnvelopesResource:
    def __init__(self, context: RestContext) -> None:
        self.context = context

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post(f"{PREFIX}/envelopes", self.create),
            web.get(f"{PREFIX}/envelopes", self.list_status_changes),
            web.get(f"{PREFIX}/envelopes/{{envelope_id}}", self.get),
            web.put(f"{PREFIX}/envelopes/{{envelope_id}}", self.update),
        ]

    def _find(self, request: web.Request) -> Envelope:
        envelope = self.context.ledger.envelopes.get(request.match_info["envelope_id"].lower())
        if envelope is None:
            raise no_envelope()
        return envelope

    async def create(self, request: web.Request) -> web.Response:
        body = await read_body(request)
        template_id = body.get("templateId")
        if template_id is None:
            if "documents" in body or "compositeTemplates" in body:
                raise bad_body("This mock creates envelopes from a templateId only.")
            raise DocuSignError(
                400,
                "ENVELOPE_IS_INCOMPLETE",
                "The Envelope is not Complete. A Complete Envelope Requires Documents, Recipients, Tabs, "
                "and a Subject Line.",
            )
        template = self.context.templates.get(template_id.lower()) if isinstance(template_id, str) else None
        if template is None:
            raise DocuSignError(400, "TEMPLATE_ID_INVALID", "Invalid template ID.")
        status = body.get("status", "created")
        if not isinstance(status, str) or status.lower() not in ("sent", "created"):
            raise bad_parameter("status must be 'sent' or 'created' when an envelope is created.")
        subject = body.get("emailSubject", template.email_subject)
        if not isinstance(subject, str):
            raise bad_body("emailSubject must be a string.")
        fills = parse_roles(body.get("templateRoles"), template)
        send = status.lower() == "sent"
        if send:
            check_sendable([(role, *fills.get(role, ("", ""))) for role in template.roles])
        envelope = self.context.create_envelope(template, fills, subject, send)
        return web.json_response(summary_json(envelope), status=201)

    async def get(self, request: web.Request) -> web.Response:
        envelope = self._find(request)
        include = "recipients" in _split(request.query.get("include"))
        return web.json_response(envelope_json(envelope, self.context.account, include))

    async def list_status_changes(self, request: web.Request) -> web.Response:
        query = request.query
        wanted_ids = set(_split(query.get("envelope_ids")))
        from_raw = query.get("from_date", "").strip()
        if not from_raw and not wanted_ids:
            raise bad_parameter(
                "Query parameter 'from_date' must be set to a valid DateTime, or 'envelope_ids' or "
                "'transaction_ids' must be specified."
            )
        low = parse_date(from_raw, "from_date").timestamp() if from_raw else None
        to_raw = query.get("to_date", "").strip()
        high = parse_date(to_raw, "to_date").timestamp() if to_raw else None
        statuses = set(_split(query.get("status"))) - {"any"}
        for status in statuses:
            if status not in STATUSES:
                raise bad_parameter(f"Query parameter 'status' has an unknown status {status!r}.")
        count = parse_int(query.get("count"), "count", 1, MAX_PAGE, MAX_PAGE)
        start = parse_int(query.get("start_position"), "start_position", 0, 10**9, 0)
        include = "recipients" in _split(query.get("include"))
        rows = sorted(
            (
                e
                for e in self.context.ledger.envelopes.values()
                if (low is None or e.changed_at >= low)
                and (high is None or e.changed_at <= high)
                and (not wanted_ids or e.envelope_id in wanted_ids)
                and (not statuses or e.status in statuses)
            ),
            key=lambda e: (e.changed_at, e.envelope_id),
        )
        page = rows[start : start + count]
        result: dict[str, Any] = {
            "resultSetSize": str(len(page)),
            "startPosition": str(start),
            "endPosition": str(start + len(page) - 1),
            "totalSetSize": str(len(rows)),
            "nextUri": "",
            "previousUri": "",
        }
        if start + len(page) < len(rows):
            result["nextUri"] = "/envelopes?" + urlencode({**query, "start_position": start + len(page)})
        if start > 0:
            result["previousUri"] = "/envelopes?" + urlencode(
                {**query, "start_position": max(start - count, 0)}
            )
        if page:  # DocuSign leaves `envelopes` out of an empty result
            result["envelopes"] = [envelope_json(e, self.context.account, include) for e in page]
        return web.json_response(result)

    async def update(self, request: web.Request) -> web.Response:
        envelope = self._find(request)
        body = await read_body(request)
        status = body.get("status")
        if status is None:
            subject = body.get("emailSubject")
            if isinstance(subject, str) and envelope.status == "created":
                envelope.email_subject = subject
            return web.json_response({"envelopeId": envelope.envelope_id})
        if not isinstance(status, str):
            raise bad_body("status must be a string.")
        if status.lower() == "voided":
            reason = body.get("voidedReason")
            if not isinstance(reason, str) or not reason.strip():
                raise bad_parameter("Value for 'voidedReason' must be specified when voiding an envelope.")
            if envelope.status not in ("sent", "delivered"):
                raise DocuSignError(
                    400,
                    "ENVELOPE_CANNOT_VOID_INVALID_STATE",
                    "Only envelopes in the 'Sent' or 'Delivered' states may be voided.",
                )
            self.context.change(envelope, "voided", reason.strip())
        elif status.lower() == "sent":
            if envelope.status != "created":
                raise DocuSignError(
                    400,
                    "ENVELOPE_INVALID_STATUS",
                    f"Only a draft can be sent; this envelope is {envelope.status}.",
                )
            check_sendable([(r.role_name, r.name, r.email) for r in envelope.recipients])
            self.context.change(envelope, "sent")
        else:
            raise bad_parameter(
                f"status {status!r} cannot be set: this mock sends drafts and voids envelopes."
            )
        return web.json_response({"envelopeId": envelope.envelope_id})
