"""MetaTrader 5 Manager Web API through httpx: the handshake, one keep-alive session, users and balance.

- The session belongs to the TCP connection its handshake ran on, so the client keeps exactly one
  connection and runs one call at a time. A 403, a `Connection: close` or a dropped connection ends
  the session: the next call does the handshake again first.
- The server must prove it knows the password too (`cli_rand_answer`); one that does not is refused.
- `trade/balance` is not retry-safe (the same call twice books two deals). Every balance operation
  carries a unique comment, and when its outcome is unknown (the connection died after the request
  went out) the client looks the deal up by that comment before it sends the operation again.

The password hash is computed here, not imported from the mock: a client must stand on its own.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import ssl
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

log = logging.getLogger("refmw.mt5")

BALANCE = 2
CREDIT = 3
NOT_FOUND = 13
LOOKBACK_S = 3600  # how far before the first attempt a lost deal is looked for
NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
Amount = Decimal | int | str


class MT5Error(RuntimeError):
    """An MT5 error answer (`code` is the retcode's number) or a transport failure (`code` None)."""

    def __init__(self, message: str, code: int | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class MT5AuthError(MT5Error):
    """The handshake failed: a refused password, or a server that failed its own proof."""


class MT5OutcomeUnknown(MT5Error):
    """The request went out and no answer came back: it may or may not have been executed."""


@dataclass(frozen=True)
class MT5Account:
    login: int
    name: str
    group: str
    leverage: int
    balance: Decimal
    credit: Decimal
    registration: int

    @classmethod
    def from_wire(cls, raw: dict[str, Any]) -> MT5Account:
        return cls(
            int(raw["Login"]),
            str(raw.get("Name", "")),
            str(raw.get("Group", "")),
            int(raw.get("Leverage", 0)),
            Decimal(str(raw.get("Balance", "0"))),
            Decimal(str(raw.get("Credit", "0"))),
            int(raw.get("Registration", 0)),
        )


@dataclass(frozen=True)
class MT5Deal:
    deal: int
    login: int
    action: int
    amount: Decimal
    comment: str
    time: int

    @classmethod
    def from_wire(cls, raw: dict[str, Any]) -> MT5Deal:
        return cls(
            int(raw["Deal"]),
            int(raw["Login"]),
            int(raw["Action"]),
            Decimal(str(raw["Profit"])),
            str(raw.get("Comment", "")),
            int(raw.get("Time", 0)),
        )


@dataclass(frozen=True)
class BalanceOutcome:
    deal: int
    comment: str
    attempts: int  # trade/balance requests sent
    recovered: bool  # the deal was found by its comment after an answer was lost


def password_hash(password: str) -> bytes:
    """MD5(MD5(UTF-16LE password) ‖ "WebAPI"), raw digests throughout (hex ones are refused)."""
    return hashlib.md5(hashlib.md5(password.encode("utf-16-le")).digest() + b"WebAPI").digest()


def retcode_of(body: Any) -> tuple[int, str]:
    """The leading integer of `"<code> <text>"`, and the whole string."""
    raw = str(body.get("retcode", "")) if isinstance(body, dict) else ""
    head = raw.split(" ", 1)[0]
    if not head.isdigit():
        raise MT5Error(f"answer without a retcode: {raw[:80]!r}")
    return int(head), raw


class MT5Client:
    def __init__(
        self,
        url: str,
        login: int,
        password: str,
        *,
        agent: str = "refmw",
        build: int = 4000,
        timeout_s: float = 10.0,
        verify: bool | ssl.SSLContext = True,
        max_attempts: int = 3,
        settle_s: float = 0.5,
    ) -> None:
        self.url = url
        self.login = login
        self._hash = password_hash(password)
        self.agent = agent
        self.build = build
        self.timeout_s = timeout_s
        self.verify = verify
        self.max_attempts = max_attempts
        self.settle_s = settle_s  # a lost deal is looked for twice, this far apart, before a retry
        self.http = self._new_http()
        self._authenticated = False
        self._lock = asyncio.Lock()
        self.handshakes = 0
        self.last_error: str | None = None

    def _new_http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.url,
            timeout=self.timeout_s,
            verify=self.verify,
            trust_env=False,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )

    async def close(self) -> None:
        await self.http.aclose()

    # ------------------------------------------------------------------ handshake
    async def _handshake(self) -> None:
        self._authenticated = False
        start = await self._answer(
            "GET",
            "/api/auth/start",
            {"version": self.build, "agent": self.agent, "login": self.login, "type": "manager"},
        )
        try:
            srv_rand = bytes.fromhex(str(start["srv_rand"]))
        except (KeyError, ValueError) as exc:
            raise MT5AuthError("auth/start answered no usable srv_rand") from exc
        cli_rand = os.urandom(16)
        client_proof = hashlib.md5(self._hash + srv_rand).hexdigest()
        done = await self._answer(
            "GET", "/api/auth/answer", {"srv_rand_answer": client_proof, "cli_rand": cli_rand.hex()}
        )
        expected = hashlib.md5(self._hash + cli_rand).hexdigest()
        if not hmac.compare_digest(str(done.get("cli_rand_answer", "")).lower(), expected):
            # Whoever answered does not know the password: drop the connection, use nothing from it.
            await self.http.aclose()
            self.http = self._new_http()
            self.last_error = "the server failed its proof (cli_rand_answer)"
            raise MT5AuthError("the server failed its proof (cli_rand_answer): refusing it")
        self._authenticated = True
        self.handshakes += 1

    async def _answer(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        """One handshake request; any failure is an MT5AuthError (or MT5Error when unreachable)."""
        try:
            response = await self.http.request(method, path, params=params)
        except httpx.TransportError as exc:
            self.last_error = f"{type(exc).__name__} on {path}"
            raise MT5Error(f"MT5 unreachable during the handshake: {type(exc).__name__}") from exc
        try:
            return self._parse(response, path)
        except MT5Error as exc:
            raise MT5AuthError(str(exc), exc.code, exc.status) from exc

    # ------------------------------------------------------------------ requests
    def _parse(self, response: httpx.Response, path: str) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError as exc:
            raise MT5Error(f"malformed JSON from {path}", status=response.status_code) from exc
        code, text = retcode_of(body)
        if code != 0 or response.status_code != 200:
            raise MT5Error(f"{path}: {text} (HTTP {response.status_code})", code, response.status_code)
        assert isinstance(body, dict)
        return body

    async def _request(
        self, path: str, params: dict[str, Any] | None = None, body: Any = None, *, safe: bool
    ) -> dict[str, Any]:
        """One call on the session, with the handshake (again) as needed. Hold the lock.

        A 403 or a request that never left is repeated once after a new handshake; a request that
        may have been executed is repeated only when `safe` (a read, or an update to fixed values).
        """
        for attempt in (1, 2):
            if not self._authenticated:
                await self._handshake()
            method = "POST" if body is not None else "GET"
            try:
                response = await self.http.request(method, path, params=params, json=body)
            except httpx.TransportError as exc:
                self._authenticated = False
                self.last_error = f"{type(exc).__name__} on {path}"
                if attempt == 1 and (safe or isinstance(exc, NEVER_SENT)):
                    continue
                if isinstance(exc, NEVER_SENT):
                    raise MT5Error(f"MT5 unreachable: {type(exc).__name__}") from exc
                raise MT5OutcomeUnknown(f"{path}: no answer ({type(exc).__name__})") from exc
            if response.headers.get("connection", "").lower() == "close":
                self._authenticated = False  # the server closes this connection, and the session with it
            if response.status_code == 403 and attempt == 1:
                self._authenticated = False  # session lost; a second 403 after a handshake is the rights
                continue
            parsed = self._parse(response, path)
            self.last_error = None
            return parsed
        raise AssertionError("unreachable")

    async def call(
        self, path: str, params: dict[str, Any] | None = None, body: Any = None, *, safe: bool = True
    ) -> dict[str, Any]:
        async with self._lock:
            return await self._request(path, params, body, safe=safe)

    async def ping(self) -> None:
        """`test/access`: keeps the session's connection alive (MT5 clients ping about every 20 s)."""
        await self.call("/api/test/access")

    # ------------------------------------------------------------------ users
    async def user_get(self, login: int) -> MT5Account | None:
        try:
            body = await self.call("/api/user/get", {"login": login})
        except MT5Error as exc:
            if exc.code == NOT_FOUND:
                return None
            raise
        return MT5Account.from_wire(body["answer"])

    async def user_add(
        self,
        name: str,
        group: str,
        leverage: int,
        password: str,
        *,
        investor_password: str | None = None,
        login: int | None = None,
        **extra: str,
    ) -> MT5Account:
        """Creates a user; not repeated on an unknown outcome (a retry could make a second one)."""
        user: dict[str, Any] = {"Name": name, "Group": group, "Leverage": leverage, "PassMain": password}
        if investor_password is not None:
            user["PassInvestor"] = investor_password
        if login is not None:
            user["Login"] = login
        user.update(extra)
        body = await self.call("/api/user/add", body=user, safe=False)
        return MT5Account.from_wire(body["answer"])

    async def user_update(self, login: int, **fields: Any) -> MT5Account:
        body = await self.call("/api/user/update", body={"Login": login, **fields})
        return MT5Account.from_wire(body["answer"])

    # ------------------------------------------------------------------ deals
    async def deals(self, login: int, since: int = 0, until: int | None = None) -> list[MT5Deal]:
        until = until if until is not None else int(time.time()) + 86_400
        params = {"login": login, "from": since, "to": until}
        body = await self.call("/api/deal/get_batch", params)
        return [MT5Deal.from_wire(d) for d in body.get("answer", [])]

    async def deposit(self, login: int, amount: Amount, comment: str | None = None) -> BalanceOutcome:
        return await self.balance(login, abs(Decimal(amount)), BALANCE, comment)

    async def withdraw(self, login: int, amount: Amount, comment: str | None = None) -> BalanceOutcome:
        return await self.balance(login, -abs(Decimal(amount)), BALANCE, comment)

    async def credit(self, login: int, amount: Amount, comment: str | None = None) -> BalanceOutcome:
        """Credit in (positive) or out (negative)."""
        return await self.balance(login, Decimal(amount), CREDIT, comment)

    async def balance(
        self, login: int, amount: Decimal, kind: int, comment: str | None = None
    ) -> BalanceOutcome:
        """One balance or credit deal, booked once however often the answer is lost.

        `comment` must be unique to this operation (one is made up when none is given): it is how the
        deal is found again when the outcome is unknown.
        """
        comment = comment or f"refmw-{uuid.uuid4().hex[:16]}"
        params = {"login": login, "type": kind, "balance": f"{Decimal(amount):f}", "comment": comment}
        since = int(time.time()) - LOOKBACK_S
        async with self._lock:
            for attempt in range(1, self.max_attempts + 1):
                try:
                    body = await self._request("/api/trade/balance", params, safe=False)
                    return BalanceOutcome(int(body["answer"]["ticket"]), comment, attempt, False)
                except MT5OutcomeUnknown:
                    log.warning("trade/balance for %s: answer lost, looking the deal up by comment", login)
                try:
                    found = await self._find_deal(login, comment, since)
                except MT5Error as exc:
                    lookup = f"trade/balance for {login}: answer lost, lookup failed: {exc}"
                    raise MT5OutcomeUnknown(lookup) from exc
                if found is not None:
                    return BalanceOutcome(found.deal, comment, attempt, True)
            raise MT5OutcomeUnknown(f"trade/balance for {login}: no answer in {self.max_attempts} attempts")

    async def _find_deal(self, login: int, comment: str, since: int) -> MT5Deal | None:
        """The deal with this comment, looked for now and once more after `settle_s`. Hold the lock."""
        for look in (1, 2):
            if look == 2:
                await asyncio.sleep(self.settle_s)
            params = {"login": login, "from": since, "to": int(time.time()) + 86_400}
            body = await self._request("/api/deal/get_batch", params, safe=True)
            for raw in body.get("answer", []):
                if raw.get("Comment") == comment:
                    return MT5Deal.from_wire(raw)
        return None
