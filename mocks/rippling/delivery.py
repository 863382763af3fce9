"""Webhook deliveries in the background: form-encoded POSTs, one FIFO lane per listener, retried.

Rippling's webhooks are `application/x-www-form-urlencoded` with `event_name`, `company_id`,
`company_primary_email` and the resource's id (`employee_id`; a pay item adds `pay_item_id`), with no
signature; a listener may be given a Bearer token to send. A failed attempt (a non-2xx answer, a
timeout, a refused connection) is retried after `policy.delay(n)` until `max_attempts` or the
deadline, then given up; every attempt is a ledger record and a `delivery` event.

Deliveries to one listener go out one at a time in the order the events were produced (an asyncio
lock is FIFO); a delivery waiting for a retry, or held back by a `delay` fault, waits outside the lane,
so later events overtake it. Nothing here runs on a REST request's path.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlencode

import httpx

from mocks.common import Delivery, EventLog, Ledger, RetryPolicy

SNIPPET = 200
DROPPED = "dropped by fault drop_then_retry: never sent"


@dataclass(frozen=True)
class Listener:
    """A webhook subscription: where events go, and the Bearer token sent with them (if any)."""

    listener_id: str
    url: str
    token: str | None = None

    def to_json(self) -> dict[str, object]:
        return {"id": self.listener_id, "url": self.url, "has_token": self.token is not None}


@dataclass(frozen=True)
class WebhookEvent:
    """One event, ready to be sent to any listener on any attempt: the same body every time."""

    event_id: str  # the mock's own, for the ledger: Rippling's body carries no event id
    event_name: str
    fields: tuple[tuple[str, str], ...]

    def body(self) -> bytes:
        return urlencode(self.fields).encode("ascii")

    @property
    def resource_id(self) -> str:
        return dict(self.fields).get("employee_id", "")


@dataclass
class WebhookDelivery(Delivery):
    """One attempt, as the ledger keeps it; `status` None means no HTTP answer (see `response`)."""

    listener_id: str = ""
    employee_id: str = ""
    outcome: str = ""  # "delivered" | "retrying" | "gave_up"


@dataclass
class Job:
    """One delivery of one event to one listener, with the faults that shape it."""

    event: WebhookEvent
    listener: Listener
    policy: RetryPolicy
    faults: list[str] = field(default_factory=list)
    drop_first: bool = False  # the first attempt is never sent
    delay_ms: int | None = None  # held back this long before joining the lane


class OutboxContext(Protocol):
    @property
    def ledger(self) -> Ledger: ...
    @property
    def events(self) -> EventLog: ...


class Outbox:
    def __init__(self, context: OutboxContext) -> None:
        self.context = context
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._lanes: dict[str, asyncio.Lock] = {}

    async def open(self) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(follow_redirects=False, trust_env=False)

    async def close(self) -> None:
        await self.cancel_all()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def cancel_all(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        self._lanes.clear()

    def pending(self) -> dict[str, int]:
        """Deliveries not finished: sending, waiting to retry, or held back by `delay`."""
        return {"pending": len(self._tasks)}

    def submit(self, job: Job) -> None:
        task = asyncio.create_task(self._run(job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, job: Job) -> None:
        lid = job.listener.listener_id
        if job.delay_ms is not None:
            await asyncio.sleep(job.delay_ms / 1000)
        started = time.monotonic()
        attempt = 1
        while True:
            async with self._lanes.setdefault(lid, asyncio.Lock()):
                at = time.time()  # when this attempt went out, not when it joined the lane
                status, response = await self._attempt(job, attempt)
            ok = status is not None and 200 <= status < 300
            pause = job.policy.delay(attempt)
            last = attempt >= job.policy.max_attempts or (
                time.monotonic() - started + pause > job.policy.deadline_s
            )
            outcome = "delivered" if ok else "gave_up" if last else "retrying"
            self._record(job, attempt, status, response, outcome, at)
            if outcome != "retrying":
                return
            await asyncio.sleep(pause)
            attempt += 1

    async def _attempt(self, job: Job, attempt: int) -> tuple[int | None, str]:
        if job.drop_first and attempt == 1:
            return None, DROPPED
        if self._client is None:
            await self.open()
        assert self._client is not None
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if job.listener.token is not None:
            headers["Authorization"] = f"Bearer {job.listener.token}"
        timeout = job.policy.timeout_s
        try:
            response = await self._client.post(
                job.listener.url, content=job.event.body(), headers=headers, timeout=timeout
            )
        except httpx.TimeoutException:
            return None, f"timeout after {timeout:g}s"
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"[:SNIPPET]
        return response.status_code, response.text[:SNIPPET]

    def _record(
        self, job: Job, attempt: int, status: int | None, response: str, outcome: str, at: float
    ) -> None:
        event = job.event
        self.context.ledger.add_delivery(
            WebhookDelivery(
                event.event_id,
                event.event_name,
                job.listener.url,
                attempt,
                status,
                response,
                list(job.faults),
                at,
                listener_id=job.listener.listener_id,
                employee_id=event.resource_id,
                outcome=outcome,
            )
        )
        detail = {
            "event_id": event.event_id,
            "event": event.event_name,
            "employee_id": event.resource_id,
            "listener_id": job.listener.listener_id,
            "attempt": attempt,
            "status": status,
            "faults": list(job.faults),
        }
        self.context.events.add("delivery", outcome=outcome, **detail)
        if outcome == "gave_up":
            self.context.events.add("delivery_gave_up", response=response, **detail)
