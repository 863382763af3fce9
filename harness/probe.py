"""`uat target probe`: start the topology and the target, onboard one trader through the Stripe
webhook, call each read-only operation once, and show what the adapter read from each answer.

This is the loop in which an agency engineer fixes a mapping: a wrong JMESPath shows up as the
answer next to the field that found nothing, in seconds instead of a gate run."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from .adapters import Adapter, Outcome, view_json
from .topology import Topology

ONBOARD_WAIT_S = 15.0


@dataclass(frozen=True)
class Probe:
    operation: str
    call: str  # what was asked, in the harness's words
    outcome: Outcome

    @property
    def readable(self) -> bool:
        """Answered 2xx and every declared field could be read; for the order nobody placed, a
        definite refusal (404) is the right answer."""
        if self.operation == "order_status" and self.outcome.type == "fail" and self.outcome.status:
            return not self.outcome.malformed
        return self.outcome.ok and not self.outcome.malformed

    def to_json(self) -> dict[str, Any]:
        view = self.outcome.view
        return {
            "operation": self.operation,
            "call": self.call,
            "status": self.outcome.status,
            "outcome": self.outcome.type,
            "latency_ms": round(self.outcome.latency_ms, 1),
            "read": view_json(view),
            "error": self.outcome.error,
            "answer": self.outcome.body,
        }


def probe(topo: Topology, note: Callable[[str], None] = lambda _: None) -> list[Probe]:
    """Each read-only operation once. Accounts come from a trader onboarded the real way; an
    order id nobody placed shows how the API answers for an unknown order."""
    adapter = topo.adapter()
    try:
        results = [Probe("health", "health()", adapter.health())]
        customer = f"cus_probe{int(time.time()) % 100000:05d}"
        url = topo.webhook_url("stripe")
        account = None
        if url is not None:
            note(f"onboarding {customer} through the Stripe webhooks at {url}")
            control = topo.stack.describe()["mocks"]["stripe"]["control"]
            body = {
                "types": ["checkout.session.completed", "customer.subscription.created"],
                "customer": customer,
            }
            httpx.post(
                f"{control}/send", json={**body, "url": url}, timeout=60, trust_env=False
            ).raise_for_status()
            found = _until(lambda: adapter.accounts_for_customer(customer), ONBOARD_WAIT_S)
            results.append(Probe("accounts_for_customer", f"accounts_for_customer({customer!r})", found))
            account = (found.accounts or (None,))[0]
        else:
            note("the target declares no [webhooks] stripe URL: no trader to read accounts of")
        if account is not None:
            if adapter.supports("account"):
                results.append(Probe("account", f"account({account!r})", adapter.account(account)))
            results.append(Probe("positions", f"positions({account!r})", adapter.positions(account)))
        results.append(
            Probe(
                "order_status",
                "order_status('probe-unknown-order')",
                adapter.order_status("probe-unknown-order"),
            )
        )
        return results
    finally:
        adapter.close()


def _until(call: Callable[[], Outcome], within_s: float) -> Outcome:
    deadline = time.monotonic() + within_s
    outcome = call()
    while not (outcome.ok and outcome.accounts) and time.monotonic() < deadline:
        time.sleep(0.2)
        outcome = call()
    return outcome


def render(results: list[Probe], redact: Callable[[str], str]) -> str:
    lines = []
    for result in results:
        out = result.outcome
        mark = "ok " if result.readable else "BAD"
        lines.append(f"{mark} {result.call}: HTTP {out.status} -> {out.type} in {out.latency_ms:.0f} ms")
        if out.view is not None:
            lines.append(f"      read    {json.dumps(view_json(out.view), default=str)}")
        if out.error:
            lines.append(f"      error   {out.error}")
        if not result.readable or out.view is None:
            answer = out.body if isinstance(out.body, str) else json.dumps(out.body, default=str)
            lines.append(f"      answer  {redact(str(answer))[:400]}")
    return "\n".join(lines)


__all__ = ["Adapter", "Probe", "probe", "render"]
