"""MetaTrader 5 Manager Web API mock: handshake, connection-bound sessions, users, balance deals, faults."""

from .auth import password_hash, proof
from .config import DEFAULT_MANAGER, DEFAULT_PASSWORD, MT5Config
from .ledger import BALANCE, CREDIT, MT5Deal, MT5Ledger, MT5User
from .retcodes import TEXTS, retcode
from .venue import MT5Mock

__all__ = [
    "BALANCE",
    "CREDIT",
    "DEFAULT_MANAGER",
    "DEFAULT_PASSWORD",
    "TEXTS",
    "MT5Config",
    "MT5Deal",
    "MT5Ledger",
    "MT5Mock",
    "MT5User",
    "password_hash",
    "proof",
    "retcode",
]
