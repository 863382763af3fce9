"""The real docusign-esign SDK against the mock: create from a template, read, poll, void."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import docusign_esign as ds
import httpx
import pytest

from tests.mocks.docusign.conftest import act, mock_of, sdk_api, template_id
from tests.mocks.venue_thread import VenueThread

DS_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z")


def _definition(vt: VenueThread, status: str = "sent") -> ds.EnvelopeDefinition:
    return ds.EnvelopeDefinition(
        template_id=template_id(vt),
        template_roles=[ds.TemplateRole(email="ann@firm.test", name="Ann Trader", role_name="Trader")],
        status=status,
    )


def _error(exc: ds.ApiException) -> dict[str, str]:
    body: dict[str, str] = json.loads(exc.body)
    return body


def test_sdk_creates_reads_polls_and_voids(docusign: VenueThread, control: httpx.Client) -> None:
    api = sdk_api(docusign)
    account = mock_of(docusign).account.account_id
    since = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()

    summary = api.create_envelope(account, envelope_definition=_definition(docusign))
    assert summary.status == "sent" and summary.uri == f"/envelopes/{summary.envelope_id}"
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", summary.envelope_id
    )
    assert DS_TIME.fullmatch(summary.status_date_time)

    envelope = api.get_envelope(account, summary.envelope_id, include="recipients")
    assert envelope.status == "sent" and envelope.email_subject == "Please sign your trader agreement"
    assert envelope.sent_date_time == summary.status_date_time
    signer = envelope.recipients.signers[0]
    assert (signer.email, signer.name, signer.role_name, signer.status) == (
        "ann@firm.test",
        "Ann Trader",
        "Trader",
        "sent",
    )

    act(control, summary.envelope_id, "deliver")  # the signer opens it
    changes = api.list_status_changes(account, from_date=since)
    assert changes.total_set_size == "1" and changes.result_set_size == "1"
    assert [(e.envelope_id, e.status) for e in changes.envelopes] == [(summary.envelope_id, "delivered")]
    assert DS_TIME.fullmatch(changes.envelopes[0].delivered_date_time)

    voided = api.update(
        account, summary.envelope_id, envelope=ds.Envelope(status="voided", voided_reason="Wrong desk")
    )
    assert voided.envelope_id == summary.envelope_id
    after = api.get_envelope(account, summary.envelope_id)
    assert (after.status, after.voided_reason) == ("voided", "Wrong desk")
    assert after.voided_date_time is not None
    only_voided = api.list_status_changes(account, from_date=since, status="voided")
    assert [e.envelope_id for e in only_voided.envelopes] == [summary.envelope_id]
    assert api.list_status_changes(account, from_date=since, status="completed").envelopes is None


def test_sdk_sends_a_draft(docusign: VenueThread) -> None:
    api = sdk_api(docusign)
    account = mock_of(docusign).account.account_id
    draft = api.create_envelope(account, envelope_definition=_definition(docusign, status="created"))
    assert draft.status == "created"
    assert api.get_envelope(account, draft.envelope_id).sent_date_time is None
    api.update(account, draft.envelope_id, envelope=ds.Envelope(status="sent"))
    assert api.get_envelope(account, draft.envelope_id).status == "sent"


def test_sdk_raises_docusign_errors(docusign: VenueThread, control: httpx.Client) -> None:
    account = mock_of(docusign).account.account_id
    with pytest.raises(ds.ApiException) as unauthorised:
        sdk_api(docusign, token="not-a-token").list_status_changes(account, from_date="2020-01-01")
    assert unauthorised.value.status == 401
    assert _error(unauthorised.value)["errorCode"] == "AUTHORIZATION_INVALID_TOKEN"
    assert unauthorised.value.trace_token  # every answer carries X-DocuSign-TraceToken

    api = sdk_api(docusign)
    with pytest.raises(ds.ApiException) as missing:
        api.get_envelope(account, "00000000-0000-4000-8000-000000000000")
    assert missing.value.status == 400 and _error(missing.value)["errorCode"] == "ENVELOPE_DOES_NOT_EXIST"

    with pytest.raises(ds.ApiException) as no_filter:
        api.list_status_changes(account)
    assert _error(no_filter.value)["errorCode"] == "INVALID_REQUEST_PARAMETER"

    summary = api.create_envelope(account, envelope_definition=_definition(docusign))
    act(control, summary.envelope_id, "complete")
    with pytest.raises(ds.ApiException) as late:
        api.update(account, summary.envelope_id, envelope=ds.Envelope(status="voided", voided_reason="late"))
    assert _error(late.value)["errorCode"] == "ENVELOPE_CANNOT_VOID_INVALID_STATE"
    assert api.get_envelope(account, summary.envelope_id).status == "completed"

    with pytest.raises(ds.ApiException) as no_reason:
        api.update(account, summary.envelope_id, envelope=ds.Envelope(status="voided"))
    assert "voidedReason" in _error(no_reason.value)["message"]

    bad_template = ds.EnvelopeDefinition(template_id="00000000-0000-4000-8000-000000000001", status="sent")
    with pytest.raises(ds.ApiException) as unknown:
        api.create_envelope(account, envelope_definition=bad_template)
    assert _error(unknown.value)["errorCode"] == "TEMPLATE_ID_INVALID"
