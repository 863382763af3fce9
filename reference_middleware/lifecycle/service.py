"""The lifecycle's moving parts: its clients and its three background loops.

- outbox: funded checkouts to the Zap's catch hook (outbox.py);
- poll: DocuSign's status changes read back every REFMW_DOCUSIGN_POLL_S while envelopes are out for
  signature, for a Connect event that never comes, and duplicate envelopes whose void has not gone
  through yet;
- worker: provisioning, cancellation and payouts (provision.py, payouts.py), kicked by the events that
  make work for it and swept every second besides.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from ..config import Config
from ..dbguard import DB_ERRORS, throttled
from ..venues.mt5 import MT5Client
from . import contracts
from .docusign import DocuSignClient, DocuSignError, signed
from .outbox import Outbox
from .payouts import PayoutWorker
from .provision import Provisioner, Trading
from .rippling import RipplingClient
from .settings import LifecycleConfig

log = logging.getLogger("refmw.lifecycle")
SWEEP_S = 1.0
POLL_OVERLAP = timedelta(seconds=5)  # each poll reaches back past the last one's start, clocks being clocks


class LifecycleService:
    def __init__(self, pool: Any, cfg: Config, lc: LifecycleConfig, trading: Trading) -> None:
        self.pool = pool
        self.cfg = cfg
        self.lc = lc
        self.hook_http = httpx.AsyncClient(timeout=lc.timeout_s, trust_env=False)
        self.docusign = DocuSignClient(lc.docusign_url, lc.docusign_account, lc.docusign_token, lc.timeout_s)
        self.rippling = RipplingClient(lc.rippling_url, lc.rippling_token, lc.timeout_s)
        self.mt5 = MT5Client(lc.mt5_url, lc.mt5_login, lc.mt5_password, timeout_s=lc.timeout_s)
        settle_s = 2 * lc.timeout_s + 1
        self.outbox = Outbox(pool, self.hook_http, lc.hook_url, lc.retry_max_s)
        self.provisioner = Provisioner(
            pool,
            self.mt5,
            self.rippling,
            trading,
            group=lc.mt5_group,
            login_first=lc.mt5_login_first,
            cap_s=lc.retry_max_s,
            settle_s=settle_s,
            mutants=cfg.mutants,
        )
        self.payouts = PayoutWorker(
            pool, self.mt5, self.rippling, cap_s=lc.retry_max_s, settle_s=settle_s, mutants=cfg.mutants
        )
        self._notify = asyncio.Event()
        self._work = asyncio.Event()
        self.tasks: list[asyncio.Task[Any]] = []
        self._polled_to: datetime | None = None  # when the last complete poll started

    def kick(self) -> None:
        """New work may be waiting (a checkout, a signature, a payout, a cancellation)."""
        self._notify.set()
        self._work.set()

    def start(self) -> None:
        self.tasks.append(
            asyncio.create_task(self._loop("outbox", self._notify, SWEEP_S, self.outbox.pass_once))
        )
        self.tasks.append(asyncio.create_task(self._loop("worker", self._work, SWEEP_S, self._work_once)))
        if not self.cfg.mutant("docusign_no_poll"):
            self.tasks.append(
                asyncio.create_task(self._loop("poll", None, self.lc.docusign_poll_s, self.poll_once))
            )

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for close in (self.hook_http.aclose, self.docusign.close, self.rippling.close, self.mt5.close):
            with contextlib.suppress(Exception):
                await close()

    async def _loop(
        self, name: str, event: asyncio.Event | None, every_s: float, step: Callable[[], Awaitable[int]]
    ) -> None:
        while True:
            if event is None:
                await asyncio.sleep(every_s)
            else:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(event.wait(), every_s)
                event.clear()
            try:
                await step()
            except DB_ERRORS as exc:  # the database away: one line now and then, not a traceback a second
                throttled.warn(f"the lifecycle's {name} pass", exc)
            except Exception:
                log.exception("lifecycle %s pass failed", name)

    async def _work_once(self) -> int:
        return await self.provisioner.pass_once() + await self.payouts.pass_once()

    # ------------------------------------------------------------------ contracts
    async def record_contract(self, customer: str, envelope: str) -> contracts.Recorded:
        keep = self.cfg.mutant("zap_replay_provisions_twice")
        async with self.pool.acquire() as conn:
            recorded = await contracts.record(conn, customer, envelope, keep_duplicates=keep)
        if recorded.void is not None:
            await self._void(recorded.void)
        return recorded

    async def _void(self, envelope: str) -> None:
        """Void a duplicate; on failure the poll tries again (void_pending stays set)."""
        try:
            await self.docusign.void(envelope, contracts.VOID_REASON)
        except DocuSignError as exc:
            log.warning("voiding duplicate envelope %s failed: %s", envelope, exc)
            if exc.code != "ENVELOPE_CANNOT_VOID_INVALID_STATE":
                return
        await self.pool.execute("UPDATE contracts SET void_pending = FALSE WHERE envelope_id = $1", envelope)

    def connect_genuine(self, body: bytes, headers: Any) -> bool:
        if self.cfg.mutant("docusign_hmac_unchecked"):
            return True
        return signed(self.lc.docusign_hmac_keys, body, headers)

    async def apply_status(self, envelope: str, status: str) -> contracts.Moved | None:
        """A status from Connect or the poll; a signature kicks provisioning."""
        async with self.pool.acquire() as conn:
            moved = await contracts.advance(conn, envelope, status)
            if moved is None or moved.status != "completed":
                return moved
            if not moved.primary and self.cfg.mutant("zap_replay_provisions_twice"):
                await contracts.provision_again(conn, moved.customer, envelope)
        self._work.set()
        return moved

    async def poll_once(self) -> int:
        """Envelopes out for signature whose news may never come: DocuSign's status changes since the
        oldest of them (or the last poll), applied as if Connect had sent them. One listStatusChanges
        call a thousand envelopes, however many await a signature: DocuSign meters its API, and a
        call per envelope every few seconds would not last a morning of onboarding. Duplicates whose
        void failed are voided again first."""
        for row in await self.pool.fetch("SELECT envelope_id FROM contracts WHERE void_pending"):
            await self._void(row["envelope_id"])
        oldest = await self.pool.fetchval(
            "SELECT min(created_at) FROM contracts WHERE status IN ('sent', 'delivered')"
        )
        if oldest is None:
            return 0
        since = max(oldest, self._polled_to or oldest) - POLL_OVERLAP
        started = datetime.now(UTC)
        try:
            changes = await self.docusign.changes(since)
        except DocuSignError as exc:
            log.warning("polling DocuSign for status changes failed: %s", exc)
            return 0
        moved = 0
        for envelope, status in changes:
            moved += await self.apply_status(envelope, status) is not None
        self._polled_to = started
        return moved
