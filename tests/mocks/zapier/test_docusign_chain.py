"""The example onboarding Zap against the real DocuSign mock: a paid checkout becomes a sent envelope."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from mocks.common import RetryPolicy
from mocks.docusign import DocuSignMock
from mocks.zapier import example_text
from tests.mocks.venue_thread import VenueThread

from .conftest import Receiver, Zapier, wait_until


@pytest.fixture
def docusign() -> Iterator[VenueThread]:
    retry = RetryPolicy(max_attempts=1, base_delay_s=0.01, timeout_s=2.0, deadline_s=5.0)
    with VenueThread(DocuSignMock(seed=5, retry=retry)) as vt:
        yield vt


def test_checkout_paid_creates_an_envelope_then_provisions(
    make_zapier: Callable[..., Zapier], receiver: Receiver, docusign: VenueThread
) -> None:
    venue = docusign.venue
    assert isinstance(venue, DocuSignMock)
    template = next(t for t in venue.templates.values() if t.roles == ("Trader",))
    zapier = make_zapier(
        example_text(),
        docusign_url=docusign.url, docusign_account=venue.account.account_id, docusign_token=venue.tokens[0],
        docusign_template=template.template_id, provision_url=receiver.url + "/provision",
        rippling_url=receiver.url, rippling_token="r",
    )  # fmt: skip
    session = {"id": "cs_2", "customer": "cus_2", "client_reference_id": "T-8",
               "customer_details": {"name": "Bea Trader", "email": "bea@firm.test"},
               "metadata": {"first_name": "Bea", "last_name": "Trader"}}  # fmt: skip
    event = {"type": "checkout.session.completed", "data": {"object": session}}
    assert zapier.trigger(event, hook="stripe-checkout-paid").status_code == 200
    wait_until(lambda: len(receiver.to("/workers")) == 1)
    (envelope,) = venue.ledger.envelopes.values()
    assert envelope.status == "sent" and envelope.recipients[0].email == "bea@firm.test"
    assert receiver.to("/provision")[0].json["envelope_id"] == envelope.envelope_id
    (run,) = zapier.settle(1)
    assert run["state"] == "success" and [a["status"] for a in run["attempts"]] == [201, 200, 200]
