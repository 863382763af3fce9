"""`MT5Mock`: the MetaTrader 5 Manager Web API mock venue, with its control-API extras.

Control-API extras (besides the shared /faults, /reset, /ledger, /events; `GET /ledger` adds
`users` and `deals`, money as decimal strings):

| Path | What it does |
|---|---|
| GET /mt5/config | the current settings (passwords redacted) |
| POST /mt5/config | patch settings, e.g. `{"managers": {"1001": "pässwörd"}, "login_last": 500010}` |
| GET /mt5/sessions | the live manager sessions, one per connection |
"""

from __future__ import annotations

import copy
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any

from aiohttp import web

from mocks.common import FaultKind, MockVenue, Route

from .accounts import Accounts
from .config import MT5Config
from .endpoints import MT5Services
from .faults import FAULTS
from .gateway import make_gateway
from .ledger import MT5Ledger
from .session import SessionTable


class MT5Mock(MockVenue):
    name = "mt5"

    def __init__(self, seed: int = 0, config: MT5Config | None = None) -> None:
        super().__init__(seed)
        self.config = config or MT5Config()
        self._initial = copy.deepcopy(self.config)
        self.ledger: MT5Ledger = MT5Ledger()
        self.accounts = Accounts(seed, self.ledger, self.config)
        self.sessions = SessionTable()
        self.rng = random.Random(f"mt5-auth-{seed}")
        self.cert_path: Path | None = None
        self._tls_dir: Path | None = None
        self._runner: web.AppRunner | None = None
        self.app = web.Application(
            middlewares=[make_gateway(self)], client_max_size=self.config.max_body_bytes
        )
        self.app.add_routes(MT5Services(self).routes())

    def fault_catalogue(self) -> list[FaultKind]:
        return list(FAULTS)

    @property
    def scheme(self) -> str:
        return "https" if self.config.tls else "http"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        ssl_ctx = None
        if self.config.tls:
            # The certificate helper lives with the Rithmic mock; imported only when TLS is asked for.
            from ..common.tls import server_context, write_self_signed

            self._tls_dir = Path(tempfile.mkdtemp(prefix="mt5-mock-tls-"))
            self.cert_path, key_path = write_self_signed(self._tls_dir)
            ssl_ctx = server_context(self.cert_path, key_path)
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port, ssl_context=ssl_ctx).start()
        self.host, self.port = host, int(self._runner.addresses[0][1])
        self.events.add("started", url=self.url)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.sessions.clear()
        if self._tls_dir is not None:
            shutil.rmtree(self._tls_dir, ignore_errors=True)
            self._tls_dir = None

    async def on_reset(self) -> None:
        """Config, users, deals and deal ids back to the seed; every session forgotten.

        The connections stay open (closing them would race a client's next request into a reset):
        their next request is a 403, and the client does the handshake again.
        """
        self.config = copy.deepcopy(self._initial)
        self.accounts = Accounts(self.seed, self.ledger, self.config)
        self.rng = random.Random(f"mt5-auth-{self.seed}")
        self.sessions.clear()

    def describe(self) -> dict[str, Any]:
        manager, password = next(iter(self.config.managers.items()))
        return {
            "manager": manager,
            "password": password,
            "users": sorted(self.ledger.users),
            "login_range": [self.config.login_first, self.config.login_last],
            "tls": self.config.tls,
            "cert": str(self.cert_path) if self.cert_path else None,
        }

    # -- control-API extras -------------------------------------------------------------------

    def control_routes(self) -> list[Route]:
        return [
            *self.settings_routes(lambda: self.config),
            ("GET", "/mt5/sessions", self._list_sessions),
        ]

    async def _list_sessions(self, request: web.Request) -> web.Response:
        return web.json_response({"sessions": [s.to_json() for s in self.sessions.live()]})
