"""DocuSign mock: an eSignature REST surface, the envelope lifecycle, and signed Connect deliveries."""

from .connect import ConnectEvent, signature, signature_headers, verify
from .delivery import ConnectDelivery, Listener
from .envelopes import EVENTS, STATUSES, DocuSignLedger, Envelope, Template
from .venue import DEFAULT_RETRY, DocuSignMock

__all__ = [
    "DEFAULT_RETRY",
    "EVENTS",
    "STATUSES",
    "ConnectDelivery",
    "ConnectEvent",
    "DocuSignLedger",
    "DocuSignMock",
    "Envelope",
    "Listener",
    "Template",
    "signature",
    "signature_headers",
    "verify",
]
