"""A mock CQG WebAPI server: binary protobuf ClientMsg / ServerMsg frames over WebSocket."""

from .config import CQGConfig
from .gateway import CQGGateway

__all__ = ["CQGConfig", "CQGGateway"]
