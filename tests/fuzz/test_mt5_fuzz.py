"""The MT5 mock's request parsing under 10,000 malformed requests, in-process, and a few hundred live.

The Manager Web API takes its parameters in the query string (user/add and user/update also in a JSON
body), and its session belongs to the keep-alive connection the handshake ran on. So every request
here rides a connection whose state is known: `anon` (no session on it: a fresh connection) or
`authed` (a valid handshake ran on that very connection just before). Each request starts from one a
documented client would send and is broken a little: query values that are almost logins, integers or
money (huge, signed, unicode digits, NaN, rounding to nothing), comments with injection payloads, names
dropped, repeated or re-cased, broken percent-escapes, JSON bodies with wrong types and deep nesting,
auth/answer proofs and rands that are truncated, re-cased, not hex or computed with the wrong password,
unknown paths, wrong methods, bodies over the 64 KiB limit, request lines over aiohttp's 8 KiB.

What the mock must answer (gateway.py, fields.py, retcodes.py): never a 5xx and never an ERROR record;
a JSON body whose `retcode` is "<code> <text>" with a known code, with the documented HTTP status
(200, or 400/403/404/405/413), or aiohttp's own 400 text for a request line it cannot read. Before the
handshake nothing but the handshake, 404 and 405 gets past 403 `8 Not authenticated`; after it, a
request on the same connection is never refused as unauthenticated. The ledger stays whole: every
user's Balance and Credit equal the sums of its deals, and only a trade/balance answered `0 Done` books
one (a HEAD, which aiohttp would route to the GET handler, is refused 405 and changes nothing). A
bystander manager on its own connection keeps its session and is served throughout.

The live test sends a few hundred of the same requests over real sockets, a connection each (after a
handshake on it for `authed` ones), half of them intact and checked as above, half byte-mutated as whole
HTTP messages, headers included, while the bystander keeps its session and is served.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from aiohttp.test_utils import TestServer
from hypothesis import example, given

from mocks.mt5 import (
    BALANCE,
    CREDIT,
    DEFAULT_MANAGER,
    DEFAULT_PASSWORD,
    TEXTS,
    MT5Config,
    MT5Ledger,
    MT5Mock,
    password_hash,
    proof,
    retcode,
)
from mocks.mt5.retcodes import NOT_AUTHENTICATED
from tests.mocks.venue_thread import VenueThread

from . import gen as st
from .gen import seeded
from .mutate import (
    FUZZ,
    LIVE,
    MIN_EXAMPLES,
    QUERY_SAFE,
    Tally,
    apply_ops,
    bind_body,
    byte_ops,
    deep,
    encode_query,
    error_records,
    event_loop,
    mostly_valid,
    mutated_json,
    mutated_query,
    query_pairs,
)

pytestmark = pytest.mark.fuzz

LOGGERS = ("aiohttp.server", "aiohttp.web", "aiohttp.access", "mocks.mt5", "mocks.common", "asyncio")
BYSTANDER, BYSTANDER_PASSWORD = 1001, "Bystander#1001"
UNKNOWN_MANAGER = 4242
# The HTTP status each retcode may travel with (README, "Retcodes and HTTP statuses"); 8 at 200 only
# through the retcode_error fault, which this suite does not arm.
CODES_BY_STATUS = {200: set(TEXTS) - {8}, 400: {3}, 403: {8}, 404: {13}, 405: {3}, 413: {3}}
RETCODE = re.compile(r"(\d+) (\S.*)")
HEX32 = re.compile(r"[0-9a-f]{32}")


def config() -> MT5Config:
    return MT5Config(managers={DEFAULT_MANAGER: DEFAULT_PASSWORD, BYSTANDER: BYSTANDER_PASSWORD})


# -- a keep-alive connection whose identity is known ---------------------------------------------------
@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes
    closes: bool  # the server ends the connection after this answer


class Wire:
    """One keep-alive HTTP/1.1 connection, as a manager client holds it: its session lives and dies with it.

    A client of its own, because the suite must know which connection a request rode (aiohttp's client
    pools them and hides it) and send query strings exactly as written. `opened` counts connections,
    so a request that went on the handshake's connection can be told from one that did not.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.opened = 0
        self.peer = ""  # this end's address as the server sees it, "host:port"

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(ConnectionError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def send(self, data: bytes, head_only: bool = False) -> Reply | None:
        """Write one request's bytes and read one answer; None when the server closed without one."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.opened += 1
            host, port = self.writer.get_extra_info("sockname")[:2]
            self.peer = f"{host}:{port}"
        assert self.reader is not None
        if not data:
            return None  # only opened
        try:
            self.writer.write(data)
            await self.writer.drain()
            reply = await asyncio.wait_for(_read_reply(self.reader, head_only), 10)
        except (asyncio.IncompleteReadError, ConnectionError):
            reply = None
        if reply is None or reply.closes:
            await self.close()
        return reply

    async def finish(self, data: bytes, head_only: bool = False, quiet: float = 0.02) -> Reply | None:
        """Write the last bytes this connection carries and read the first answer; then close it.

        For a byte-mutated message the server may wait for a body its Content-Length promised: after
        `quiet` seconds without an answer the client half-closes and reads on to EOF (aiohttp then
        closes without answering). Only then: a half-close at once would drop answers still being made.
        """
        if self.writer is None:
            await self.send(b"")
        assert self.reader is not None and self.writer is not None
        buf, half_closed = b"", False
        try:
            self.writer.write(data)
            await self.writer.drain()
            while not _whole(buf, head_only):
                try:
                    chunk = await asyncio.wait_for(self.reader.read(65536), 10 if half_closed else quiet)
                except TimeoutError:
                    assert not half_closed, f"no answer and no close 10 s after a half-close: {data[:300]!r}"
                    self.writer.write_eof()
                    half_closed = True
                    continue
                if not chunk:
                    break
                buf += chunk
        except ConnectionError:
            pass  # reset: aiohttp drops a connection whose request line it cannot read
        await self.close()
        if not buf:
            return None
        reader = asyncio.StreamReader()
        reader.feed_data(buf)
        reader.feed_eof()
        return await _read_reply(reader, head_only)

    async def request(
        self, method: str, target: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> Reply:
        reply = await self.send(wire_request(method, target, body, headers), head_only=method == "HEAD")
        assert reply is not None, f"no answer to {method} {target[:300]}"
        return reply

    async def call(self, path: str, **params: Any) -> dict[str, Any]:
        """A well-formed GET; its answer's JSON."""
        reply = await self.request("GET", f"{path}?{encode_query([(k, str(v)) for k, v in params.items()])}")
        assert reply.status == 200, (reply.status, reply.body[:300])
        payload: dict[str, Any] = json.loads(reply.body)
        return payload

    async def handshake(self, login: int = DEFAULT_MANAGER, password: str = DEFAULT_PASSWORD) -> None:
        started = await self.call("/api/auth/start", version=4000, agent="fuzz", login=login, type="manager")
        assert started["retcode"] == "0 Done", started
        hashed = password_hash(password)
        cli_rand = bytes(range(16))
        srv_proof = proof(hashed, bytes.fromhex(started["srv_rand"]))
        answered = await self.call("/api/auth/answer", srv_rand_answer=srv_proof, cli_rand=cli_rand.hex())
        assert answered == {"retcode": "0 Done", "cli_rand_answer": proof(hashed, cli_rand)}, answered


def wire_request(method: str, target: str, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: mt5.fuzz"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _whole(buf: bytes, head_only: bool) -> bool:
    """Whether `buf` holds a whole answer (a head, and the body its Content-Length promises)."""
    head, sep, body = buf.partition(b"\r\n\r\n")
    if not sep:
        return False
    found = re.search(rb"\r\ncontent-length: *(\d+)", head, re.I)
    return head_only or (found is not None and len(body) >= int(found[1]))


async def _read_reply(reader: asyncio.StreamReader, head_only: bool) -> Reply | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        assert not exc.partial, exc.partial[:300]  # a half-written answer
        return None
    status_line, *lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
    match = re.fullmatch(r"HTTP/(1\.1|1\.0|0\.9) (\d{3}) .*", status_line)  # 0.9: a request line without one
    assert match, status_line
    headers = {k.lower(): v for k, _, v in (line.partition(": ") for line in lines)}
    length = headers.get("content-length")
    if head_only:
        body = b""
    elif length is None:
        body = await reader.read()
    else:
        body = await reader.readexactly(int(length))
    closes = match[1] != "1.1" or headers.get("connection", "").lower() == "close" or length is None
    return Reply(int(match[2]), headers, body, closes)


# -- strategies -------------------------------------------------------------------------------------
# Values a documented client sends, then the nearly valid: {user}, {deal} … are bound when it is sent.
LOGINS = mostly_valid(["{user}"], [
    "{new}", "0", "-1", "1", "500000.0", "5e5", " {user}", "{user} ", "0{user}", "9" * 19, "9" * 20,
    "9223372036854775807", "9223372036854775808", "٥٠٠٠٠٠", "{user},{user}", "+{user}", "", "{user}\x00",
    "0x7a120",
])  # fmt: skip
LOGIN_LISTS = mostly_valid(["{user}", "{users}"], [
    "{user},", ",{user}", "{user},,{user}", ",", "", " {user} , {user} ", "{user};{user}", "-1,{user}", "0",
    "9" * 20, ",".join(["1"] * 1001), ",".join(["1"] * 1000), "{user}," + "9" * 19,
])  # fmt: skip
AMOUNTS = mostly_valid([
    "100", "100.00", "25.5", "1", "0.01", "-50.25", "-1", "-20000", "0.005", "-0.015", "1e3",
], [
    "0.004", "-0.004", "1E-2", "-1e12", "999999999999.99", "1000000000000", "NaN", "-Infinity", "sNaN",
    "1_000", "٣", " 5 ", "0x10", "5,00", "0", "-0", "1e999999999", "-1E+1000000", "1" * 41, "", "--5",
    "5.", ".5", "1e-999999999", "123456789012.345",
])  # fmt: skip
COMMENTS = mostly_valid([
    "deposit", "fuzz deposit", "uat-{n}", "' OR 1=1 --", "'; DROP TABLE deals; --",
    "<script>alert(1)</script>", "${jndi:ldap://x/a}", "%s%s%n", "é" * 10, "日本語", "x" * 128,
    "\u202egnp.exe", "🙂" * 40, "{{7*7}}", "../../etc/passwd", "a&b=c", "", " ", "\x7f", "\\", '"',
], ["\r\nX-Injected: 1", "a\x00b", "x" * 129, "🙂" * 129, "\t"])  # fmt: skip
TYPES = mostly_valid(["2", "3"], ["0", "1", "4", "-2", "2.0", "02", "100", "101", " 2", "x", "", "٢"])
MARGINS = mostly_valid(["0", "1", "01"], ["2", "-1", "true", ""])
NAMES = mostly_valid(
    ["Ann Trader", "Bob", "é", "x" * 128, "<b>", "'; DROP TABLE users; --", "日本", " a", "\x7f"],
    ["x" * 129, "", " ", "\t", "a\nb"],
)
GROUPS = mostly_valid(["demo\\uat", "real\\vip", "x" * 64, "..\\.."], ["", "x" * 65, "demo\\uat\x00"])
LEVERAGES = mostly_valid(
    ["100", "1", "10000", "0100"], ["10001", "0", "-1", "1.5", "1e2", "", "٣", "1_00", "9" * 20]
)
PASSWORDS = mostly_valid(["Pass#1234", "x" * 64, "é"], ["", " ", "x" * 65])
TIMES = mostly_valid(["0", "1", "{now}", str(2**40)], ["-1", str(2**40 + 1), "x", "", "9" * 25, "1.5", "1e9"])
TICKETS = mostly_valid(
    ["{deal}"], ["0", "-1", "1", "9" * 19, "9" * 20, "{deal}0", "x", "", " {deal}", "{deal}.0"]
)
EMAILS = mostly_valid(["a@b.test", ""], ["x" * 129, "\x00"])
START_LOGINS = mostly_valid([str(DEFAULT_MANAGER), str(UNKNOWN_MANAGER), str(BYSTANDER)],
                   ["0", "-1", "1000.0", "9" * 20, " 1000", "", "1e3", "+1000"])  # fmt: skip
START_TYPES = mostly_valid(["manager"], ["Manager", "MANAGER", "user", "", "manager\x00", " manager"])
VERSIONS = mostly_valid(["4000", "", "x" * 32], ["x" * 33, "\x01"])
AGENTS = mostly_valid(["stack-uat-fuzz", "x" * 64, "é"], ["x" * 65, "\x01"])


USER_FIELDS = {"Name": NAMES, "Group": GROUPS, "Leverage": LEVERAGES, "PassMain": PASSWORDS}
EXTRA = {"PassInvestor": PASSWORDS, "Email": EMAILS, "Country": NAMES, "Comment": COMMENTS, "Phone": NAMES}
VALID: dict[str, st.SearchStrategy[list[tuple[str, str]]]] = {
    "start": query_pairs({"version": VERSIONS, "agent": AGENTS, "login": START_LOGINS, "type": START_TYPES}),
    "answer": query_pairs({"srv_rand_answer": st.just("{proof}"), "cli_rand": st.just("{cli}")}),
    "access": query_pairs({}, {"x": st.just("1"), "login": LOGINS}),
    "user_add": query_pairs(USER_FIELDS, {**EXTRA, "Login": st.one_of(st.just("{new}"), LOGINS)}),
    "user_get": query_pairs({"login": LOGINS}),
    "user_update": query_pairs(
        {"Login": LOGINS},
        {
            **USER_FIELDS,
            **EXTRA,
            "Balance": st.just("1000000"),
            "Credit": st.just("5"),
            "Registration": st.just("0"),
        },
    ),
    "balance": query_pairs(
        {"login": LOGINS, "type": TYPES, "balance": AMOUNTS}, {"comment": COMMENTS, "check_margin": MARGINS}
    ),
    "deal_get": query_pairs({"ticket": TICKETS}),
    "deal_batch": query_pairs({"login": LOGIN_LISTS}, {"from": TIMES, "to": TIMES}),
    "position_batch": query_pairs({"login": LOGIN_LISTS}),
}
PATHS = {"start": "/api/auth/start", "answer": "/api/auth/answer", "access": "/api/test/access",
         "user_add": "/api/user/add", "user_get": "/api/user/get", "user_update": "/api/user/update",
         "balance": "/api/trade/balance", "deal_get": "/api/deal/get", "deal_batch": "/api/deal/get_batch",
         "position_batch": "/api/position/get_batch"}  # fmt: skip
pool = st.sampled_from
# user/add and user/update bodies: JSON values of every type, fields under any spelling.
json_user = st.fixed_dictionaries(
    {
        "Name": pool(["Ann Trader", "Ann Trader", "é", 7, None]),
        "Group": pool(["demo\\uat", "demo\\uat", ["demo"]]),
        "Leverage": pool([100, "100", 100.0, 1e300, True]),
        "PassMain": pool(["Pass#1234", "Pass#1234", 1234]),
    },
    optional={
        "Login": pool(["{new}", "{user}", 500000.5, -1, 2**64, "{new}"]),
        "pass_main": pool(["p"]),
        "EMAIL": pool(["a@b.test"]),
        "Balance": pool([1e6, "1000000"]),
        "Comment": COMMENTS,
    },
)
json_update = json_user.map(lambda d: {"Login": "{user}", **{k: v for k, v in d.items() if k != "Login"}})
CONTENT_TYPES = [None, "application/json", "application/x-www-form-urlencoded", "text/plain",
                 "application/json; charset=utf-16", "multipart/form-data; boundary=x"]  # fmt: skip
PROOFS = ["good"] * 9 + ["upper", "wrong", "wrong", "stale", "stale", "short", "long", "nonhex", "space",
                         "empty", "unicode"]  # fmt: skip
CLI_RANDS = ["good"] * 12 + ["upper", "short", "long", "nonhex", "empty", "space"]
ODD_PATHS = ["/api/", "/", "/API/user/get", "/api/user/get/", "/api/user/get/..", "/api/user//get",
             "/api/user", "/api/x%00", "/api/auth/", "/api/auth/begin", "/api/trade/balance/x",
             "/api/deal/get_batchx", "/%2e%2e/api/user/get", "/api/user/get%00", "/api/auth/start/..",
             "/api/%ff", "/api/user/%2e%2e", "/api/test/access;x", "/api/user/get?", "/" + "a" * 9000,
             "/api/user/get#frag"]  # fmt: skip
HTTP_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE")
BAD_METHODS = ["PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "HEAD", "TRACE", "FOO", "get", "POSTX"]
BIG: list[tuple[str, str, str, bytes]] = [
    ("POST", "/api/user/add", "", b'{"Name": "' + b"x" * (64 * 1024) + b'"}'),
    ("POST", "/api/user/update", "Login={user}", b'{"Name": "' + b"x" * (200 * 1024) + b'"}'),
    ("POST", "/api/user/add", "", b"[" * 70_000),
    ("POST", "/api/user/add", "", deep("[", 12000)),
    ("POST", "/api/user/add", "", deep('{"a":', 12000)),
    ("POST", "/api/user/update", "Login={user}", deep('{"Name":', 3000)),
    ("POST", "/api/user/add", "", b'{"Name": ' + b"9" * 5000 + b"}"),
    ("POST", "/api/trade/balance", "login={user}&type=2&balance=1", b'{"comment": "x"}' * 4000),
    ("GET", "/api/user/get", "login=" + "9" * 9000, b""),
    ("GET", "/api/trade/balance", "login={user}&type=2&balance=1&comment=" + "x" * 8000, b""),
    ("GET", "/api/deal/get_batch", "x=1&" * 1500 + "login={user}", b""),
    ("GET", "/api/deal/get_batch", "login=" + ",".join(["{user}"] * 900), b""),
]


class Call:
    """One request, as data: placeholders ({user}, {deal}, {new}, {proof} …) are bound when it is sent.

    `phase` is the state of the connection it rides: "anon", no session on it; "authed", a valid
    handshake ran on it. auth/answer calls also say how the proof and cli_rand are spoiled, which
    manager their auth/start names (None: no auth/start first) and the byte edits of the final query.
    """

    def __init__(
        self,
        kind: str,
        phase: str,
        method: str,
        path: str,
        query: str,
        body: bytes = b"",
        content_type: str | None = None,
        pick: int = 0,
        proof: str = "good",
        cli: str = "good",
        start_as: int | None = DEFAULT_MANAGER,
        ops: list[tuple[Any, ...]] | None = None,
    ) -> None:
        self.kind, self.phase, self.method, self.path, self.query = kind, phase, method, path, query
        self.body, self.content_type, self.pick = body, content_type, pick
        self.proof, self.cli, self.start_as, self.ops = proof, cli, start_as, ops or []

    def __repr__(self) -> str:
        return (
            f"Call({self.kind}/{self.phase} {self.method} {self.path}?{self.query[:300]}"
            f" ct={self.content_type} pick={self.pick} proof={self.proof} cli={self.cli}"
            f" start_as={self.start_as} ops={self.ops} body={self.body[:200]!r})"
        )


class S:
    """The request's parts, built once (building strategies inside the composite is the slow part)."""

    kind = pool(["start"] * 3 + ["answer"] * 4 + ["access"] + ["user_add"] * 5 + ["user_get"] * 3
                + ["user_update"] * 4 + ["balance"] * 9 + ["deal_get"] * 2 + ["deal_batch"] * 3
                + ["position_batch"] + ["path"] * 2 + ["method"] * 2 + ["big"])  # fmt: skip
    phase = pool(["authed"] * 3 + ["anon"])
    query = {
        k: st.one_of(v.map(encode_query), v.map(encode_query), mutated_query(v)) for k, v in VALID.items()
    }
    body_mode = pool(["query", "query", "body", "body", "both", "get_body"])
    user_body = mutated_json(json_user)
    update_body = mutated_json(json_update)
    intact_body = st.one_of(json_user, json_update).map(lambda d: json.dumps(d).encode())
    content_type = pool(CONTENT_TYPES)
    pick = st.integers(0, 1 << 16)
    proof = pool(PROOFS)
    cli = pool(CLI_RANDS)
    start_as = pool([DEFAULT_MANAGER] * 8 + [UNKNOWN_MANAGER, UNKNOWN_MANAGER, None])
    ops = st.one_of(st.just([]), st.lists(byte_ops, min_size=1, max_size=2))
    odd_path = pool(ODD_PATHS)
    path_method = pool(["GET", "GET", "POST"])
    bad_method = pool(BAD_METHODS)
    real_path = pool(sorted(PATHS.values()))
    junk = st.binary(max_size=40)
    big = pool(BIG)


@st.composite
def mt5_calls(draw: st.DrawFn) -> Call:
    kind = draw(S.kind)
    phase = draw(S.phase)
    pick = draw(S.pick)
    if kind == "path":
        return Call(kind, phase, draw(S.path_method), draw(S.odd_path), draw(S.query["access"]), draw(S.junk))
    if kind == "method":
        return Call(
            kind, phase, draw(S.bad_method), draw(S.real_path), draw(S.query["user_get"]), draw(S.junk)
        )
    if kind == "big":
        method, path, query, body = draw(S.big)
        return Call(kind, phase, method, path, query, body, "application/json", pick)
    query = draw(S.query[kind])
    if kind == "answer":
        return Call(kind, phase, "GET", PATHS[kind], query, pick=pick, proof=draw(S.proof), cli=draw(S.cli),
                    start_as=draw(S.start_as), ops=draw(S.ops))  # fmt: skip
    if kind in ("user_add", "user_update"):
        mode = draw(S.body_mode)
        if mode != "query":
            body = (
                draw(S.intact_body)
                if mode == "both"
                else draw(S.user_body if kind == "user_add" else S.update_body)
            )
            query = "" if mode == "body" else query
            method = "GET" if mode == "get_body" else "POST"  # a GET's body is not read
            return Call(kind, phase, method, PATHS[kind], query, body, draw(S.content_type), pick)
    return Call(kind, phase, draw(S.path_method), PATHS[kind], query, pick=pick)


CALLS = mt5_calls()


def balance_call(query: str, phase: str = "authed", method: str = "GET") -> Call:
    return Call("balance", phase, method, PATHS["balance"], query)


def body_call(kind: str, body: bytes) -> Call:
    return Call(kind, "authed", "POST", PATHS[kind], "Login={user}" if kind == "user_update" else "", body)


# -- binding placeholders and checking answers ------------------------------------------------------
class Binder:
    """Placeholders to values of the running mock: an existing user or deal, a login no one has yet."""

    def __init__(self, ledger: MT5Ledger) -> None:
        self.ledger = ledger
        self.fresh = itertools.count(700_000)
        self.n = itertools.count()

    def __call__(self, text: str, pick: int) -> str:
        users = sorted(self.ledger.users)
        values = {
            "user": str(users[pick % len(users)]),
            "users": ",".join(str(users[(pick + i) % len(users)]) for i in range(3)),
            "deal": str(self.ledger.deals[pick % len(self.ledger.deals)].deal),
            "now": str(int(time.time())),
        }
        for name, value in values.items():
            text = text.replace("{" + name + "}", value).replace("%7B" + name + "%7D", value)
        for token in ("{new}", "%7Bnew%7D"):
            while token in text:
                text = text.replace(token, str(next(self.fresh)), 1)
        return text.replace("{n}", str(next(self.n))).replace("%7Bn%7D", str(next(self.n)))


def spoil_proof(good: str, mode: str, wrong: str, stale: str) -> str:
    return {
        "good": good, "upper": good.upper(), "wrong": wrong, "stale": stale, "short": good[:-1],
        "long": good + "0", "nonhex": "g" + good[1:], "space": " " + good[1:], "empty": "",
        "unicode": "０" + good[1:],  # a fullwidth digit: \d would take it, [0-9] must not
    }[mode]  # fmt: skip


def strings_only(value: Any) -> bool:
    """Every value in an MT5 answer is a string (README: "Every value in an answer is a string")."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and strings_only(v) for k, v in value.items())
    if isinstance(value, list):
        return all(strings_only(v) for v in value)
    return isinstance(value, str)


def check_answer(call: Call, target: str, reply: Reply) -> tuple[str, int | None, dict[str, Any]]:
    """The shape every answer must have: (a label for the tally, the retcode's code, the JSON)."""
    status, body = reply.status, reply.body
    assert status in CODES_BY_STATUS, (status, body[:300], call)
    ctype = reply.headers.get("content-type", "")
    if status == 400 and not ctype.startswith("application/json"):  # aiohttp's HTTP parser: no route ran
        if call.method in HTTP_METHODS:
            assert len(target) > 8000 and body.startswith(b"Got more than 8190 bytes"), (body[:300], call)
        else:  # llhttp's own words: "Invalid method encountered", "Expected space after method" …
            assert ctype.startswith("text/plain") and b"method" in body, (body[:300], call)
        return "400-http", None, {}
    if call.method == "HEAD":  # the status a GET would get, no body
        assert not body, body[:300]
        return f"head-{status}", None, {}
    assert ctype.startswith("application/json"), (ctype, body[:300], call)
    payload = json.loads(body)
    assert isinstance(payload, dict) and strings_only(payload), (payload, call)
    text = payload["retcode"]
    match = RETCODE.fullmatch(text)
    assert match, (text, call)
    code = int(match[1])
    assert code in CODES_BY_STATUS[status], (status, text, call)
    assert text == retcode(code) or text == NOT_AUTHENTICATED, (text, call)
    if code != 0:
        assert set(payload) == {"retcode"}, payload
    if status == 403:
        return ("403-auth" if text == NOT_AUTHENTICATED else "403-rights"), code, payload
    return (str(code) if status == 200 else f"{status}-{code}"), code, payload


def check_done(call: Call, path: str, payload: dict[str, Any]) -> None:
    """What a `0 Done` carries, per endpoint."""
    answer = payload.get("answer")
    if path == PATHS["start"]:
        assert HEX32.fullmatch(payload["srv_rand"]), payload
    elif path == PATHS["answer"]:
        assert HEX32.fullmatch(payload["cli_rand_answer"]), payload
    elif path in (PATHS["user_add"], PATHS["user_get"], PATHS["user_update"]):
        assert isinstance(answer, dict) and answer["Login"].isdigit() and "Balance" in answer, payload
    elif path == PATHS["balance"]:
        assert isinstance(answer, dict) and answer["ticket"].isdigit(), payload
    elif path == PATHS["deal_get"]:
        assert isinstance(answer, dict) and answer["Deal"].isdigit(), payload
    elif path in (PATHS["deal_batch"], PATHS["position_batch"]):
        assert isinstance(answer, list), payload
    else:
        assert path == PATHS["access"] and set(payload) == {"retcode"}, payload


class Books:
    """The suite's own sums of every user's deals, kept from the ledger's deal list as it grows."""

    def __init__(self, ledger: MT5Ledger) -> None:
        self.ledger = ledger
        self.seen = 0
        self.sums: dict[tuple[int, int], Decimal] = {}
        self.catch_up()

    def catch_up(self) -> list[Any]:
        new = self.ledger.deals[self.seen :]
        for deal in new:
            assert deal.action in (BALANCE, CREDIT) and deal.login in self.ledger.users, deal
            key = (deal.login, deal.action)
            self.sums[key] = self.sums.get(key, Decimal(0)) + deal.amount
        self.seen = len(self.ledger.deals)
        return new

    def check(self, logins: Any = None) -> None:
        for login in self.ledger.users if logins is None else logins:
            user = self.ledger.users[login]
            assert user.balance == self.sums.get((login, BALANCE), 0), (login, user.balance)
            assert user.credit == self.sums.get((login, CREDIT), 0), (login, user.credit)
            assert user.balance >= 0 and user.credit >= 0, (login, user.balance, user.credit)
        tickets = [d.deal for d in self.ledger.deals]
        assert tickets == sorted(set(tickets)), "deal tickets must be unique and increasing"


# -- the in-process suite ---------------------------------------------------------------------------
def test_mt5_parsers_survive_10k_malformed_requests() -> None:
    with event_loop() as loop, error_records(*LOGGERS) as errors:
        venue = MT5Mock(seed=9, config=config())
        server = TestServer(venue.app)
        loop.run_until_complete(server.start_server())
        assert server.port is not None
        wires = {phase: Wire("127.0.0.1", server.port) for phase in ("anon", "authed", "bystander")}
        try:
            _in_process(loop, venue, wires, errors)
        finally:
            for wire in wires.values():
                loop.run_until_complete(wire.close())
            loop.run_until_complete(server.close())


def _authenticated(venue: MT5Mock, wire: Wire) -> bool:
    return wire.writer is not None and any(
        s.peer == wire.peer and s.authenticated for s in venue.sessions.live()
    )


def _in_process(loop: asyncio.AbstractEventLoop, venue: MT5Mock, wires: dict[str, Wire], errors: Any) -> None:
    tally, phases = Tally(), Tally()
    ledger = venue.ledger
    bind = Binder(ledger)
    books = Books(ledger)
    hashed = password_hash(DEFAULT_PASSWORD)
    bystander = wires["bystander"]
    bystander_login = min(ledger.users)

    def run(coro: Any) -> Any:
        return loop.run_until_complete(coro)

    async def bystander_served(wire: Wire, stamp: str) -> None:
        """test/access, user/get and a deposit found again by its comment, all on the wire's connection."""
        opened = wire.opened
        assert (await wire.call("/api/test/access"))["retcode"] == "0 Done"
        user = await wire.call("/api/user/get", login=bystander_login)
        assert user["retcode"] == "0 Done" and user["answer"]["Login"] == str(bystander_login), user
        comment = f"bystander-{stamp}"
        booked = await wire.call(
            "/api/trade/balance", login=bystander_login, type=BALANCE, balance="1.00", comment=comment
        )
        assert booked["retcode"] == "0 Done", booked
        deals = await wire.call("/api/deal/get_batch", login=bystander_login)
        mine = [d for d in deals["answer"] if d["Comment"] == comment]
        assert [d["Deal"] for d in mine] == [booked["answer"]["ticket"]] and mine[0]["Profit"] == "1.00", mine
        assert wire.opened == opened, "the bystander's connection was closed under it"
        books.catch_up()
        books.check([bystander_login])

    async def answer_query(wire: Wire, call: Call) -> str:
        """auth/start (unless the call skips it), then the call's query with the proofs bound and spoiled."""
        srv_rand = b"\x00" * 16
        if call.start_as is not None:
            started = await wire.call(
                PATHS["start"], version=1, agent="fuzz", login=call.start_as, type="manager"
            )
            srv_rand = bytes.fromhex(started["srv_rand"])
        cli = (call.pick * 0x9E3779B97F4A7C15 % (1 << 128)).to_bytes(16, "big").hex()
        good = proof(hashed, srv_rand)
        spoiled = spoil_proof(good, call.proof, proof(b"x", srv_rand), proof(hashed, b""))
        text = call.query.replace("%7Bproof%7D", quote(spoiled, safe=""))
        text = text.replace("%7Bcli%7D", quote(spoil_proof(cli, call.cli, cli, cli), safe=""))
        return quote(apply_ops(text.encode(), call.ops), safe=QUERY_SAFE) if call.ops else text

    async def prepare(call: Call) -> Wire:
        """The call's connection, in the state its phase names."""
        wire = wires[call.phase]
        if call.phase == "authed" and not _authenticated(venue, wire):
            await wire.handshake()
        elif call.phase == "anon" and (wire.writer is None or _authenticated(venue, wire)):
            await wire.close()  # a fresh connection: no session on it at all
            assert (await wire.request("GET", "/api/test/access")).status == 403
        return wire

    async def send(call: Call) -> tuple[str, Reply, bool]:
        """The call on its phase's connection: the target sent, the answer, whether it rode that one."""
        wire = await prepare(call)
        opened = wire.opened
        if call.kind == "answer":
            query = await answer_query(wire, call)
        else:
            query = bind(call.query, call.pick)
        target = f"{call.path}?{query}" if query else call.path
        body = bind_body(call.body, lambda text: bind(text, call.pick)) if b"{" in call.body else call.body
        headers = {"Content-Type": call.content_type} if call.content_type else {}
        reply = await wire.request(call.method, target, body, headers)
        return target, reply, wire.opened == opened

    run(bystander.handshake(BYSTANDER, BYSTANDER_PASSWORD))
    run(bystander_served(bystander, "start"))

    @FUZZ
    @given(call=seeded(CALLS))
    @example(call=balance_call("login={user}&type=2&balance=0.005&comment=rounds-up"))
    @example(call=balance_call("login={user}&type=2&balance=0.004"))  # rounds to nothing: 3
    @example(call=balance_call("login={user}&type=3&balance=-1"))  # no credit to take: 10019
    @example(call=balance_call("login={user}&type=2&balance=1e999999999"))
    @example(call=balance_call("login={user}&type=2&balance=NaN"))
    @example(call=balance_call("login={user}&type=2&balance=5", method="HEAD"))  # refused, books nothing
    @example(call=balance_call("login={user}&type=2&balance=5", phase="anon"))
    @example(call=body_call("user_add", b'{"Name": "a", "Group": "g", "Leverage": 1e308, "PassMain": "p"}'))
    @example(call=body_call("user_add", b'{"Name": NaN, "Group": "g", "Leverage": 1, "PassMain": "p"}'))
    @example(call=body_call("user_update", b'{"Login": "{user}", "Balance": 1000000, "Credit": 5}'))
    @example(call=body_call("user_add", b"[" * 100_000))
    def fuzz(call: Call) -> None:
        users_before = len(ledger.users)
        target, reply, same_connection = run(send(call))
        label, code, payload = check_answer(call, target, reply)
        path = target.partition("?")[0]  # what aiohttp routes on (odd paths included)
        api = path in PATHS.values() and call.method in ("GET", "POST", "HEAD")
        if call.phase == "anon" and api and not path.startswith("/api/auth/"):
            # nothing but the handshake before the handshake
            assert label in ("403-auth", "head-405", "400-http"), (label, call)
        if call.phase == "authed" and same_connection and call.kind not in ("start", "answer"):
            assert label != "403-auth", call  # the handshake's connection keeps its session
        if code == 0:
            check_done(call, path, payload)
        # The ledger: only a trade/balance answered 0 Done books a deal, the one it names; only a
        # user/add answered 0 Done adds a user. A HEAD is refused (405 on a known path) and books nothing.
        new_deals = books.catch_up()
        added = len(ledger.users) - users_before
        if call.method == "HEAD" and api:
            assert label == "head-405", (label, call)
        assert len(new_deals) == int(code == 0 and path == PATHS["balance"]), (label, new_deals, call)
        assert added == int(code == 0 and path == PATHS["user_add"]), (label, added, call)
        if new_deals and code == 0:
            assert payload["answer"]["ticket"] == str(new_deals[0].deal), (payload, call)
        books.check({d.login for d in new_deals})
        assert not errors.take(), call
        tally.add(f"{call.kind}:{label}")
        phases.add(call.phase)
        if tally.total % 100 == 0:
            books.check()
        if tally.total % 500 == 0:
            run(bystander_served(bystander, str(tally.total)))

    fuzz()
    run(bystander_served(bystander, "end"))
    fresh = Wire("127.0.0.1", bystander.port)
    try:
        run(fresh.handshake())
        run(bystander_served(fresh, "fresh"))
    finally:
        run(fresh.close())
    books.check()
    assert not errors.take()
    print(
        f"\nmt5 in-process: {tally.total} requests {dict(phases.kinds)} {dict(sorted(tally.kinds.items()))}"
    )
    assert tally.total >= MIN_EXAMPLES
    assert phases.kinds["anon"] >= 1500 and phases.kinds["authed"] >= 5000, phases.kinds
    # About half of what the derandomized run reaches: deep answers, not refusals at the door.
    floors = {
        "start:0": 60, "start:3": 140, "answer:0": 50, "answer:3": 400, "answer:3006": 20,
        "answer:403-auth": 25, "access:0": 80, "access:403-auth": 30, "user_add:0": 55, "user_add:3": 320,
        "user_add:3004": 35, "user_add:400-3": 60, "user_get:0": 65, "user_get:3": 100, "user_get:13": 12,
        "user_update:0": 90, "user_update:3": 190, "user_update:13": 5, "user_update:400-3": 45,
        "balance:0": 180, "balance:3": 500, "balance:13": 7, "balance:10019": 60, "deal_get:0": 45,
        "deal_get:3": 60, "deal_get:13": 7, "deal_batch:0": 120, "deal_batch:3": 140, "position_batch:0": 30,
        "path:404-13": 200, "method:405-3": 70, "method:400-http": 50, "method:head-405": 20, "big:413-3": 10,
        "big:400-3": 6, "big:400-http": 2,
    }  # fmt: skip
    short = {
        kind: (tally.kinds.get(kind, 0), floor)
        for kind, floor in floors.items()
        if tally.kinds.get(kind, 0) < floor
    }
    assert not short, short
    assert sum(n for k, n in tally.kinds.items() if k.endswith(":403-auth")) >= 1500, tally.kinds


# -- live, over real sockets ------------------------------------------------------------------------
@pytest.fixture
def live_mt5() -> Iterator[VenueThread]:
    with VenueThread(MT5Mock(seed=9, config=config())) as vt:
        yield vt


def test_mt5_live_malformed_requests_and_a_bystander(live_mt5: VenueThread) -> None:
    venue = live_mt5.venue
    assert isinstance(venue, MT5Mock)
    tally = Tally()
    bind = Binder(venue.ledger)
    with event_loop() as loop, error_records(*LOGGERS) as errors:
        bystander = Wire(venue.host, venue.port)

        def run(coro: Any) -> Any:
            return loop.run_until_complete(coro)

        def bystander_served() -> None:
            opened = bystander.opened
            assert run(bystander.call("/api/test/access"))["retcode"] == "0 Done"
            assert run(bystander.call("/api/user/get", login=500000))["retcode"] == "0 Done"
            booked = run(
                bystander.call("/api/trade/balance", login=500000, type=2, balance="1", comment="live")
            )
            assert booked["retcode"] == "0 Done", booked
            assert bystander.opened == opened, "the bystander's connection was closed under it"

        @LIVE
        @given(case=seeded(st.tuples(CALLS, st.booleans(), st.lists(byte_ops, min_size=1, max_size=2))))
        def fuzz(case: tuple[Call, bool, list[tuple[Any, ...]]]) -> None:
            call, intact, edits = case
            ops = [] if intact else edits
            attacker = Wire(venue.host, venue.port)  # a connection per message, which ends it
            if call.phase == "authed":
                run(attacker.handshake())
            query = call.query.replace("%7Bproof%7D", "0" * 32).replace("%7Bcli%7D", "1" * 32)
            target = bind(f"{call.path}?{query}" if query else call.path, call.pick)
            headers = {"Content-Type": call.content_type} if call.content_type else {}
            data = apply_ops(wire_request(call.method, target, call.body, headers), ops)  # headers and all
            if ops:
                reply = run(attacker.finish(data, head_only=call.method == "HEAD"))
            else:
                reply = run(attacker.send(data, head_only=call.method == "HEAD"))
                run(attacker.close())
            if reply is None:  # aiohttp drops a connection whose request it cannot read, or never got whole
                assert ops, call
                tally.add("mutated:closed")
            elif ops:
                assert reply.status < 500, (reply.status, reply.body[:300], data[:300])
                if reply.headers.get("content-type", "").startswith("application/json") and reply.body:
                    assert RETCODE.fullmatch(json.loads(reply.body)["retcode"]), reply.body[:300]
                tally.add(f"mutated:{reply.status}")
            else:
                label = check_answer(call, target, reply)[0]
                if call.phase == "authed" and call.kind not in ("start", "answer"):
                    assert label != "403-auth", call  # the handshake's connection keeps its session
                tally.add(f"{call.kind}:{label}")
            assert not errors.take(), data[:300]
            if tally.total % 10 == 0:
                bystander_served()

        try:
            run(bystander.handshake(BYSTANDER, BYSTANDER_PASSWORD))
            bystander_served()
            fuzz()
            bystander_served()
            fresh = Wire(venue.host, venue.port)
            run(fresh.handshake())
            assert run(fresh.call("/api/user/get", login=500000))["retcode"] == "0 Done"
            run(fresh.close())
        finally:
            run(bystander.close())
        assert not errors.take()
    with httpx.Client(base_url=live_mt5.control_url, timeout=5) as control:
        books = control.get("/ledger").json()
    for user in books["users"]:
        mine = [
            Decimal(d["amount"])
            for d in books["deals"]
            if d["login"] == user["login"] and d["action"] == BALANCE
        ]
        assert Decimal(user["balance"]) == sum(mine, Decimal(0)), user
    print(f"\nmt5 live: {tally.total} requests {dict(sorted(tally.kinds.items()))}")
    assert tally.total >= 300
    intact = {k: n for k, n in tally.kinds.items() if not k.startswith("mutated:")}
    assert sum(intact.values()) >= 60 and sum(n for k, n in intact.items() if k.endswith(":0")) >= 10, (
        tally.kinds
    )
