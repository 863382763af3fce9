"""Runs a Zap's steps in the background, after the catch hook has already answered 200.

Each accepted trigger becomes a task: it waits a seeded jitter (plus any `delay` fault's hold), then
takes one of `limits.workers` slots and calls the steps in order, rendering each from the trigger and
the earlier steps' answers. A failed attempt (a non-2xx answer, a timeout, a refused connection) is
retried after `retry.delay(n)` until `max_attempts` or the deadline, and the run then ends `errored`;
a 410 (the target's "no subscription") halts it at once. Later steps of a failed run never run.
Nothing here runs on the catch hook's request path, and nothing promises order between runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlencode

import aiohttp

from mocks.common import EventLog, FaultError, RetryPolicy
from mocks.common.urls import check_delivery_url

from . import template
from .config import Limits, Step, Zap
from .runs import SNIPPET, Attempt, Run, RunLedger

MAX_ANSWER = 1024 * 1024  # a step's answer past this is cut: later steps see the first MiB


class StepRefused(Exception):
    """A step whose rendered request cannot be sent: the run ends errored without retries."""


class RunnerContext(Protocol):
    @property
    def ledger(self) -> RunLedger: ...
    @property
    def events(self) -> EventLog: ...
    @property
    def retry(self) -> RetryPolicy: ...
    @property
    def limits(self) -> Limits: ...
    @property
    def rng(self) -> random.Random: ...
    @property
    def env(self) -> Mapping[str, str]: ...
    @property
    def allowed_hosts(self) -> tuple[str, ...]: ...

    def enabled(self, zap_id: str) -> bool: ...


class Runner:
    def __init__(self, context: RunnerContext) -> None:
        self.context = context
        self._client: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(context.limits.workers)
        self._slot_count = context.limits.workers

    async def open(self) -> None:
        if self._client is None:
            self._client = aiohttp.ClientSession(auto_decompress=True, trust_env=False)

    async def close(self) -> None:
        await self.cancel_all()
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def cancel_all(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    def pending(self) -> int:
        """Runs accepted and not finished: waiting, held, or running."""
        return len(self._tasks)

    def full(self) -> bool:
        return len(self._tasks) >= self.context.limits.queue_size

    def submit(self, run: Run, zap: Zap, hold_ms: float = 0.0) -> None:
        """Start `run` in the background; the caller checked `full()` first."""
        if self._slot_count != self.context.limits.workers:  # the control API changed the pool size
            self._slots = asyncio.Semaphore(self.context.limits.workers)
            self._slot_count = self.context.limits.workers
        pause = hold_ms / 1000 + self.context.rng.uniform(0, self.context.limits.jitter_ms) / 1000
        task = asyncio.create_task(self._run(run, zap, pause, self._slots))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, run: Run, zap: Zap, pause: float, slots: asyncio.Semaphore) -> None:
        await asyncio.sleep(pause)
        async with slots:
            run.state = "running"
            try:
                state, error = await self._steps(run, zap)
            except Exception as exc:  # a bug here must end the run visibly, not kill it silently
                state, error = "errored", f"internal: {type(exc).__name__}: {exc}"[:SNIPPET]
        run.state, run.error, run.finished_at = state, error, time.time()
        self.context.events.add(
            "run_finished", run_id=run.run_id, zap_id=run.zap_id, state=state, error=error
        )

    async def _steps(self, run: Run, zap: Zap) -> tuple[str, str | None]:
        for step in zap.steps:
            if not self.context.enabled(zap.id):
                return "halted", f"the Zap was turned off before step {step.name!r}"
            scope = {"trigger": run.trigger, "steps": run.answers, "env": dict(self.context.env)}
            try:
                request = self._render(step, scope)
            except StepRefused as exc:
                return "errored", f"step {step.name!r}: {exc}"
            outcome = await self._call(run, step, request)
            if outcome is not None:
                return outcome
        return "success", None

    def _render(self, step: Step, scope: Mapping[str, Any]) -> dict[str, Any]:
        """The httpx request arguments for this step, or StepRefused naming what is wrong."""
        url = template.render_text(step.url, scope)
        try:
            check_delivery_url(url, self.context.allowed_hosts, what="Zap step URL")
        except FaultError as exc:
            raise StepRefused(f"url: {exc.message}") from None
        headers: dict[str, str] = {}
        for name, value in step.headers.items():
            text = template.render_text(value, scope)
            if not text.isprintable() or not text.isascii():
                raise StepRefused(f"headers.{name}: the rendered value is not a valid header value")
            headers[name] = text
        request: dict[str, Any] = {"method": step.method, "url": url, "headers": headers}
        if step.body is None:
            return request
        body = template.render(step.body, scope)
        try:
            if step.encoding == "form":
                fields = {k: template.as_text(v) for k, v in body.items()}
                request["content"] = urlencode(fields).encode()
                headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
            else:
                request["content"] = json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
                headers.setdefault("Content-Type", "application/json")
        except (ValueError, RecursionError) as exc:  # NaN from an earlier answer, say
            raise StepRefused(f"body: cannot be encoded: {exc}"[:SNIPPET]) from None
        return request

    async def _call(self, run: Run, step: Step, request: dict[str, Any]) -> tuple[str, str] | None:
        """Attempts with retries; None when the step succeeded, else the run's final state and why."""
        policy = self.context.retry
        started = time.monotonic()
        attempt = 1
        while True:
            status, text, latency = await self._attempt(request, policy.timeout_s)
            run.attempts.append(
                Attempt(step.name, attempt, step.method, request["url"], status, latency, text[:SNIPPET])
            )
            self.context.events.add(
                "step_attempt", run_id=run.run_id, step=step.name, attempt=attempt, status=status
            )
            if status is not None and 200 <= status < 300:
                run.answers[step.name] = _parse(text)
                return None
            if status == 410:
                return "halted", f"step {step.name!r} answered 410: the target says no subscription"
            pause = policy.delay(attempt)
            if attempt >= policy.max_attempts or time.monotonic() - started + pause > policy.deadline_s:
                why = f"HTTP {status}" if status is not None else text
                return "errored", f"step {step.name!r} failed after {attempt} attempt(s): {why}"[:SNIPPET]
            await asyncio.sleep(pause)
            attempt += 1

    async def _attempt(self, request: dict[str, Any], timeout: float) -> tuple[int | None, str, float]:
        if self._client is None:
            await self.open()
        assert self._client is not None
        began = time.monotonic()
        status: int | None = None
        try:
            async with self._client.request(
                request["method"],
                request["url"],
                headers=request["headers"],
                data=request.get("content"),
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as response:
                status = response.status
                text = (await response.content.read(MAX_ANSWER)).decode("utf-8", "replace")
        except TimeoutError:
            status, text = None, f"timeout after {timeout:g}s"
        except (aiohttp.ClientError, ValueError, OSError) as exc:  # ValueError: a URL aiohttp refuses
            status, text = None, f"{type(exc).__name__}: {exc}"[:SNIPPET]
        return status, text, round((time.monotonic() - began) * 1000, 3)


def _parse(text: str) -> Any:
    """A step's answer as later steps see it: its JSON, or its text when it is not JSON."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text
