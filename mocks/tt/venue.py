"""`TTMock`: the TT REST API 2.0 mock venue, with its control-API extras.

Control-API extras (besides the shared /faults, /reset, /ledger, /events):

| Path | What it does |
|---|---|
| GET /tt/config | the current settings (secret redacted) |
| POST /tt/config | patch settings, e.g. `{"token_ttl_s": 2, "redirect": true, "rate_per_s": 50}` |
| POST /tt/fills | `{"account"?, "count", "symbol"?, "start_ns"?, "step_ns"?}`: add fills to the ledger |
| GET /tt/accounts | the accounts, with ids, for scenarios that seed fills |
| POST /tt/credentials/rotate | `{"grace_s"?}`: a new app secret; the old one gets tokens for `grace_s` more |
| GET /tt/credentials | the secret's generation and grace deadline (never the value) |

`config.app_secret` always holds the current generation; `secrets` decides what a token request may use.
"""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web

from mocks.common import FaultError, FaultKind, MockVenue, Route, read_json, start_app
from mocks.common.credentials import CredentialRing, credential_routes

from .auth import TokenStore
from .config import ENVIRONMENTS, TTConfig, rotated_secret, seeded_credentials
from .data import TTState
from .endpoints import TTServices
from .gateway import FAULTS, RateLimiter, make_gateway

MAX_SEEDED_FILLS = 100_000


class TTMock(MockVenue):
    name = "tt"

    def __init__(self, seed: int = 0, config: TTConfig | None = None) -> None:
        super().__init__(seed)
        self.config = config or TTConfig()
        if self.config.env not in ENVIRONMENTS:
            raise ValueError(f"env must be one of {ENVIRONMENTS}, got {self.config.env!r}")
        key, secret = seeded_credentials(seed)
        self.config.app_key = self.config.app_key or key
        self.config.app_secret = self.config.app_secret or secret
        self._initial = copy.deepcopy(self.config)
        first = self.config.app_secret
        self.secrets = CredentialRing("app_secret", lambda g: first if g == 0 else rotated_secret(seed, g))
        self.tokens = TokenStore(seed)
        self.limiter = RateLimiter()
        self.state = TTState(seed, self.ledger)
        self._runner: web.AppRunner | None = None
        self.app = self._make_app()

    def fault_catalogue(self) -> list[FaultKind]:
        return list(FAULTS)

    def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[make_gateway(self)], client_max_size=4 * 1024 * 1024)
        app.add_routes(TTServices(self).routes())
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._runner, self.port = await start_app(self.app, host, port)
        self.host = host
        self.events.add("started", url=self.url, env=self.config.env)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def on_reset(self) -> None:
        self.config = copy.deepcopy(self._initial)
        self.secrets.reset()
        self.tokens.clear()
        self.limiter.clear()
        self.state = TTState(self.seed, self.ledger)

    def describe(self) -> dict[str, Any]:
        return {
            "env": self.config.env,
            "app_key": self.config.app_key,
            "app_secret": self.config.app_secret,
            "accounts": [a.id for a in self.state.accounts.values()],
        }

    def base_url(self, service: str) -> str:
        return f"{self.url}/{service}/{self.config.env}"

    # -- control-API extras -------------------------------------------------------------------

    def control_routes(self) -> list[Route]:
        return [
            *self.settings_routes(lambda: self.config),
            ("POST", "/tt/fills", self._seed_fills),
            ("GET", "/tt/accounts", self._list_accounts),
            *credential_routes(self, self.secrets, self._sync_secret),
        ]

    def _sync_secret(self) -> None:
        self.config.app_secret = self.secrets.current

    async def _list_accounts(self, request: web.Request) -> web.Response:
        return web.json_response({"accounts": [a.to_json() for a in self.state.accounts.values()]})

    async def _seed_fills(self, request: web.Request) -> web.Response:
        body = await read_json(request)
        if not isinstance(body, dict):
            raise FaultError("body", "must be a JSON object")
        unknown = sorted(set(body) - {"account", "count", "symbol", "start_ns", "step_ns"})
        if unknown:
            raise FaultError(unknown[0], "unknown field")
        count = body.get("count")
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_SEEDED_FILLS:
            raise FaultError("count", f"must be an integer in [1, {MAX_SEEDED_FILLS}]")
        raw_account = body.get("account")
        if raw_account is None:
            account = next(iter(self.state.accounts.values()))
        else:
            found = self.state.find_account(str(raw_account)) if not isinstance(raw_account, bool) else None
            if found is None:
                raise FaultError("account", "is not a known account id")
            account = found
        symbol = body.get("symbol")
        if symbol is not None and (not isinstance(symbol, str) or self.state.instrument_for(symbol) is None):
            raise FaultError("symbol", "is not a known instrument")
        start_ns = body.get("start_ns")
        if start_ns is not None and (
            isinstance(start_ns, bool) or not isinstance(start_ns, int) or start_ns < 0
        ):
            raise FaultError("start_ns", "must be a non-negative integer (epoch ns)")
        step_ns = body.get("step_ns", 1_000_000)
        if isinstance(step_ns, bool) or not isinstance(step_ns, int) or not 1 <= step_ns <= 10**15:
            raise FaultError("step_ns", "must be a positive integer")
        if start_ns is not None and start_ns + count * step_ns >= 2**63:
            raise FaultError("start_ns", "too large")
        made = self.state.seed_fills(account, count, symbol, start_ns, step_ns)
        times = [self.state.fill_times[f.fill_id] for f in made]
        self.events.add("fills_seeded", account=account.id, count=count)
        return web.json_response(
            {
                "account": account.id,
                "count": len(made),
                "first_transact_time": times[0],
                "last_transact_time": times[-1],
                "fill_ids": [f.fill_id for f in made][:1000],
            },
            status=201,
        )
