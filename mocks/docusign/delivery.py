"""Connect deliveries in the background: one task per delivery, retried with growing gaps.

A failed attempt (a non-2xx answer, a timeout, a refused connection) is retried after
`policy.delay(n)`: base, 2×base, 4×base, ... capped at `max_delay`, until `max_attempts` or the
deadline, and then given up and recorded so. Each retry re-sends the event with `retryCount` set
to the attempts made before it, signed with the keys active at that moment.

Deliveries to one listener go out one at a time, in the order the events were produced (a FIFO
lock), so without faults a listener sees an envelope's events in order; a delivery waiting for its
retry waits outside the lock and holds nothing back. Nothing here runs on a REST request's path.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from mocks.common import Delivery, EventLog, Ledger, RetryPolicy

from .connect import ConnectEvent, signature_headers

SNIPPET = 200
DROPPED = "dropped by fault lost_then_retried: never sent"


@dataclass(frozen=True)
class Listener:
    """A Connect configuration: where events go, and the id every message names."""

    configuration_id: int
    url: str

    def to_json(self) -> dict[str, object]:
        return {"configurationId": self.configuration_id, "url": self.url}


@dataclass
class ConnectDelivery(Delivery):
    """One attempt, as the ledger keeps it; `status` None means no HTTP answer (see `response`)."""

    envelope_id: str = ""
    configuration_id: int = 0
    retry_count: int = 0
    outcome: str = ""  # "delivered" | "retrying" | "gave_up"


@dataclass
class Job:
    """One delivery of one event to one listener, with the faults that shape it."""

    event: ConnectEvent
    listener: Listener
    policy: RetryPolicy
    faults: list[str] = field(default_factory=list)
    wrong_signatures: int = 0  # the first N attempts carry a wrong HMAC
    drop_first: bool = False  # the first attempt is never sent
    hold_ms: int | None = None  # held until the listener's next event, or this long


class OutboxContext(Protocol):
    @property
    def ledger(self) -> Ledger: ...
    @property
    def events(self) -> EventLog: ...

    def hmac_keys(self) -> list[str]: ...


class Outbox:
    def __init__(self, context: OutboxContext) -> None:
        self.context = context
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._locks: dict[int, asyncio.Lock] = {}
        self._held: dict[int, list[asyncio.Event]] = {}

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
        self._held.clear()
        self._locks.clear()

    def pending(self) -> dict[str, int]:
        """Deliveries not finished (sending, waiting for a retry, or held), and how many are held."""
        return {"pending": len(self._tasks), "held": sum(len(h) for h in self._held.values())}

    def submit(self, job: Job) -> None:
        """Deliver in the background; a job that is not held releases every held one after it."""
        cid = job.listener.configuration_id
        release = asyncio.Event() if job.hold_ms is not None else None
        waiting = [] if release is not None else self._held.pop(cid, [])
        task = asyncio.create_task(self._run(job, release))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if release is not None:
            self._held.setdefault(cid, []).append(release)
        for held in waiting:
            held.set()  # they wake after this job's task has queued on the listener's lock

    async def _run(self, job: Job, release: asyncio.Event | None) -> None:
        cid = job.listener.configuration_id
        if release is not None and job.hold_ms is not None:
            try:
                await asyncio.wait_for(release.wait(), job.hold_ms / 1000)
            except TimeoutError:
                with contextlib.suppress(ValueError):
                    self._held.get(cid, []).remove(release)
                self.context.events.add("reorder_released_alone", event_id=job.event.event_id)
        started = time.monotonic()
        attempt = 1
        while True:
            async with self._locks.setdefault(cid, asyncio.Lock()):
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
        body = job.event.body(job.listener.configuration_id, attempt - 1)
        keys = self.context.hmac_keys()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if keys:
            headers["X-Authorization-Digest"] = "HMACSHA256"
            headers.update(signature_headers(keys, body, wrong=attempt <= job.wrong_signatures))
        timeout = job.policy.timeout_s
        try:
            response = await self._client.post(
                job.listener.url, content=body, headers=headers, timeout=timeout
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
        cid = job.listener.configuration_id
        self.context.ledger.add_delivery(
            ConnectDelivery(
                event.event_id,
                event.event,
                job.listener.url,
                attempt,
                status,
                response,
                list(job.faults),
                at,
                envelope_id=event.envelope_id,
                configuration_id=cid,
                retry_count=attempt - 1,
                outcome=outcome,
            )
        )
        detail = {
            "event_id": event.event_id,
            "event": event.event,
            "envelope_id": event.envelope_id,
            "configuration_id": cid,
            "attempt": attempt,
            "status": status,
            "faults": list(job.faults),
        }
        self.context.events.add("delivery", outcome=outcome, **detail)
        if outcome == "gave_up":
            self.context.events.add("delivery_gave_up", response=response, **detail)
