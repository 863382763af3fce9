"""The Rithmic mock's wire parser under 10,000 malformed frames, in-process, and a few hundred live.

In-process, frames go straight to the gateway's frame decoder and message dispatcher
(`RithmicGateway._dispatch`) on sessions backed by a recording fake connection, so the suite spends its
time in the parser rather than in sockets. What each input must get back is what the gateway promises
(gateway.py): a frame it cannot decode gets exactly one Reject (75) with rp_code ["3", "bad frame: <why>"];
a decodable request before login gets a 75 "permission denied: log in first"; any other request gets an
answer that echoes its user_msg, and no handler ever fails (no ERROR record, no "internal error" reply).
A bystander session keeps getting heartbeats and market data throughout, and the market clock keeps
stepping; at the end a brand-new client logs in with both framings.

The live test sends a few hundred of the same frames over a real WebSocket while a bystander on another
connection is served, and checks the gateway's protocol-level close for an oversized frame.
"""

from __future__ import annotations

import asyncio
import math
import struct
import time
from collections.abc import Iterator
from typing import Any, cast

import pytest
from async_rithmic.protocol_buffers import base_pb2
from google.protobuf.descriptor import FieldDescriptor
from hypothesis import example, given
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State
from websockets.sync.client import ClientConnection, connect

from mocks.rithmic import RithmicGateway
from mocks.rithmic.handlers import NOT_LOGGED_IN, PRE_LOGIN
from mocks.rithmic.protocol import TEMPLATES_MAP, FrameError, Message, build, decode, detect_prefixed, frame
from mocks.rithmic.runner import GatewayThread
from mocks.rithmic.session import PLANT_BY_INFRA, Session

from . import gen as st
from .gen import seeded
from .mutate import (
    FUZZ,
    INVALID_UTF8,
    LIVE,
    MIN_EXAMPLES,
    Tally,
    apply_ops,
    byte_ops,
    error_records,
    event_loop,
    mutated,
)

pytestmark = pytest.mark.fuzz

REQUESTS = sorted(t for t, c in TEMPLATES_MAP.items() if c.__name__.startswith("Request"))
ALL_TEMPLATES = sorted(TEMPLATES_MAP)
USER = "uat-trader"
ACCOUNT = "UAT-0001"
PLANT_INFRA = {plant: infra for infra, plant in PLANT_BY_INFRA.items()}
TEXT_FRAME_REJECT = ["3", "bad frame: text frames are not R|Protocol; send binary"]


# -- a session on a fake connection -----------------------------------------------------------------
class FakeConnection:
    """Stands in for websockets' ServerConnection: records what the gateway sends."""

    remote_address = ("127.0.0.1", 0)

    def __init__(self) -> None:
        self.sent: list[bytes] = []  # whole messages (replies, notifications)
        self.wire: list[bytes] = []  # ready-made WebSocket frames (the market-data fan-out)
        self.state = State.OPEN
        self.protocol = self
        self.transport = self

    def send_binary(self, data: bytes) -> None:
        self.sent.append(bytes(data))

    def send_data(self) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0

    def is_closing(self) -> bool:
        return self.state is not State.OPEN

    def write(self, data: bytes) -> None:
        self.wire.append(bytes(data))

    def abort(self) -> None:
        self.state = State.CLOSED

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.state = State.CLOSED


def open_session(
    gw: RithmicGateway, plant: str | None, prefixed: bool | None
) -> tuple[Session, FakeConnection]:
    conn = FakeConnection()
    session = Session(gw, cast(ServerConnection, conn))
    session.prefixed = prefixed
    if plant is not None:
        session.login(plant, USER)
    gw.sessions.add(session)
    return session, conn


def close_session(gw: RithmicGateway, session: Session) -> None:
    gw.sessions.discard(session)
    gw.forget_subscriptions(session)


def ws_payload(wire: bytes) -> bytes:
    """The payload of one unmasked server frame (what the fan-out writes)."""
    length = wire[1] & 0x7F
    start = 2
    if length == 126:
        length, start = struct.unpack_from(">H", wire, 2)[0], 4
    elif length == 127:
        length, start = struct.unpack_from(">Q", wire, 2)[0], 10
    return wire[start : start + length]


# -- strategies -------------------------------------------------------------------------------------
STRINGS = [ACCOUNT, "ESZ6", "CME", "NQZ6", "CLF7", "NYMEX", USER, "Rithmic Test", "simulator", "", "x",
           "UAT-0002", "1", "\x00", "é" * 40]  # fmt: skip
DOUBLES = [math.nan, math.inf, -math.inf, -1.0, 0.0, 0.1, 6800.25, 6800.0, 62.5, 1e300, -1e-300, 5e-324]
INTS = [0, 1, 2, 3, 4, 5, 7, -1, 2**31 - 1, -(2**31), 100, 10**6]


F = FieldDescriptor
_INT32: st.SearchStrategy[Any] = st.sampled_from(INTS) | st.integers(-(2**31), 2**31 - 1)
_BY_TYPE: dict[int, st.SearchStrategy[Any]] = {
    F.TYPE_STRING: st.sampled_from(STRINGS) | st.text(max_size=16),
    F.TYPE_BYTES: st.binary(max_size=16),
    F.TYPE_DOUBLE: st.sampled_from(DOUBLES) | st.floats(allow_nan=True, width=64),
    F.TYPE_FLOAT: st.sampled_from(DOUBLES) | st.floats(allow_nan=True, width=32),
    F.TYPE_BOOL: st.booleans(),
    F.TYPE_UINT32: st.sampled_from([0, 1, 2, 2**32 - 1]) | st.integers(0, 2**32 - 1),
    F.TYPE_FIXED32: st.integers(0, 2**32 - 1),
    F.TYPE_UINT64: st.sampled_from([0, 1, 2**64 - 1]) | st.integers(0, 2**64 - 1),
    F.TYPE_FIXED64: st.integers(0, 2**64 - 1),
    F.TYPE_INT64: st.sampled_from([*INTS, 2**63 - 1, -(2**63)]) | st.integers(-(2**63), 2**63 - 1),
    F.TYPE_SINT64: st.integers(-(2**63), 2**63 - 1),
    F.TYPE_SFIXED64: st.integers(-(2**63), 2**63 - 1),
}
_ENUMS: dict[str, st.SearchStrategy[Any]] = {}


def _value_strategy(field: FieldDescriptor) -> st.SearchStrategy[Any]:
    """Built once per field: making strategies inside the test loop costs more than running it."""
    if field.type == F.TYPE_ENUM:
        if field.full_name not in _ENUMS:
            _ENUMS[field.full_name] = st.sampled_from([*(v.number for v in field.enum_type.values), 0, 999])
        return _ENUMS[field.full_name]
    return _BY_TYPE.get(field.type, _INT32)


# Plausible values, so a request gets past the obvious checks and into the handlers' deeper branches.
BASE: dict[str, Any] = {
    "account_id": ACCOUNT, "symbol": "ESZ6", "exchange": "CME", "quantity": 1, "transaction_type": 1,
    "price_type": 2, "price": 6800.25, "trigger_price": 6801.0, "duration": 1, "request": 1,
    "update_bits": 3, "fcm_id": "UATFCM", "ib_id": "UATIB", "user_tag": "t", "basket_id": "1",
    "trade_route": "simulator", "manual_or_auto": 2, "template_version": "3.9", "user": USER,
    "system_name": "Rithmic Test", "infra_type": 2,
}  # fmt: skip
_FIELDS = {t: [f for f in TEMPLATES_MAP[t].DESCRIPTOR.fields if f.name not in ("template_id", "user_msg")
               and f.type not in (FieldDescriptor.TYPE_MESSAGE, FieldDescriptor.TYPE_GROUP)]
           for t in TEMPLATES_MAP}  # fmt: skip


_TEMPLATES = st.sampled_from(REQUESTS)
_USER_MSGS = st.sampled_from(["fz", "", "é"])
_FIELD_PICKS = {t: st.lists(st.sampled_from(f), max_size=3) for t, f in _FIELDS.items() if f}


def _set(message: Message, field: FieldDescriptor, value: Any) -> None:
    try:
        if field.is_repeated:
            getattr(message, field.name).append(value)
        else:
            setattr(message, field.name, value)
    except (ValueError, TypeError):  # a value the field refuses (a lone surrogate in a string, say)
        pass


@st.composite
def requests(draw: st.DrawFn, templates: list[int] = REQUESTS) -> bytes:
    """A real template with plausible values, then a few fields set to near-valid nonsense (NaN or
    off-grid prices, huge sizes, someone else's account, negative enums)."""
    template_id = draw(_TEMPLATES if templates is REQUESTS else st.sampled_from(templates))
    message = TEMPLATES_MAP[template_id]()
    message.template_id = template_id
    message.user_msg.append(draw(_USER_MSGS))
    fields = _FIELDS[template_id]
    for field in fields:
        if field.name in BASE:
            _set(message, field, BASE[field.name])
    if fields:
        for field in draw(_FIELD_PICKS[template_id]):
            _set(message, field, draw(_value_strategy(field)))
    return bytes(message.SerializeToString())


def _with_template(raw: bytes, template_id: int) -> bytes:
    """The same message, claiming another template id (appended: protobuf keeps the last value)."""
    return raw + bytes(base_pb2.Base(template_id=template_id).SerializeToString())


wrong_template = st.builds(
    _with_template,
    requests(),
    st.sampled_from(ALL_TEMPLATES) | st.integers(-(2**31), 2**31 - 1) | st.sampled_from([0, 1, 75, 77, 999]),
)
huge_repeats = st.builds(
    lambda n, text: bytes(build(18, user_msg=[text] * n).SerializeToString()),
    st.sampled_from([100, 2000]),
    st.sampled_from(["x", "é" * 50]),
)
# what goes in a frame, before framing
# what goes in a frame, before framing: mostly real requests with odd values, else broken payloads
broken_payloads = st.one_of(
    mutated(requests()),
    wrong_template,
    st.binary(max_size=64),
    st.sampled_from(INVALID_UTF8),
    huge_repeats,
)
payloads = requests() | broken_payloads


# How a payload is framed: as the session expects (most often), the other way, behind a lying length
# prefix, byte-mutated after framing (the prefix too), or not binary at all.
_no_ops: list[tuple[Any, ...]] = []
Item = tuple[str, Any, int, list[tuple[Any, ...]]]
FRAMINGS = st.sampled_from(["session"] * 6 + ["broken", "broken", "other", "lying", "mutated", "text"])
_requests = requests()
_ops = st.lists(byte_ops, min_size=1, max_size=3)
_texts = st.text(max_size=40)
_declared = st.integers(-(2**31), 2**31 - 1) | st.sampled_from([-1, 0, 1, 3, 4])


@st.composite
def items(draw: st.DrawFn) -> Item:
    how = draw(FRAMINGS)
    if how == "session":
        return how, draw(_requests), 0, _no_ops
    if how == "broken":
        return "session", draw(broken_payloads), 0, _no_ops
    if how == "other":
        return how, draw(payloads), 0, _no_ops
    if how == "lying":
        return how, draw(payloads), draw(_declared), _no_ops
    if how == "mutated":
        return how, draw(_requests), 0, draw(_ops)
    return how, draw(_texts), 0, _no_ops


def to_frame(item: Item, prefixed: bool) -> str | bytes:
    """The frame for a session that expects `prefixed` framing."""
    how, payload, declared, ops = item
    if how == "text":
        return str(payload)
    if how == "lying":
        return struct.pack(">i", declared) + bytes(payload)
    framed = frame(payload, prefixed if how != "other" else not prefixed)
    return apply_ops(framed, ops) if how == "mutated" else framed


BATCHES = st.lists(items(), min_size=1, max_size=2)
SESSIONS = ["fresh", "fresh", "ticker", "order", "pnl", "history", "order-bare"]


def _expectation(session: Session, buf: str | bytes) -> tuple[str, Any]:
    """What the gateway must answer, worked out from the decoder alone."""
    if isinstance(buf, str):
        return "reject", TEXT_FRAME_REJECT
    prefixed = session.prefixed if session.prefixed is not None else detect_prefixed(buf)
    try:
        template_id, message = decode(buf, prefixed)
    except FrameError as exc:
        return "reject", ["3", f"bad frame: {exc.reason}"]
    if not session.logged_in and template_id not in PRE_LOGIN:
        return "not-logged-in", list(getattr(message, "user_msg", []))
    return "answer", (template_id, list(getattr(message, "user_msg", [])))


def _replies(session: Session, sent: list[bytes]) -> list[tuple[int, Message]]:
    return [decode(data, session.prefixed is not False) for data in sent]


# -- the in-process suite ---------------------------------------------------------------------------
def test_rithmic_parser_survives_10k_malformed_frames() -> None:
    with event_loop() as loop:
        _in_process(loop)


def _in_process(loop: asyncio.AbstractEventLoop) -> None:
    gw = RithmicGateway(seed=7)
    creds = gw.describe()
    tally = Tally()
    bystander, by_conn = open_session(gw, None, True)

    def run(coro: Any) -> Any:
        return loop.run_until_complete(coro)

    def login(session: Session, conn: FakeConnection, infra: int) -> None:
        request = build(
            10,
            user_msg=["login"],
            template_version="3.9",
            user=creds["user"],
            password=creds["password"],
            system_name=creds["system_name"],
            infra_type=infra,
        )
        run(gw._dispatch(session, frame(request.SerializeToString(), session.prefixed is not False)))
        tid, answer = _replies(session, conn.sent[-1:])[0]
        assert (tid, list(answer.rp_code)) == (11, ["0"]), answer

    def round_trip(session: Session, conn: FakeConnection, template_id: int, **fields: Any) -> list[Message]:
        """Every answer to one well-formed request; the last one carries its rp_code."""
        before = len(conn.sent)
        request = build(template_id, user_msg=["check"], **fields)
        run(gw._dispatch(session, frame(request.SerializeToString(), session.prefixed is not False)))
        answers = [m for t, m in _replies(session, conn.sent[before:]) if t == template_id + 1]
        assert answers and list(answers[-1].user_msg) == ["check"], (template_id, conn.sent[before:])
        return answers

    def bystander_served() -> None:
        assert list(round_trip(bystander, by_conn, 18)[-1].rp_code) == ["0"]
        ticks = len(by_conn.wire)
        gw.clock.step()  # the market steps for everyone: matching, fan-out, PnL
        fresh = by_conn.wire[ticks:]
        assert fresh, "the bystander's market data stopped"
        tid, tick = decode(ws_payload(fresh[-1]), True)
        assert tid in (150, 151) and tick.symbol == "ESZ6", (tid, tick)

    with error_records("mocks.rithmic", "mocks.common", "asyncio") as errors:
        login(bystander, by_conn, 1)
        answer = round_trip(bystander, by_conn, 100, symbol="ESZ6", exchange="CME", request=1, update_bits=3)
        assert list(answer[-1].rp_code) == ["0"]
        bystander_served()

        def order(**fields: Any) -> Item:
            base = {k: BASE[k] for k in ("account_id", "symbol", "exchange", "transaction_type", "quantity")}
            return (
                "session",
                bytes(build(312, user_msg=["regression"], **{**base, **fields}).SerializeToString()),
                0,
                [],
            )

        @FUZZ
        # one seed for the whole case: hypothesis repeats a seed it drew for one argument across examples
        @given(case=seeded(st.tuples(st.sampled_from(SESSIONS), st.booleans(), BATCHES)))
        # A market order with a NaN price, a limit order at infinity, a stop whose trigger overflows the tick
        # count: each once failed in matching, and the poisoned order then stopped the instrument's market
        # data for every client at each step of the clock.
        @example(case=("order", True, [order(price_type=2, price=math.nan)]))
        @example(case=("order", True, [order(price_type=1, price=math.inf)]))
        @example(
            case=("order", True, [order(symbol="CLF7", exchange="NYMEX", price_type=4, trigger_price=1e307)])
        )
        @example(case=("fresh", True, [("text", "not binary", 0, []), ("lying", b"ab", 5, [])]))
        def fuzz(case: tuple[str, bool, list[Item]]) -> None:
            kind, framing, batch = case
            plant = None if kind == "fresh" else kind.removesuffix("-bare")
            prefixed = framing if kind == "fresh" else not kind.endswith("-bare")
            session, conn = open_session(gw, plant, None if kind == "fresh" else prefixed)
            try:
                for item in batch:
                    buf = to_frame(item, session.prefixed if session.prefixed is not None else prefixed)
                    outcome, detail = _expectation(session, buf)
                    tally.add(outcome)
                    before = len(conn.sent)
                    run(gw._dispatch(session, buf))  # must not raise
                    replies = _replies(session, conn.sent[before:])
                    if outcome == "reject":
                        assert [(t, list(m.rp_code)) for t, m in replies] == [(75, detail)], replies
                    elif outcome == "not-logged-in":
                        assert [(t, list(m.rp_code), list(m.user_msg)) for t, m in replies] == [
                            (75, NOT_LOGGED_IN, detail)
                        ], replies
                    else:
                        template_id, user_msg = detail
                        assert any(
                            t in (template_id + 1, 75) and list(m.user_msg) == user_msg
                            for t, m in replies
                            if "rp_code" in m.DESCRIPTOR.fields_by_name and len(m.rp_code) >= 1
                        ), (template_id, replies)
                    for t, m in replies:
                        if t == 75:  # a reject always says why, and never "internal error"
                            assert len(m.rp_code) == 2 and m.rp_code[0] != "0" and m.rp_code[1], m
                            assert "internal error" not in m.rp_code[1], m
                    assert not errors.take()
            finally:
                close_session(gw, session)
            if tally.total % 250 < len(batch):
                bystander_served()
                assert not errors.take()

        fuzz()
        bystander_served()
        # a brand-new client, in each framing, logs in and is answered
        for prefixed in (True, False):
            session, conn = open_session(gw, None, prefixed)
            login(session, conn, 2)
            *rows, done = round_trip(session, conn, 302)
            assert [r.account_id for r in rows] == [ACCOUNT] and list(done.rp_code) == ["0"]
            assert round_trip(session, conn, 16)[-1].system_name[0] == creds["system_name"]
            close_session(gw, session)
        assert not errors.take()
    print(f"\nrithmic in-process: {tally.total} frames {tally.kinds}")
    assert tally.total >= MIN_EXAMPLES
    assert min(tally.kinds.get(k, 0) for k in ("reject", "not-logged-in", "answer")) >= 500, tally.kinds


# -- live, over real sockets ------------------------------------------------------------------------
@pytest.fixture
def live_gateway() -> Iterator[GatewayThread]:
    with GatewayThread(RithmicGateway(seed=7, ticks_per_second=20, heartbeat_interval=2.0)) as gt:
        yield gt


def _open(url: str) -> ClientConnection:
    return connect(url, compression=None, open_timeout=5, max_size=None)


def _send(ws: ClientConnection, template_id: int, **fields: Any) -> None:
    ws.send(frame(build(template_id, **fields).SerializeToString(), True))


def _until(
    ws: ClientConnection, template_id: int, tag: str, timeout: float = 3.0
) -> list[tuple[int, Message]]:
    """Every message up to and including this template's answer carrying `tag`."""
    seen: list[tuple[int, Message]] = []
    deadline = time.monotonic() + timeout
    while True:
        data = ws.recv(timeout=max(deadline - time.monotonic(), 0.01))
        assert isinstance(data, bytes)
        tid, message = decode(data, True)
        seen.append((tid, message))
        if tid == template_id and list(message.user_msg) == [tag]:
            return seen


def _login(ws: ClientConnection, creds: dict[str, Any], infra: int) -> None:
    _send(ws, 10, user_msg=["in"], template_version="3.9", user=creds["user"], password=creds["password"],
          system_name=creds["system_name"], infra_type=infra)  # fmt: skip
    assert list(_until(ws, 11, "in")[-1][1].rp_code) == ["0"]


def test_rithmic_live_malformed_frames_and_a_bystander(live_gateway: GatewayThread, caplog: Any) -> None:
    creds = live_gateway.gateway.describe()
    tally = Tally()
    bystander, attacker = _open(live_gateway.url), _open(live_gateway.url)
    try:
        _login(bystander, creds, 1)
        _send(bystander, 100, user_msg=["md"], symbol="ESZ6", exchange="CME", request=1, update_bits=3)
        _until(bystander, 101, "md")
        _login(attacker, creds, 2)

        @LIVE
        @given(item=seeded(items()))
        def fuzz(item: Item) -> None:
            buf = to_frame(item, True)
            tally.add("frame")
            attacker.send(buf)
            tag = f"hb-{tally.total}"
            _send(attacker, 18, user_msg=[tag])
            seen = _until(attacker, 19, tag)
            assert not [m for t, m in seen if t == 75 and "internal error" in "".join(m.rp_code)], seen
            if isinstance(buf, str) or (len(buf) >= 4 and struct.unpack_from(">i", buf)[0] != len(buf) - 4):
                # the attacker is a prefixed session: text, or a prefix that lies, is rejected with a reason
                assert any(t == 75 and m.rp_code[0] == "3" and "bad frame" in m.rp_code[1] for t, m in seen)
            if tally.total % 25 == 0:  # meanwhile the bystander, on its own connection, is served
                _send(bystander, 18, user_msg=[tag])
                _until(bystander, 19, tag)

        fuzz()
        # after the garbage: the bystander's ticks still flow, and a new client logs in
        tag = "after"
        _send(bystander, 18, user_msg=[tag])
        _until(bystander, 19, tag)
        deadline = time.monotonic() + 3
        while decode(cast(bytes, bystander.recv(timeout=3)), True)[0] != 150:
            assert time.monotonic() < deadline
        newcomer = _open(live_gateway.url)
        try:
            _login(newcomer, creds, 2)
        finally:
            newcomer.close()
        # an oversized frame is a protocol-level close (1009, message too big) for that connection only
        attacker.send(b"\x00" * ((1 << 20) + 1))
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                attacker.recv(timeout=3)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009, closed.value
        _send(bystander, 18, user_msg=["still"])
        _until(bystander, 19, "still")
    finally:
        attacker.close()
        bystander.close()
    assert not [r for r in caplog.records if r.name.startswith("mocks.") and r.levelno >= 40]
    print(f"\nrithmic live: {tally.total} frames")
    assert tally.total >= 300
