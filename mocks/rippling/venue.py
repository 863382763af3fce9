"""`RipplingMock`: the workers/pay-items REST surface and form-encoded webhooks to subscribers.

The middleware hires, terminates and pays through REST; each change becomes a webhook event, shaped
by the webhook faults armed at that moment and delivered in the background to every listener.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from mocks.common import FaultKind, MockVenue, RetryPolicy, Route, start_app
from mocks.common.faults import take_matching

from .control import RipplingControl, check_token
from .delivery import Job, Listener, Outbox, WebhookEvent
from .faults import FAULTS
from .gateway import MAX_BODY, make_gateway
from .records import SEED_WORKERS, Company, Ids, PayItem, RipplingLedger, Worker
from .rest import RestResource

# Seconds-scale by default; tests pass tens of milliseconds. Gaps: 1, 2, 4, 8 s, then give up.
DEFAULT_RETRY = RetryPolicy(
    max_attempts=5, base_delay_s=1.0, max_delay_s=60.0, timeout_s=10.0, deadline_s=3600.0
)


class RipplingMock(MockVenue):
    name = "rippling"
    ledger: RipplingLedger

    def __init__(
        self,
        seed: int = 0,
        retry: RetryPolicy | None = None,
        allowed_hosts: tuple[str, ...] = (),
        listeners: tuple[str, ...] = (),
        listener_token: str | None = None,
        tokens: tuple[str, ...] = (),
    ) -> None:
        super().__init__(seed)
        self.ledger = RipplingLedger()
        self.allowed_hosts = allowed_hosts
        company_ids = Ids(seed, "company")
        self.company = Company(company_ids.hex24())
        self.tokens = list(tokens) or [company_ids.token(20)]
        self.retry = retry or DEFAULT_RETRY
        self.listeners: list[Listener] = []
        self._new_ids()
        self.control = RipplingControl(self)
        if listener_token is not None:
            check_token(listener_token, "listener_token")
        for url in listeners:
            self.add_listener(self.control.check_url(url), listener_token)
        self._initial = (self.retry, list(self.tokens), list(self.listeners))
        self.outbox = Outbox(self)
        self._runner: web.AppRunner | None = None
        self.app = web.Application(middlewares=[make_gateway(self)], client_max_size=MAX_BODY)
        self.app.add_routes(RestResource(self).routes())

    def _new_ids(self) -> None:
        """Fresh seeded id streams and the seeded workers: the same seed gives the same ids after a reset."""
        self._worker_ids = Ids(self.seed, "workers")
        self._pay_ids = Ids(self.seed, "pay-items")
        self._listener_ids = Ids(self.seed, "listeners")
        self._event_seq = 0
        for first, last, email, kind, title in SEED_WORKERS:
            worker = Worker(self._worker_ids.hex24(), first, last, email, kind, title=title)
            worker.start_date = "2024-01-02"
            self.ledger.workers[worker.id] = worker

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
        retry, tokens, listeners = self._initial
        self.retry = retry
        self.tokens = list(tokens)
        self.listeners = list(listeners)
        self._new_ids()
        for _ in listeners:  # the constructor drew their ids: draw as many again
            self._listener_ids.hex24()

    def describe(self) -> dict[str, Any]:
        return {
            "token": self.tokens[0],
            "company_id": self.company.company_id,
            "company_primary_email": self.company.primary_email,
            "listeners": [listener.to_json() for listener in self.listeners],
        }

    def control_routes(self) -> list[Route]:
        return self.control.routes()

    def add_listener(self, url: str, token: str | None = None) -> Listener:
        listener = Listener(self._listener_ids.hex24(), url, token)
        self.listeners.append(listener)
        return listener

    # -- what the REST surface asks of the venue -------------------------------------------------

    def hire(self, fields: dict[str, Any]) -> Worker:
        worker = Worker(self._worker_ids.hex24(), **fields)
        self.ledger.workers[worker.id] = worker
        self.events.add("worker_created", worker_id=worker.id, external_id=worker.external_id)
        self.publish("employee.created", worker.id)
        return worker

    def change_worker(self, worker: Worker, changes: dict[str, Any]) -> None:
        terminated = changes.get("status") == "TERMINATED" and worker.status != "TERMINATED"
        for name, value in changes.items():
            setattr(worker, name, value)
        worker.updated_at = time.time()
        self.events.add("worker_updated", worker_id=worker.id, changes=sorted(changes))
        self.publish("employee.terminated" if terminated else "employee.updated", worker.id)

    def add_pay_item(self, fields: dict[str, Any]) -> PayItem:
        item = PayItem(self._pay_ids.hex24(), **fields)
        self.ledger.pay_items[item.id] = item
        self.events.add("pay_item_created", pay_item_id=item.id, worker_id=item.worker_id)
        self.publish("pay_item.created", item.worker_id, pay_item_id=item.id)
        return item

    # -- webhooks -------------------------------------------------------------------------------

    def publish(self, event_name: str, employee_id: str, **extra: str) -> None:
        """Queue the event for every listener, shaped by the webhook faults armed now."""
        self._event_seq += 1
        event_id = f"{event_name}:{employee_id}:{self._event_seq}"
        where = {"event": event_name, "employee_id": employee_id}
        if not self.listeners:
            self.events.add("event_unrouted", event_id=event_id, **where)
            return
        duplicate = take_matching(self, "duplicate", **where)
        delay = take_matching(self, "delay", **where)
        dropped = take_matching(self, "drop_then_retry", **where)
        fired = {"duplicate": duplicate, "delay": delay, "drop_then_retry": dropped}
        names = sorted(name for name, fault in fired.items() if fault is not None)
        company = self.company
        fields = (
            ("event_name", event_name),
            ("company_id", company.company_id),
            ("company_primary_email", company.primary_email),
            ("employee_id", employee_id),
            *extra.items(),
        )
        event = WebhookEvent(event_id, event_name, fields)
        self.events.add("webhook_event", event_id=event_id, faults=names, **where)
        for listener in self.listeners:
            for _ in range(2 if duplicate is not None else 1):
                self.outbox.submit(
                    Job(
                        event,
                        listener,
                        self.retry,
                        names,
                        drop_first=dropped is not None,
                        delay_ms=delay.params["delay_ms"] if delay is not None else None,
                    )
                )
