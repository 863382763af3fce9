"""An asyncio server that speaks Toxiproxy 2.12.0's HTTP API and toxics, for hosts without it."""

from .api import VERSION
from .errors import ApiError, BindError
from .server import EmbeddedToxiproxy, ServerCore, load_config, serve_forever

__all__ = [
    "VERSION",
    "ApiError",
    "BindError",
    "EmbeddedToxiproxy",
    "ServerCore",
    "load_config",
    "serve_forever",
]
