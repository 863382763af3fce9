"""A slow subscriber loses market data instead of growing the gateway's memory; a stuck one is cut off."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from websockets.protocol import State

from mocks.rithmic import RithmicGateway
from mocks.rithmic.protocol import build
from mocks.rithmic.session import SLOW_CONSUMER_BYTES, STUCK_CLIENT_BYTES, Session


class FakeTransport:
    def __init__(self, buffered: int) -> None:
        self.buffered = buffered
        self.written: list[bytes] = []
        self.aborted = False

    def is_closing(self) -> bool:
        return self.aborted

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def abort(self) -> None:
        self.aborted = True


def _session(buffered: int) -> tuple[Session, FakeTransport, list[bytes]]:
    transport = FakeTransport(buffered)
    sent: list[bytes] = []
    protocol = SimpleNamespace(state=State.OPEN, send_binary=sent.append)
    ws: Any = SimpleNamespace(
        transport=transport, protocol=protocol, send_data=lambda: None, remote_address=("x", 1)
    )
    return Session(RithmicGateway(seed=0), ws), transport, sent


def test_fan_out_skips_a_slow_consumer_and_counts_the_drop() -> None:
    session, transport, _ = _session(SLOW_CONSUMER_BYTES + 1)
    assert session.write_frame(b"tick") is False
    assert transport.written == [] and session.dropped_ticks == 1
    transport.buffered = 0
    assert session.write_frame(b"tick") is True and transport.written == [b"tick"]


def test_replies_to_a_stuck_client_cut_it_off() -> None:
    session, transport, sent = _session(STUCK_CLIENT_BYTES - 1)
    session.send(build(19, rp_code=["0"]))
    assert len(sent) == 1 and not transport.is_closing()
    transport.buffered = STUCK_CLIENT_BYTES + 1
    session.send(build(19, rp_code=["0"]))
    assert len(sent) == 1 and transport.is_closing()
    assert session.gateway.events.since(0, "stuck_client_dropped")
