"""Errors the fault plane raises, each carrying the server's own message.

FaultPlaneError
├── ToxiproxyError              an API call answered with an error status
│   ├── InvalidRequest          400: bad body, stream, toxic type or attribute
│   │   └── ExtensionUnsupported  an extension toxic sent to a real Toxiproxy
│   ├── NotFound                404
│   │   ├── ProxyNotFound
│   │   └── ToxicNotFound
│   ├── Conflict                409
│   │   ├── ProxyExists
│   │   └── ToxicExists
│   └── ServerError             500 and others: bind failures, bad listen addresses
└── BackendUnavailable          a backend that cannot run here, with the reason

harness.netguard.TargetRefused  an upstream outside loopback and the allowlist (a ValueError)
"""

from __future__ import annotations

from ..netguard import TargetRefused as TargetRefused  # re-exported for fault-plane callers


class FaultPlaneError(Exception):
    """Anything the fault plane raises."""


class ToxiproxyError(FaultPlaneError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


class InvalidRequest(ToxiproxyError):
    pass


class ExtensionUnsupported(InvalidRequest):
    """A toxic type only the embedded server implements (packet_loss, corrupt), refused by a
    real Toxiproxy as an invalid toxic type."""


class NotFound(ToxiproxyError):
    pass


class ProxyNotFound(NotFound):
    pass


class ToxicNotFound(NotFound):
    pass


class Conflict(ToxiproxyError):
    pass


class ProxyExists(Conflict):
    pass


class ToxicExists(Conflict):
    pass


class ServerError(ToxiproxyError):
    pass


class BackendUnavailable(FaultPlaneError):
    """The requested backend cannot run on this host; the message says why."""


_BY_MESSAGE: dict[str, type[ToxiproxyError]] = {
    "proxy not found": ProxyNotFound,
    "toxic not found": ToxicNotFound,
    "proxy already exists": ProxyExists,
    "toxic already exists": ToxicExists,
}
_BY_STATUS: dict[int, type[ToxiproxyError]] = {400: InvalidRequest, 404: NotFound, 409: Conflict}


def error_for(status: int, message: str) -> ToxiproxyError:
    cls = _BY_MESSAGE.get(message) or _BY_STATUS.get(status) or ServerError
    return cls(status, message)
