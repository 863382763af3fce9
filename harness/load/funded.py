"""Funded traders in `uat load`: onboarded through the whole lifecycle chain before the open.

Their checkout says `program: funded` and carries the deposit; the middleware hands each to the bus,
the target's Zap sends the contract, and then, as the traders would, the harness signs every contract
at DocuSign and waits until MT5 holds each trader's login and deposit and Rippling their worker.
Everything is read in bulk from the mocks' ledgers (one read a poll, not one per trader), so 5,000
traders cost a few reads a second. A trader the chain never reaches is named with the hop it stopped
at: the load would otherwise measure traders who cannot trade.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from ..lifecycle import Expected
from ..lifecycle.model import AWAITING_SIGNATURE
from ..targetlifecycle import LifecycleSpec
from .identities import Identity, identity, load_population

POLL_S = 0.5  # for a handful of traders; a big population's ledgers are read less often (poll_s)
SIGNERS = 16  # envelopes signed at once
# the chain's own pace, past the per-trader bound: the bus takes about 66 triggers a second, and
# each trader's provisioning is a few calls on MT5's one manager session
PER_TRADER_S = 0.1


class ChainStalled(RuntimeError):
    """Funded traders the chain did not get through in time: the middleware's lifecycle is broken
    (or too slow for this population); the message names how many stopped at which hop."""


@dataclass
class ChainTimes:
    """Seconds from the end of the checkouts to each stage, for the summary and the README."""

    contracts_s: float = 0.0  # every contract out at DocuSign
    signed_s: float = 0.0  # every contract signed (by the harness, as the traders)
    provisioned_s: float = 0.0  # every MT5 login, deposit and worker in place

    def to_json(self) -> dict[str, float]:
        return {k: round(v, 2) for k, v in vars(self).items()}


def funded_metadata(who: Identity, deposit: str) -> dict[str, str]:
    return {**who.metadata(), "program": "funded", "deposit": deposit}


def expected(who: Identity, deposit: str) -> Expected:
    return Expected(who.customer_id, who.email, who.name, Decimal(deposit), signs=True)


class FundedChain:
    """Signs every funded trader's contract and waits for their provisioning, by the mocks' ledgers."""

    def __init__(
        self,
        http: httpx.Client,
        controls: dict[str, str],
        traders: list[Expected],
        bound_s: float,
        progress: Callable[[dict[str, Any]], None] = lambda _: None,
    ) -> None:
        self.http = http
        self.controls = controls
        self.emails = {t.email.lower(): t.customer for t in traders}
        self.bound_s = bound_s + PER_TRADER_S * len(traders)
        # reading 5,000 users and workers costs the mocks' loop, which the chain itself runs on
        self.poll_s = min(5.0, max(POLL_S, len(traders) / 2000))
        self.progress = progress

    def run(self) -> ChainTimes:
        began = time.monotonic()
        times = ChainTimes()
        envelopes = self._wait("contract sent", lambda: self._envelopes(AWAITING_SIGNATURE))
        times.contracts_s = time.monotonic() - began
        with ThreadPoolExecutor(SIGNERS) as pool:
            list(pool.map(self._sign, envelopes))
        times.signed_s = time.monotonic() - began
        self._wait("provisioned (MT5 login, deposit and Rippling worker)", self._provisioned)
        times.provisioned_s = time.monotonic() - began
        return times

    def _wait(self, stage: str, found: Callable[[], dict[str, Any]]) -> list[Any]:
        """Polls `found` (email -> record) until it holds every trader, or the bound passes."""
        deadline = time.monotonic() + self.bound_s
        while True:
            have = found()
            self.progress({"funded": stage, "done": len(have), "of": len(self.emails)})
            if len(have) >= len(self.emails):
                return list(have.values())
            if time.monotonic() >= deadline:
                missing = sorted(set(self.emails) - set(have))
                raise ChainStalled(
                    f"{len(missing)} of {len(self.emails)} funded traders not {stage} within "
                    f"{self.bound_s:g} s (first: {', '.join(self.emails[m] for m in missing[:5])}); "
                    "`uat investigate` on a gate run of the lifecycle suite shows where such a chain breaks"
                )
            time.sleep(self.poll_s)

    def _ledger(self, venue: str) -> dict[str, Any]:
        answer = self.http.get(f"{self.controls[venue]}/ledger", timeout=60)
        answer.raise_for_status()
        body: dict[str, Any] = answer.json()
        return body

    def _envelopes(self, statuses: tuple[str, ...]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for envelope in self._ledger("docusign").get("envelopes", []):
            if envelope.get("status") not in statuses:
                continue
            for recipient in envelope.get("recipients", ()):
                email = str(recipient.get("email", "")).lower()
                if email in self.emails:
                    found.setdefault(email, envelope["envelope_id"])
        return found

    def _sign(self, envelope_id: str) -> None:
        self.http.post(
            f"{self.controls['docusign']}/docusign/envelopes/{envelope_id}/complete", timeout=30
        ).raise_for_status()

    def _provisioned(self) -> dict[str, Any]:
        mt5 = self._ledger("mt5")
        funded = {
            u["login"]: str(u.get("email") or "").lower()
            for u in mt5.get("users", [])
            if str(u.get("email") or "").lower() in self.emails
        }
        deposited = {funded[d["login"]] for d in mt5.get("deals", []) if d.get("login") in funded}
        hired = {
            str(w.get("work_email", "")).lower()
            for w in self._ledger("rippling").get("workers", [])
            if str(w.get("work_email", "")).lower() in self.emails
        }
        return {email: True for email in deposited & hired}


def fund_population(
    spec: LifecycleSpec,
    controls: dict[str, str],
    seed: int,
    indices: list[int],
    progress: Callable[[dict[str, Any]], None],
) -> tuple[list[Expected], ChainTimes]:
    """Traders `indices` of `seed`, whose funded checkouts were sent, taken through the chain."""
    population = load_population()
    traders = [expected(identity(seed, i, population), spec.deposit) for i in indices]
    with httpx.Client(timeout=60, trust_env=False) as http:
        times = FundedChain(http, controls, traders, spec.provisioned_s, progress).run()
    return traders, times
