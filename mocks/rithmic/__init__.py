"""A mock Rithmic R|Protocol gateway: protobuf over WebSocket, served to the real async-rithmic client."""

from .gateway import RithmicGateway
from .market import INSTRUMENTS, Instrument

__all__ = ["INSTRUMENTS", "Instrument", "RithmicGateway"]
