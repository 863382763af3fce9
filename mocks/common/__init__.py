"""What every mock venue shares: the control API, fault book, ledger and event log, and the webhook
senders' retry policy (TLS for the mocks that offer it: mocks.common.tls, imported on demand)."""

from .control import ControlServer, error, read_json, start_app
from .events import EventLog
from .faults import ArmedFault, FaultBook, FaultError, FaultKind
from .ledger import Delivery, Ledger, LedgerFill, LedgerOrder
from .retry import RetryPolicy
from .venue import MockVenue, Route

__all__ = [
    "ArmedFault",
    "ControlServer",
    "Delivery",
    "EventLog",
    "FaultBook",
    "FaultError",
    "FaultKind",
    "Ledger",
    "LedgerFill",
    "LedgerOrder",
    "MockVenue",
    "RetryPolicy",
    "Route",
    "error",
    "read_json",
    "start_app",
]
