"""TT's token service: `POST /ttid/{env}/token`, and the bearer tokens it hands out.

Wire format (venues.md §1): a form-encoded body `grant_type=user_app&app_key=KEY:SECRET`, an
`x-api-key: KEY` header; the answer carries `access_token`, `token_type` and
`seconds_until_expiry`. Anything but 200 is an error to the documented clients.

The secret may be rotated (mocks.common.credentials): the previous one still gets tokens during its
grace period. Rotation revokes no token already issued; they live out their lifetime.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web

from ..common.body import read_whole
from ..common.credentials import CURRENT, PREVIOUS, CredentialRing
from .config import TTConfig


@dataclass
class Token:
    value: str
    app_key: str
    expires_at: float  # time.monotonic()

    def live(self, now: float | None = None) -> bool:
        return (time.monotonic() if now is None else now) < self.expires_at


class TokenStore:
    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"tt-tokens-{seed}")
        self._tokens: dict[str, Token] = {}

    def issue(self, app_key: str, ttl_s: float) -> Token:
        now = time.monotonic()
        # Drop dead tokens so a long run does not grow without bound.
        self._tokens = {k: t for k, t in self._tokens.items() if t.live(now)}
        value = "".join(self._rng.choice("0123456789abcdef") for _ in range(64))
        token = Token(value, app_key, now + ttl_s)
        self._tokens[value] = token
        return token

    def lookup(self, value: str) -> Token | None:
        return self._tokens.get(value)

    def expire_all(self) -> int:
        """Expire every live token now (the `early_token_expiry` fault); returns how many."""
        now = time.monotonic()
        live = [t for t in self._tokens.values() if t.live(now)]
        for token in live:
            token.expires_at = now
        return len(live)

    def clear(self) -> None:
        self._tokens.clear()

    def __len__(self) -> int:
        return len(self._tokens)


def _fail(status: int, message: str) -> web.Response:
    return web.json_response({"status": "Failed", "message": message}, status=status)


UNCHECKED: dict[str, Any] = {"credential": None, "generation": None}


async def token_response(
    request: web.Request, config: TTConfig, store: TokenStore, secrets: CredentialRing
) -> tuple[web.Response, dict[str, Any]]:
    """Serve one token request; the x-api-key header was already checked by the gateway. Also which
    generation of the secret it presented, for the `token_request` event: `credential` (current,
    previous, revoked, wrong) and `generation`, both None when the request failed before its secret
    was looked at."""
    ctype = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        return _fail(400, "Content-Type must be application/x-www-form-urlencoded"), UNCHECKED
    raw = await read_whole(request)
    try:
        form = parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        return _fail(400, "body is not a valid form"), UNCHECKED
    grant = form.get("grant_type", [""])
    if grant != ["user_app"]:
        return _fail(400, "grant_type must be user_app"), UNCHECKED
    app_key = form.get("app_key", [""])
    if len(app_key) != 1 or ":" not in app_key[0]:
        return _fail(400, "app_key must be KEY:SECRET"), UNCHECKED
    key, _, secret = app_key[0].partition(":")
    if key != request.headers.get("x-api-key", "") or key != config.app_key:
        return _fail(403, "app_key does not match x-api-key"), UNCHECKED
    label, generation = secrets.classify(secret)
    presented = {"credential": label, "generation": generation}
    if label not in (CURRENT, PREVIOUS):  # a revoked secret is refused exactly like a wrong one
        return _fail(401, "invalid app secret"), presented
    token = store.issue(key, config.token_ttl_s)
    body = {
        "status": "Ok",
        "access_token": token.value,
        "token_type": "bearer",
        "seconds_until_expiry": max(1, math.ceil(config.token_ttl_s)),
    }
    return web.json_response(body), presented
