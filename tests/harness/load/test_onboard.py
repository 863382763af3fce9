"""Onboarding a run's population before the load, through the Stripe webhooks: each trader ends
with an account under its seeded identity, and a middleware that creates none is named."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from harness import target
from harness.load.identities import identity, load_population
from harness.load.onboard import OnboardingFailed, onboard_population
from harness.scenario import Limits
from harness.topology import Topology


@pytest.fixture(scope="module")
def topo() -> Iterator[Topology]:
    with Topology(target.load("reference"), seed=4, backend="embedded") as topology:
        yield topology


def test_every_trader_gets_an_account_under_its_identity(topo: Topology) -> None:
    seen: list[tuple[int, int]] = []
    stripe = topo.stack.describe()["mocks"]["stripe"]["control"]
    adapter = topo.adapter()
    took = onboard_population(
        stripe_control=stripe,
        webhook_url=str(topo.webhook_url("stripe")),
        adapter=adapter,
        seed=4,
        count=30,
        population=load_population(),
        progress=lambda done, of: seen.append((done, of)),
    )
    assert took > 0 and seen[-1] == (30, 30)
    try:
        for index in (0, 17, 29):
            who = identity(4, index)
            (account,) = adapter.accounts_for_customer(who.customer_id).accounts or ()
            assert adapter.account(account).body["trader"]["email"] == who.email
    finally:
        adapter.close()


def test_the_limits_asked_for_are_set_on_every_account_as_it_is_onboarded(topo: Topology) -> None:
    stripe = topo.stack.describe()["mocks"]["stripe"]["control"]
    adapter = topo.adapter()
    try:
        onboard_population(stripe_control=stripe, webhook_url=str(topo.webhook_url("stripe")),
                           adapter=adapter, seed=5, count=3, population=load_population(),
                           limits=Limits(max_order_qty=2, max_position=7))  # fmt: skip
        for index in range(3):
            (account,) = adapter.accounts_for_customer(identity(5, index).customer_id).accounts or ()
            limits = adapter.account(account).body["risk_limits"]
            assert (limits["max_order_qty"], limits["max_position"]) == (2, 7), limits
            assert limits["daily_loss_limit"] == Limits().daily_loss_limit, "the rest keep their default"
    finally:
        adapter.close()


def test_a_middleware_that_rejects_the_webhooks_is_named(topo: Topology) -> None:
    stripe = topo.stack.describe()["mocks"]["stripe"]["control"]
    # both of the next trader's webhooks go out with a wrong signature: the middleware must refuse them
    armed = httpx.post(f"{stripe}/faults", json={"fault": "bad_signature", "count": 2}, timeout=5)
    assert armed.status_code == 201, armed.text
    adapter = topo.adapter()
    try:
        with pytest.raises(OnboardingFailed, match=r"1 of 1 traders have no account .* \(first: cus_"):
            onboard_population(stripe_control=stripe, webhook_url=str(topo.webhook_url("stripe")),
                               adapter=adapter, seed=99, count=1, population=load_population(),
                               account_wait_s=2)  # fmt: skip
    finally:
        adapter.close()  # an adapter left open leaks its sockets into whichever test collects them
