"""The fault plane: Toxiproxy's API, its backends, and a typed client for scenarios."""

from .backends import TOXIPROXY_IMAGE, Backend, BinaryBackend, DockerBackend, EmbeddedBackend
from .client import Proxy, ToxiproxyClient
from .embedded import EmbeddedToxiproxy
from .errors import (
    BackendUnavailable,
    Conflict,
    ExtensionUnsupported,
    FaultPlaneError,
    InvalidRequest,
    NotFound,
    ProxyExists,
    ProxyNotFound,
    ServerError,
    TargetRefused,
    ToxicExists,
    ToxicNotFound,
    ToxiproxyError,
)
from .models import ProxyInfo, Toxic
from .plane import BackendName, FaultPlane, choose_backend

__all__ = [
    "TOXIPROXY_IMAGE",
    "Backend",
    "BackendName",
    "BackendUnavailable",
    "BinaryBackend",
    "Conflict",
    "DockerBackend",
    "EmbeddedBackend",
    "EmbeddedToxiproxy",
    "ExtensionUnsupported",
    "FaultPlane",
    "FaultPlaneError",
    "InvalidRequest",
    "NotFound",
    "Proxy",
    "ProxyExists",
    "ProxyInfo",
    "ProxyNotFound",
    "ServerError",
    "TargetRefused",
    "Toxic",
    "ToxicExists",
    "ToxicNotFound",
    "ToxiproxyClient",
    "ToxiproxyError",
    "choose_backend",
]
