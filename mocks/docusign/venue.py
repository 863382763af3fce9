"""`DocuSignMock`: the eSignature REST surface, the envelope lifecycle and Connect deliveries.

The middleware calls the REST surface as the sender; the harness plays the signer through the
control API (control.py). Each status change becomes a Connect event, shaped by the Connect faults
armed at that moment and delivered in the background to every configured listener.
"""

from __future__ import annotations

import base64
import time
from typing import Any

from aiohttp import web

from mocks.common import FaultKind, MockVenue, RetryPolicy, Route, start_app
from mocks.common.faults import take_matching

from .connect import ConnectEvent, key_from
from .control import DocuSignControl
from .delivery import Job, Listener, Outbox
from .envelopes import (
    Account,
    DocuSignLedger,
    Envelope,
    Ids,
    Recipient,
    StatusChange,
    Template,
    default_templates,
    ds_time,
)
from .faults import FAULTS
from .gateway import MAX_BODY, make_gateway
from .rest import EnvelopesResource
from .views import envelope_json

# Seconds-scale by default; tests pass tens of milliseconds. Gaps: 1, 2, 4, 8 s, then give up.
DEFAULT_RETRY = RetryPolicy(
    max_attempts=5, base_delay_s=1.0, max_delay_s=60.0, timeout_s=10.0, deadline_s=3600.0
)


class DocuSignMock(MockVenue):
    name = "docusign"
    ledger: DocuSignLedger

    def __init__(
        self,
        seed: int = 0,
        retry: RetryPolicy | None = None,
        allowed_hosts: tuple[str, ...] = (),
        listeners: tuple[str, ...] = (),
        tokens: tuple[str, ...] = (),
        hmac_keys: tuple[str, ...] | None = None,
    ) -> None:
        super().__init__(seed)
        self.ledger = DocuSignLedger()
        self.allowed_hosts = allowed_hosts
        people = Ids(seed, "account")
        self.account = Account(people.uuid(), people.uuid())
        default_token = base64.urlsafe_b64encode(people.token(48)).decode("ascii").rstrip("=")
        self.retry = retry or DEFAULT_RETRY
        self.tokens = list(tokens) or [default_token]
        self._new_ids()
        self.hmac_key_list = list(hmac_keys) if hmac_keys is not None else [key_from(self._key_ids)]
        self.listeners: list[Listener] = []
        self.control = DocuSignControl(self)
        for url in listeners:
            self.add_listener(self.control.check_url(url))
        self._initial = (self.retry, list(self.tokens), list(self.hmac_key_list), list(self.listeners))
        self._keys_drawn = 1 if hmac_keys is None else 0
        self.outbox = Outbox(self)
        self._runner: web.AppRunner | None = None
        self.app = web.Application(middlewares=[make_gateway(self)], client_max_size=MAX_BODY)
        self.app.add_routes(EnvelopesResource(self).routes())

    def _new_ids(self) -> None:
        """Fresh seeded id streams: the same seed gives the same ids after a reset."""
        self._template_ids = Ids(self.seed, "templates")
        self.templates: dict[str, Template] = default_templates(self._template_ids)
        self._envelope_ids = Ids(self.seed, "envelopes")
        self._key_ids = Ids(self.seed, "hmac-keys")
        self._listener_ids = Ids(self.seed, "listeners")
        self._trace_ids = Ids(self.seed, "trace")

    def fault_catalogue(self) -> list[FaultKind]:
        return list(FAULTS)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        await self.outbox.open()
        self._runner, self.port = await start_app(self.app, host, port)
        self.host = host
        self.events.add("started", url=self.url)

    async def stop(self) -> None:
        await self.outbox.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def on_reset(self) -> None:
        await self.outbox.cancel_all()
        retry, tokens, keys, listeners = self._initial
        self.retry = retry
        self.tokens = list(tokens)
        self.hmac_key_list = list(keys)
        self.listeners = list(listeners)
        self._new_ids()
        # the constructor drew the first key and the listeners' ids: draw as many again
        for _ in range(self._keys_drawn):
            key_from(self._key_ids)
        for _ in listeners:
            self._configuration_id()

    def describe(self) -> dict[str, Any]:
        return {
            "base_path": f"{self.url}/restapi",
            "account_id": self.account.account_id,
            "user_id": self.account.user_id,
            "token": self.tokens[0],
            "hmac_keys": list(self.hmac_key_list),
            "templates": [t.to_json() for t in self.templates.values()],
            "listeners": [listener.to_json() for listener in self.listeners],
        }

    def control_routes(self) -> list[Route]:
        return self.control.routes()

    # -- what the gateway, REST surface and outbox ask of the venue -----------------------------

    def trace_token(self) -> str:
        return self._trace_ids.uuid()

    def hmac_keys(self) -> list[str]:
        return list(self.hmac_key_list)

    def new_hmac_key(self) -> str:
        return key_from(self._key_ids)

    def new_template_id(self) -> str:
        return self._template_ids.uuid()

    def _configuration_id(self) -> int:
        """Connect configuration ids are eight-digit integers, as DocuSign's are."""
        return self._listener_ids.integer(10_000_000, 100_000_000)

    def add_listener(self, url: str) -> Listener:
        listener = Listener(self._configuration_id(), url)
        self.listeners.append(listener)
        return listener

    # -- the lifecycle --------------------------------------------------------------------------

    def create_envelope(
        self, template: Template, fills: dict[str, tuple[str, str]], subject: str, send: bool
    ) -> Envelope:
        now = time.time()
        recipients = [
            Recipient(str(n), self._envelope_ids.uuid(), role, *fills.get(role, ("", "")))
            for n, role in enumerate(template.roles, start=1)
        ]
        envelope = Envelope(
            self._envelope_ids.uuid(),
            template.template_id,
            subject,
            recipients,
            "created",
            now,
            [StatusChange("created", now, None)],
        )
        self.ledger.add_envelope(envelope)
        self.events.add(
            "envelope_created", envelope_id=envelope.envelope_id, template_id=template.template_id
        )
        if send:
            self.change(envelope, "sent")
        return envelope

    def change(self, envelope: Envelope, status: str, reason: str | None = None) -> None:
        """Move the envelope (InvalidTransition if it cannot) and publish the event it produces."""
        change = envelope.move(status, time.time(), reason)
        self.events.add("envelope_status", envelope_id=envelope.envelope_id, status=status)
        self.publish(envelope, change)

    def publish(self, envelope: Envelope, change: StatusChange) -> None:
        """Queue the change's event for every listener, shaped by the Connect faults armed now."""
        event = change.event
        assert event is not None
        where = {"event": event, "envelope_id": envelope.envelope_id}
        if take_matching(self, "never_delivered", **where) is not None:
            change.suppressed_by = "never_delivered"
            return
        if not self.listeners:
            self.events.add("event_unrouted", **where)
            return
        duplicate = take_matching(self, "duplicate", **where)
        reorder = take_matching(self, "reorder", **where)
        bad = take_matching(self, "bad_signature", **where)
        lost = take_matching(self, "lost_then_retried", **where)
        fired = {"duplicate": duplicate, "reorder": reorder, "bad_signature": bad, "lost_then_retried": lost}
        names = sorted(name for name, fault in fired.items() if fault is not None)
        message = ConnectEvent(
            f"{envelope.envelope_id}:{event}",
            event,
            envelope.envelope_id,
            self.account.account_id,
            self.account.user_id,
            ds_time(change.at),
            envelope_json(envelope, self.account, include_recipients=True),
        )
        for listener in self.listeners:
            for _ in range(2 if duplicate is not None else 1):
                self.outbox.submit(
                    Job(
                        message,
                        listener,
                        self.retry,
                        names,
                        wrong_signatures=bad.params["attempts"] if bad is not None else 0,
                        drop_first=lost is not None,
                        hold_ms=reorder.params["hold_ms"] if reorder is not None else None,
                    )
                )
