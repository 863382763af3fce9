"""A scenario's world before its workload starts: the mocks and the database reset, a fresh
middleware, and the traders onboarded through Stripe (then routed, and their limits set). Mixed into
ScenarioRunner; what the middleware fails here is a failed check (MiddlewareFault), what the harness
fails a HarnessError."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import httpx

from ..adapters import Adapter
from ..topology import TargetNotReady, Topology
from .model import Scenario
from .result import HarnessError, MiddlewareFault
from .risk import apply_limits

ONBOARD_WAIT_S = 10.0


class WorldSetup:
    topo: Topology
    http: httpx.Client
    seed: int
    rng: random.Random
    accounts: list[str]
    customers: dict[str, str]

    def control(self, venue: str) -> str:
        raise NotImplementedError

    def _setup(self, scenario: Scenario, adapter: Adapter) -> list[str]:
        """A clean world, a fresh middleware, and `traders` accounts onboarded through Stripe (a topology
        just started has the first two already, unless the scenario sets the mocks or the middleware
        up its own way). The last scenario's middleware is stopped first: alive, it would answer the
        reset (a CQG session the mock's reset logs off reconnects and reconciles) and race the schema
        being dropped under it, which once ended in a deadlock that failed a healthy scenario as a
        harness error."""
        try:
            settings = self.topo.target.setting_env(scenario.settings)
            untouched = self.topo.claim_untouched(settings)  # claimed by the first scenario, whatever it is
            if scenario.mock_setup or not untouched:
                self.topo.stop_target()
                self.topo.reset_world()
                for venue, path, body in scenario.mock_setup:
                    self.http.post(f"{self.control(venue)}{path}", json=body).raise_for_status()
                self.topo.restart_target(settings)
        except TargetNotReady as exc:
            raise MiddlewareFault(
                "target_ready",
                f"the middleware did not become ready within {self.topo.target.ready_timeout_s:g} s",
                [{"error": str(exc).splitlines()[0], "log_tail": str(exc)[-2000:]}],
            ) from exc
        except Exception as exc:
            raise HarnessError(f"could not reset the world for {scenario.id}: {exc}") from exc
        self._wait(
            lambda: adapter.health().ok,
            self.topo.target.slo.recovery_s,
            "the middleware to be healthy",
            check="target_ready",
            probe=adapter.health,
        )
        self.rng = rng = random.Random(f"{self.seed}:{scenario.id}:customers")
        self.customers = {}
        for index in range(scenario.traders):
            customer = f"cus_{rng.getrandbits(56):014x}"
            self.customers[self._onboard(adapter, customer, index)] = customer
        self.accounts = list(self.customers)
        if scenario.execution_venue != "rithmic":
            self._route(adapter, scenario.execution_venue)
        if scenario.limits is not None:
            apply_limits(adapter, self.accounts, scenario.limits)
        return self.accounts

    def _onboard(self, adapter: Adapter, customer: str, index: int) -> str:
        """Checkout and subscription webhooks for a new customer; the account they create."""
        body = {
            "types": ["checkout.session.completed", "customer.subscription.created"],
            "customer": customer,
            "url": self._webhook_url(),
        }
        try:
            sent = self.http.post(f"{self.control('stripe')}/send", json=body)
            sent.raise_for_status()
        except httpx.HTTPError as exc:
            raise HarnessError(f"the Stripe mock could not send onboarding webhooks: {exc}") from exc
        found: list[str] = []

        def onboarded() -> bool:
            found[:] = adapter.accounts_for_customer(customer).accounts or ()
            return bool(found)

        self._wait(
            onboarded,
            ONBOARD_WAIT_S,
            f"trader {index + 1} ({customer}) to be onboarded by the Stripe webhooks",
            check="onboarding",
            probe=lambda: adapter.accounts_for_customer(customer),
            extra={"customer": customer, "deliveries": sent.json().get("deliveries", [])},
        )
        return found[0]

    def _route(self, adapter: Adapter, venue: str) -> None:
        """The back office moves every trader's account to the scenario's execution venue."""
        for account in self.accounts:
            outcome = adapter.route_account(account, venue)
            if not outcome.ok:
                raise MiddlewareFault(
                    "onboarding",
                    f"the back office could not route account {account} to {venue}",
                    [{"account": account, "venue": venue, "last_answer": outcome.evidence()}],
                )

    def _webhook_url(self) -> str:
        url = self.topo.webhook_url("stripe")
        if url is None:
            raise HarnessError("the target file declares no [webhooks] stripe URL; onboarding needs it")
        return url

    def _wait(
        self,
        predicate: Callable[[], bool],
        timeout: float,
        what: str,
        *,
        check: str,
        probe: Callable[[], Any],
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Wait for the middleware; past the bound it has failed `check`, with the last answer."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= deadline:
                last = probe()
                raise MiddlewareFault(
                    check,
                    f"timed out after {timeout:g} s waiting for {what}",
                    [{**(extra or {}), "last_answer": last.evidence(), "waited_s": timeout}],
                )
            time.sleep(0.1)
