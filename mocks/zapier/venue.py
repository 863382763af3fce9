"""`ZapierMock`: catch hooks that answer at once, and Zaps whose steps run later in the background.

The middleware (or Stripe's mock) posts triggers to a catch hook; the runner then calls each Zap's
steps against the DocuSign mock, the middleware and the Rippling mock. The harness reads the task
history from the ledger, turns Zaps off and on, and replays runs through the control API.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from mocks.common import FaultKind, MockVenue, RetryPolicy, Route, start_app

from .config import Limits, Zap, ZapConfig
from .control import ZapierControl
from .faults import FAULTS, take
from .hooks import MAX_BODY, CatchHooks, answer
from .runner import Runner
from .runs import Run, RunLedger

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ZapierMock(MockVenue):
    name = "zapier"
    ledger: RunLedger

    def __init__(
        self,
        config: ZapConfig | None = None,
        seed: int = 0,
        env: Mapping[str, str] | None = None,
        allowed_hosts: tuple[str, ...] = (),
    ) -> None:
        super().__init__(seed)
        config = config or ZapConfig(())  # no Zaps: every hook answers 404 (a stack without a config)
        self.config = config
        self.ledger = RunLedger()
        self.env: dict[str, str] = dict(env or {})
        self.allowed_hosts = allowed_hosts
        self.account_id = config.account_id or str(
            random.Random(f"zapier-account-{seed}").randrange(10**6, 10**8)
        )
        self._use(config)
        self.runner = Runner(self)
        self.hooks = CatchHooks(self)
        self.control = ZapierControl(self)
        self._runner: web.AppRunner | None = None
        self.app = web.Application(middlewares=[_http_errors], client_max_size=MAX_BODY)
        self.app.add_routes(self.hooks.routes())

    def _use(self, config: ZapConfig) -> None:
        self.config = config
        self.zaps = {zap.id: zap for zap in config.zaps}
        self._by_hook = {zap.hook: zap for zap in config.zaps}
        self._fresh()

    async def load(self, config: ZapConfig, env: Mapping[str, str]) -> None:
        """These Zaps from now on, and after every reset: the pending runs are cancelled."""
        await self.runner.cancel_all()
        self.hooks.buckets.clear()
        self.env = dict(env)
        if config.account_id:
            self.account_id = config.account_id
        self._use(config)
        self.events.add("zaps_loaded", zaps=sorted(self.zaps))

    def _fresh(self) -> None:
        """What a reset restores: switches, limits, retry policy and the seeded id stream."""
        self.switches = {zap.id: zap.enabled for zap in self.config.zaps}
        self.limits: Limits = self.config.limits
        self.retry: RetryPolicy = self.config.retry
        self._ids = random.Random(f"zapier-ids-{self.seed}")

    def fault_catalogue(self) -> list[FaultKind]:
        return list(FAULTS)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        await self.runner.open()
        self._runner, self.port = await start_app(self.app, host, port)
        self.host = host
        self.events.add("started", url=self.url)

    async def stop(self) -> None:
        await self.runner.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def on_reset(self) -> None:
        await self.runner.cancel_all()
        self.hooks.buckets.clear()
        self._fresh()

    def control_routes(self) -> list[Route]:
        return self.control.routes()

    def hook_url(self, zap: Zap) -> str:
        return f"{self.url}/hooks/catch/{self.account_id}/{zap.hook}/"

    def describe(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "hooks": {zap.id: self.hook_url(zap) for zap in self.config.zaps},
        }

    # -- what the catch hooks, runner and control API ask of the venue -------------------------

    def new_id(self) -> str:
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def zap_for_hook(self, hook: str) -> Zap | None:
        return self._by_hook.get(hook)

    def enabled(self, zap_id: str) -> bool:
        return self.switches.get(zap_id, False)

    def switch(self, zap: Zap, on: bool) -> None:
        self.switches[zap.id] = on
        self.events.add("zap_switched", zap_id=zap.id, enabled=on)

    def accept(self, zap: Zap, payload: dict[str, Any], run_id: str) -> Run:
        """Record an acknowledged trigger and start its run, shaped by the faults armed now."""
        run = self.ledger.add_run(Run(run_id, zap.id, zap.hook, payload))
        self.events.add("trigger_received", run_id=run_id, zap_id=zap.id, hook=zap.hook)
        if take(self, "drop", zap.hook, run_id=run_id) is not None:
            run.state, run.faults = "dropped", ["drop"]
            return run
        delay = take(self, "delay", zap.hook, run_id=run_id)
        hold = float(delay.params["hold_ms"]) if delay is not None else 0.0
        if delay is not None:
            run.faults.append("delay")
        duplicate = take(self, "duplicate", zap.hook, run_id=run_id)
        self.runner.submit(run, zap, hold)
        if duplicate is not None:
            run.faults.append("duplicate")
            twin = self.ledger.add_run(Run(self.new_id(), zap.id, zap.hook, payload, duplicate_of=run_id))
            twin.faults.append("duplicate")
            self.runner.submit(twin, zap)
        return run

    def replay(self, run: Run) -> Run:
        """The same trigger payload as a new run (Zapier's "replay" from the task history)."""
        zap = self.zaps[run.zap_id]
        again = self.ledger.add_run(Run(self.new_id(), zap.id, zap.hook, run.trigger, replay_of=run.run_id))
        self.events.add("run_replayed", run_id=again.run_id, replay_of=run.run_id, zap_id=zap.id)
        self.runner.submit(again, zap)
        return again


@web.middleware
async def _http_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """aiohttp's own refusals (no such path, wrong method, too big a body) in the hook's JSON shape."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status == 413:
            return answer(413, f"the body is larger than this mock's {MAX_BODY} bytes", "body")
        if exc.status == 405:
            return answer(405, f"method {request.method} is not allowed here")
        if exc.status == 404:
            return answer(404, "no catch hook at this URL")
        return answer(exc.status, exc.reason)
