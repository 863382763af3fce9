"""Who is calling: the admin key, trader API keys (stored only as SHA-256 hashes), and roles.

A trader key belongs to one account and sees only that account's orders, positions and P&L; the
admin key sees every account. The secret of a trader key is shown once, when it is issued: only its
hash is kept, so a copy of the database gives no working credential. Lookups are cached briefly
in memory, and a revoke through this service evicts its entry at once (another instance of the
service may accept a revoked key for at most CACHE_S).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import HTTPConnection

from .config import Config

ADMIN = "admin"
TRADER = "trader"
ADMIN_KEY_ID = "admin"  # the admin key's rate-limit bucket; no trader key_id can take this name
CACHE_S = 2.0
CACHE_MAX = 10_000  # entries; the cache is dropped whole past this (a flood of unknown keys)
SCOPE_KEY = "refmw.principal"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: `account` is the one account a trader key may use (None: admin)."""

    role: str
    key_id: str
    account: str | None = None

    @property
    def admin(self) -> bool:
        return self.role == ADMIN

    def owns(self, account_id: object) -> bool:
        return self.admin or (isinstance(account_id, str) and account_id == self.account)


ADMIN_PRINCIPAL = Principal(ADMIN, ADMIN_KEY_ID)


def principal(conn: HTTPConnection) -> Principal:
    """The caller the guard authenticated. A route reached without the guard fails closed (500)."""
    found = conn.scope.get(SCOPE_KEY)
    if not isinstance(found, Principal):
        raise RuntimeError("no authenticated principal on this request")
    return found


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of `Authorization: Bearer <token>`, or None when absent or malformed."""
    scheme, _, token = (headers.get("authorization") or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    return token


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def is_admin_key(cfg: Config, token: str) -> bool:
    return cfg.auth_on and hmac.compare_digest(token.encode(), cfg.admin_key.encode())


@dataclass(frozen=True)
class _Entry:
    principal: Principal | None  # None: no such key (cached too, so a flood of guesses stays cheap)
    expires_at: float | None  # epoch seconds
    cached_at: float


class KeyStore:
    """Trader keys in the api_keys table (migration 5). `accept_revoked` is the
    revoked_keys_accepted mutant: a revoked key still authenticates (an expired one does not)."""

    def __init__(self, pool: Any, *, accept_revoked: bool = False) -> None:
        self.pool = pool
        self.accept_revoked = accept_revoked
        self._cache: dict[str, _Entry] = {}

    async def lookup(self, key: str) -> Principal | None:
        """The key's principal, or None when it is unknown, revoked or expired."""
        digest = key_hash(key)
        now = time.monotonic()
        entry = self._cache.get(digest)
        if entry is None or now - entry.cached_at > CACHE_S:
            entry = await self._load(digest, now)
            if len(self._cache) >= CACHE_MAX:
                self._cache.clear()
            self._cache[digest] = entry
        if entry.principal is None:
            return None
        if entry.expires_at is not None and time.time() >= entry.expires_at:
            return None
        return entry.principal

    async def _load(self, digest: str, now: float) -> _Entry:
        revoked = "" if self.accept_revoked else " AND revoked_at IS NULL"
        row = await self.pool.fetchrow(
            f"SELECT id, account_id, expires_at FROM api_keys WHERE key_hash = $1{revoked}", digest
        )
        if row is None:
            return _Entry(None, None, now)
        expires = row["expires_at"].timestamp() if row["expires_at"] is not None else None
        return _Entry(Principal(TRADER, row["id"], row["account_id"]), expires, now)

    async def issue(self, account: str, ttl_s: float | None) -> dict[str, Any] | None:
        """A new key for `account` (None: no such account). The answer is the only place the
        secret ever appears."""
        key = secrets.token_urlsafe(32)
        key_id = "key_" + secrets.token_hex(8)
        expires = None
        if ttl_s is not None:
            expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=ttl_s)
        async with self.pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval("SELECT 1 FROM accounts WHERE id = $1", account):
                return None
            await conn.execute(
                "INSERT INTO api_keys (id, key_hash, account_id, expires_at) VALUES ($1, $2, $3, $4)",
                key_id,
                key_hash(key),
                account,
                expires,
            )
            await conn.execute(
                "INSERT INTO txlog(kind, detail) VALUES ('api_key_issued', jsonb_build_object("
                "'key_id', $1::text, 'account', $2::text))",
                key_id,
                account,
            )
        return {
            "key_id": key_id,
            "key": key,
            "account": account,
            "expires_at": expires.isoformat() if expires is not None else None,
        }

    async def revoke(self, key_id: str) -> bool:
        """Revoked at once here: the cached entry goes with it. False: no such key."""
        async with self.pool.acquire() as conn, conn.transaction():
            digest = await conn.fetchval(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 "
                "RETURNING key_hash",
                key_id,
            )
            if digest is None:
                return False
            await conn.execute(
                "INSERT INTO txlog(kind, detail) VALUES ('api_key_revoked', "
                "jsonb_build_object('key_id', $1::text))",
                key_id,
            )
        self._cache.pop(digest, None)
        return True
