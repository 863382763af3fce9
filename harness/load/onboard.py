"""Onboarding a run's traders before the load starts, through the real path: the Stripe emitter
sends each trader's checkout webhooks to the middleware, which creates the trader and account.

A firm's traders exist long before the market opens; at the open they log in. Onboarding 5,000
traders inside a 60-second ramp would measure a sign-up storm no firm sees, and the shape under
test would be the webhook path, not trading. So `uat load` onboards the population first, with
progress shown, and the traders look their accounts up when they start (a trader that finds none
still onboards itself, as it does when users.py runs as a plain locustfile).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from ..adapters import Adapter
from ..scenario.model import Limits
from .funded import funded_metadata
from .identities import Population, identity
from .venues import CQG

ONBOARD_TYPES = ["checkout.session.completed", "customer.subscription.created"]
CONCURRENCY = 16
ACCOUNT_WAIT_S = 30.0


class OnboardingFailed(RuntimeError):
    """Some traders have no account after their webhooks: the middleware's onboarding is broken."""


def onboard_population(
    *,
    stripe_control: str,
    webhook_url: str,
    adapter: Adapter,
    seed: int,
    count: int,
    population: Population,
    progress: Callable[[int, int], None] | None = None,
    account_wait_s: float = ACCOUNT_WAIT_S,
    limits: Limits | None = None,
    routed: frozenset[int] = frozenset(),
    routed_accounts: dict[str, str] | None = None,
    funded: frozenset[int] = frozenset(),
    deposit: str = "25000.00",
) -> float:
    """Onboard traders 0..count-1 of `seed`, setting `limits` on each account it finds, and having
    the back office route the accounts of the traders in `routed` to CQG (each one then goes into
    `routed_accounts`, with its venue); the traders in `funded` check out as funded traders (their
    lifecycle chain is harness.load.funded's); seconds it took. Raises OnboardingFailed naming the first
    traders left without an account, or the first account whose limits or route the middleware
    refused."""
    began = time.monotonic()
    done = 0
    missing: list[str] = []  # customers left without an account
    refused: list[str] = []  # accounts whose limits the middleware would not take, with its answer
    connections = httpx.Limits(max_connections=CONCURRENCY * 2, max_keepalive_connections=CONCURRENCY * 2)
    with httpx.Client(timeout=30, trust_env=False, limits=connections) as http:

        def one(index: int) -> tuple[str | None, str | None]:
            """(the customer if it got no account, the middleware's refusal of its limits)."""
            who = identity(seed, index, population)
            body = {
                "types": ONBOARD_TYPES,
                "customer": who.customer_id,
                "url": webhook_url,
                "metadata": funded_metadata(who, deposit) if index in funded else who.metadata(),
            }
            http.post(f"{stripe_control}/send", json=body).raise_for_status()
            deadline = time.monotonic() + account_wait_s
            while time.monotonic() < deadline:
                accounts = adapter.accounts_for_customer(who.customer_id).accounts
                if accounts:
                    refusal = _set_limits(adapter, accounts, limits)
                    if refusal is None and index in routed:
                        refusal = _route(adapter, accounts, CQG, routed_accounts)
                    return None, refusal
                time.sleep(0.1)
            return who.customer_id, None

        with ThreadPoolExecutor(CONCURRENCY) as pool:
            for customer, refusal in pool.map(one, range(count)):
                done += 1
                missing += [customer] if customer is not None else []
                refused += [refusal] if refusal is not None else []
                if progress is not None and (done % 250 == 0 or done == count):
                    progress(done, count)
    if refused:
        raise OnboardingFailed(
            f"the middleware refused the risk limits or route of {len(refused)}: {refused[0]}"
        )
    if missing:
        raise OnboardingFailed(
            f"{len(missing)} of {count} traders have no account {account_wait_s:g} s after their Stripe "
            f"webhooks (first: {', '.join(missing[:5])})"
        )
    return time.monotonic() - began


def _set_limits(adapter: Adapter, accounts: tuple[str, ...], limits: Limits | None) -> str | None:
    """None once every account has the limits; else what the middleware answered."""
    if limits is None:
        return None
    for account in accounts:
        outcome = adapter.set_limits(account, **limits.to_json())
        if not outcome.ok:
            return f"account {account}: {outcome.evidence()}"
    return None


def _route(
    adapter: Adapter, accounts: tuple[str, ...], venue: str, routed: dict[str, str] | None
) -> str | None:
    """None once every account is routed to `venue`; else what the middleware answered."""
    for account in accounts:
        outcome = adapter.route_account(account, venue)
        if not outcome.ok:
            return f"account {account} to {venue}: {outcome.evidence()}"
        if routed is not None:
            routed[account] = venue
    return None
