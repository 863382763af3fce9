"""How DocuSign shows an envelope: the REST `Envelope` object, also Connect's `envelopeSummary`.

One shape for both, so a middleware that reads a field from a webhook finds it in the poll too.
As in DocuSign's REST API, counts and flags are strings ("1", "true"), times are ISO-8601 UTC with
seven fractional digits, and a time or reason that does not apply is left out rather than null.
"""

from __future__ import annotations

from typing import Any

from .envelopes import Account, Envelope, Recipient, ds_time


def _times(pairs: list[tuple[str, float | None]]) -> dict[str, str]:
    return {name: ds_time(at) for name, at in pairs if at is not None}


def signer_json(recipient: Recipient) -> dict[str, Any]:
    out: dict[str, Any] = {
        "recipientId": recipient.recipient_id,
        "recipientIdGuid": recipient.recipient_guid,
        "recipientType": "signer",
        "roleName": recipient.role_name,
        "name": recipient.name,
        "email": recipient.email,
        "routingOrder": "1",
        "status": recipient.status,
        "deliveryMethod": "email",
    }
    out.update(
        _times(
            [
                ("sentDateTime", recipient.sent_at),
                ("deliveredDateTime", recipient.delivered_at),
                ("signedDateTime", recipient.signed_at),
                ("declinedDateTime", recipient.declined_at),
            ]
        )
    )
    if recipient.declined_reason is not None:
        out["declinedReason"] = recipient.declined_reason
    return out


def recipients_json(envelope: Envelope) -> dict[str, Any]:
    return {
        "signers": [signer_json(r) for r in envelope.recipients],
        "recipientCount": str(len(envelope.recipients)),
        "currentRoutingOrder": "1",
    }


def envelope_json(envelope: Envelope, account: Account, include_recipients: bool = False) -> dict[str, Any]:
    base = f"/envelopes/{envelope.envelope_id}"
    out: dict[str, Any] = {
        "envelopeId": envelope.envelope_id,
        "status": envelope.status,
        "emailSubject": envelope.email_subject,
        "envelopeUri": base,
        "recipientsUri": f"{base}/recipients",
        "documentsUri": f"{base}/documents",
        "documentsCombinedUri": f"{base}/documents/combined",
        "certificateUri": f"{base}/documents/certificate",
        "templatesUri": f"{base}/templates",
        "customFieldsUri": f"{base}/custom_fields",
        "notificationUri": f"{base}/notification",
        "attachmentsUri": f"{base}/attachments",
        "signingLocation": "online",
        "allowMarkup": "false",
        "allowReassign": "true",
        "enableWetSign": "true",
        "purgeState": "unpurged",
        "sender": {
            "userName": account.user_name,
            "userId": account.user_id,
            "accountId": account.account_id,
            "email": account.email,
        },
    }
    sent = envelope.entered("sent")
    out.update(
        _times(
            [
                ("createdDateTime", envelope.created_at),
                ("lastModifiedDateTime", envelope.changed_at),
                ("statusChangedDateTime", envelope.changed_at),
                ("initialSentDateTime", sent),
                ("sentDateTime", sent),
                ("deliveredDateTime", envelope.entered("delivered")),
                ("completedDateTime", envelope.entered("completed")),
                ("declinedDateTime", envelope.entered("declined")),
                ("voidedDateTime", envelope.entered("voided")),
            ]
        )
    )
    if envelope.voided_reason is not None:
        out["voidedReason"] = envelope.voided_reason
    if include_recipients:
        out["recipients"] = recipients_json(envelope)
    return out


def summary_json(envelope: Envelope) -> dict[str, Any]:
    """The answer to Envelopes: create (201)."""
    return {
        "envelopeId": envelope.envelope_id,
        "uri": f"/envelopes/{envelope.envelope_id}",
        "statusDateTime": ds_time(envelope.changed_at),
        "status": envelope.status,
    }
