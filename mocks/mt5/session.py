"""Manager sessions, each bound to the TCP connection its handshake ran on.

The key is the connection's transport object itself, held strongly until the connection closes:
an `id()` would not do, because a closed transport's address is soon reused by the next
connection's, which would then inherit a session it never authenticated. A closed connection's
session is dead at once (`is_closing()`), and swept from the table on the next handshake.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Session:
    manager: int
    srv_rand: bytes | None  # set by auth/start, consumed by auth/answer
    peer: str
    authenticated: bool = False
    requests: int = 0  # authenticated requests served on this connection
    started_at: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        return {
            "manager": self.manager,
            "peer": self.peer,
            "authenticated": self.authenticated,
            "requests": self.requests,
            "started_at": self.started_at,
        }


class SessionTable:
    def __init__(self) -> None:
        self._sessions: dict[asyncio.BaseTransport, Session] = {}

    def get(self, transport: asyncio.BaseTransport | None) -> Session | None:
        if transport is None:
            return None
        session = self._sessions.get(transport)
        if session is not None and transport.is_closing():
            del self._sessions[transport]
            return None
        return session

    def start(self, transport: asyncio.BaseTransport, manager: int, srv_rand: bytes, peer: str) -> Session:
        """A fresh, unauthenticated session for this connection (a new auth/start replaces the old)."""
        self.sweep()
        session = Session(manager, srv_rand, peer)
        self._sessions[transport] = session
        return session

    def forget(self, transport: asyncio.BaseTransport | None) -> None:
        if transport is not None:
            self._sessions.pop(transport, None)

    def sweep(self) -> None:
        for transport in [t for t in self._sessions if t.is_closing()]:
            del self._sessions[transport]

    def live(self) -> list[Session]:
        self.sweep()
        return list(self._sessions.values())

    def clear(self) -> None:
        self._sessions.clear()
