"""The DocuSign mock's control-API extras: credentials, Connect listeners, and the signer's actions.

| Path | What it does |
|---|---|
| GET /docusign | account, user, tokens, HMAC keys, listeners, templates and the retry schedule |
| PUT /docusign/tokens | `{"tokens": [...]}`: the bearer tokens the REST surface accepts |
| PUT /docusign/hmac | `{"keys": [...]}`: the active Connect HMAC keys, in header order (none: unsigned) |
| POST /docusign/hmac/rotate | add a fresh seeded key after the current ones (201): two headers from now on |
| POST /docusign/listeners | `{"url"}`: a listener (loopback or `--allow-host`); 201, its configurationId |
| DELETE /docusign/listeners[?configurationId=N] | remove one listener, or all |
| PUT /docusign/retry | `{"max_attempts", "base_delay_ms", "max_delay_ms", "timeout_ms", "deadline_ms"}` |
| POST /docusign/templates | `{"name", "roles", "emailSubject"?, "templateId"?}`: a server template (201) |
| POST /docusign/envelopes/{envelopeId}/{action} | the signer's `deliver`, `complete`, `decline`; `void` |
|            | (all with `{"reason"?}`) |
| GET /docusign/outbox | deliveries still under way (sending, waiting to retry, held) |

`complete` and `decline` on a `sent` envelope first pass through `delivered` (the signer opened it),
so they produce two events. A move the lifecycle forbids is a 409 and changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from mocks.common import FaultError, RetryPolicy, Route, error, read_json
from mocks.common.body import is_utf8
from mocks.common.urls import check_delivery_url

from .connect import MAX_KEYS
from .envelopes import NEXT, Template
from .views import envelope_json

if TYPE_CHECKING:
    from .venue import DocuSignMock

ACTIONS = {"deliver": "delivered", "complete": "completed", "decline": "declined", "void": "voided"}
DEFAULT_REASONS = {"declined": "Declined by the signer", "voided": "Voided by the sender"}
MAX_TOKENS = 20
MAX_LISTENERS = 20


def retry_json(policy: RetryPolicy) -> dict[str, Any]:
    return {
        "max_attempts": policy.max_attempts,
        "base_delay_ms": policy.base_delay_s * 1000,
        "max_delay_ms": policy.max_delay_s * 1000,
        "timeout_ms": policy.timeout_s * 1000,
        "deadline_ms": policy.deadline_s * 1000,
        "gaps_ms": [policy.delay(n) * 1000 for n in range(1, policy.max_attempts)],
    }


def _object(body: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise FaultError("body", "must be a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise FaultError(unknown[0], "unknown field")
    return body


def _strings(value: Any, name: str, low: int, high: int, max_len: int) -> list[str]:
    if not isinstance(value, list) or not low <= len(value) <= high:
        raise FaultError(name, f"must be a list of {low} to {high} strings")
    for n, item in enumerate(value):
        if not isinstance(item, str) or not item.strip() or len(item) > max_len or item != item.strip():
            raise FaultError(f"{name}[{n}]", f"must be a non-empty string of at most {max_len} characters")
        if not is_utf8(item):  # a key with a lone surrogate would crash every signed delivery after it
            raise FaultError(f"{name}[{n}]", "must be valid UTF-8 text (a lone surrogate is not)")
    return list(value)


def _steps(status: str, action: str) -> list[str]:
    target = ACTIONS[action]
    if action in ("complete", "decline") and status == "sent":
        return ["delivered", target]
    return [target]


class DocuSignControl:
    def __init__(self, venue: DocuSignMock) -> None:
        self.venue = venue

    def routes(self) -> list[Route]:
        return [
            ("GET", "/docusign", self._info),
            ("PUT", "/docusign/tokens", self._tokens),
            ("PUT", "/docusign/hmac", self._hmac),
            ("POST", "/docusign/hmac/rotate", self._rotate),
            ("POST", "/docusign/listeners", self._add_listener),
            ("DELETE", "/docusign/listeners", self._remove_listeners),
            ("PUT", "/docusign/retry", self._retry),
            ("POST", "/docusign/templates", self._add_template),
            ("POST", "/docusign/envelopes/{envelope_id}/{action}", self._act),
            ("GET", "/docusign/outbox", self._outbox),
        ]

    def check_url(self, url: Any) -> str:
        """An http(s) listener URL on loopback, or on a host allowlisted with --allow-host."""
        return check_delivery_url(url, self.venue.allowed_hosts, what="Connect listener URL")

    async def _info(self, request: web.Request) -> web.Response:
        venue = self.venue
        return web.json_response(
            {**venue.describe(), "tokens": venue.tokens, "retry": retry_json(venue.retry)}
        )

    async def _tokens(self, request: web.Request) -> web.Response:
        body = _object(await read_json(request), {"tokens"})
        self.venue.tokens = _strings(body.get("tokens"), "tokens", 1, MAX_TOKENS, 4096)
        self.venue.events.add("tokens_set", count=len(self.venue.tokens))
        return web.json_response({"tokens": self.venue.tokens})

    async def _hmac(self, request: web.Request) -> web.Response:
        body = _object(await read_json(request), {"keys"})
        self.venue.hmac_key_list = _strings(body.get("keys"), "keys", 0, MAX_KEYS, 1024)
        self.venue.events.add("hmac_keys_set", count=len(self.venue.hmac_key_list))
        return web.json_response({"keys": self.venue.hmac_key_list})

    async def _rotate(self, request: web.Request) -> web.Response:
        keys = self.venue.hmac_key_list
        if len(keys) >= MAX_KEYS:
            raise FaultError("keys", f"at most {MAX_KEYS} keys can be active")
        added = self.venue.new_hmac_key()
        keys.append(added)
        self.venue.events.add("hmac_key_added", header=len(keys))
        return web.json_response({"keys": keys, "added": added, "header": len(keys)}, status=201)

    async def _add_listener(self, request: web.Request) -> web.Response:
        body = _object(await read_json(request), {"url"})
        url = self.check_url(body.get("url"))
        if len(self.venue.listeners) >= MAX_LISTENERS:
            raise FaultError("url", f"at most {MAX_LISTENERS} listeners")
        listener = self.venue.add_listener(url)
        self.venue.events.add("listener_added", **listener.to_json())
        return web.json_response(listener.to_json(), status=201)

    async def _remove_listeners(self, request: web.Request) -> web.Response:
        raw = request.query.get("configurationId")
        before = len(self.venue.listeners)
        if raw is None:
            self.venue.listeners = []
        else:
            if not (raw.isascii() and raw.isdigit() and len(raw) <= 20):  # int() refuses 4300+ digits
                raise FaultError("configurationId", "must be an integer of at most 20 digits")
            self.venue.listeners = [x for x in self.venue.listeners if x.configuration_id != int(raw)]
        removed = before - len(self.venue.listeners)
        self.venue.events.add("listeners_removed", count=removed)
        return web.json_response({"removed": removed})

    async def _retry(self, request: web.Request) -> web.Response:
        self.venue.retry = RetryPolicy.from_json(await read_json(request), self.venue.retry)
        return web.json_response(retry_json(self.venue.retry))

    async def _add_template(self, request: web.Request) -> web.Response:
        body = _object(await read_json(request), {"name", "roles", "emailSubject", "templateId"})
        name = body.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise FaultError("name", "must be a non-empty string of at most 100 characters")
        roles = _strings(body.get("roles"), "roles", 1, 20, 100)
        if len(set(roles)) != len(roles):
            raise FaultError("roles", "must not repeat a role")
        subject = body.get("emailSubject", f"Please sign: {name}")
        if not isinstance(subject, str) or len(subject) > 100:
            raise FaultError("emailSubject", "must be a string of at most 100 characters")
        template_id = body.get("templateId") or self.venue.new_template_id()
        if not isinstance(template_id, str) or not 1 <= len(template_id) <= 100:
            raise FaultError("templateId", "must be a string of 1 to 100 characters")
        if template_id.lower() in self.venue.templates:
            raise FaultError("templateId", "is already a template")
        template = Template(template_id.lower(), name, subject, tuple(roles))
        self.venue.templates[template.template_id] = template
        return web.json_response(template.to_json(), status=201)

    async def _act(self, request: web.Request) -> web.Response:
        venue = self.venue
        action = request.match_info["action"]
        if action not in ACTIONS:
            return error(404, f"unknown action {action!r}; one of {', '.join(ACTIONS)}", "action")
        envelope = venue.ledger.envelopes.get(request.match_info["envelope_id"].lower())
        if envelope is None:
            return error(404, "no such envelope", "envelope_id")
        body = _object(await read_json(request), {"reason"})
        reason = body.get("reason")
        if reason is not None and (not isinstance(reason, str) or not reason.strip() or len(reason) > 200):
            raise FaultError("reason", "must be a non-empty string of at most 200 characters")
        steps = _steps(envelope.status, action)
        status = envelope.status
        for step in steps:
            if step not in NEXT.get(status, ()):
                return error(409, f"an envelope that is {envelope.status!r} cannot become {step!r}", "action")
            status = step
        for step in steps:
            venue.change(envelope, step, reason or DEFAULT_REASONS.get(step))
        return web.json_response(
            {
                "envelope": envelope_json(envelope, venue.account, include_recipients=True),
                "events": [f"envelope-{step}" for step in steps],
            }
        )

    async def _outbox(self, request: web.Request) -> web.Response:
        return web.json_response(self.venue.outbox.pending())
