"""Toxiproxy's limit_data tests, ported (reference §2, §3): Go's unit tests on the toxic's stub
(limit 100) become tests on a LimitDataStage driven with a fake link, plus the same rules seen
through a live proxy (the connection torn down, the counter's lifetime).
"""

from __future__ import annotations

import asyncio

import pytest

from harness.faults.embedded.stages import LimitDataStage

from ._netutil import (
    Api,
    FakeLink,
    Upstream,
    connect,
    expect_eof,
    expect_silence,
    recv_exact,
    recv_until_eof,
    stage_spec,
)

pytestmark = pytest.mark.usefixtures("loop_stays_clean")


# -- limit_data: the stage, as Go's unit tests drive the stub (limit 100) -------------------


def _limit(chunks: list[bytes], limit: int = 100) -> tuple[list[bytes | None], FakeLink]:
    """Push chunks through a fresh LimitDataStage; return what it emitted (None = close)."""
    loop = asyncio.new_event_loop()
    try:
        out: list[bytes | None] = []
        link = FakeLink(loop)
        stage = LimitDataStage(stage_spec("limit_data", bytes=limit), link, lambda d, _: out.append(d))
        for chunk in chunks:
            stage.push(chunk, 0.0)
        return out, link
    finally:
        loop.close()


@pytest.mark.parametrize(
    ("sizes", "expected"),
    [
        ([50], [50]),
        ([100], [100, None]),
        ([150], [100, None]),
        ([25, 25, 25, 25], [25, 25, 25, 25, None]),
        ([90, 20], [90, 10, None]),
    ],
    ids=["smaller", "matches", "bigger", "four_quarters", "second_overflows"],
)
def test_limit_data_stage(sizes: list[int], expected: list[int | None]) -> None:
    chunks = [bytes([i]) * size for i, size in enumerate(sizes)]
    out, link = _limit(chunks)
    assert [None if piece is None else len(piece) for piece in out] == expected
    sent = b"".join(p for p in out if p is not None)
    assert sent == b"".join(chunks)[: len(sent)], "forwarded bytes are a prefix of the input"
    assert link.discarded == sum(sizes) - len(sent)


def test_limit_data_stage_zero_forwards_nothing() -> None:
    out, link = _limit([b"x" * 100], limit=0)
    assert out == [None]
    assert link.discarded == 100


def test_limit_data_stage_swallows_after_the_limit() -> None:
    out, link = _limit([b"a" * 100, b"b" * 10, b"c" * 5])
    assert out == [b"a" * 100, None]
    assert link.discarded == 15


def test_limit_data_stage_counter_survives_restart() -> None:
    """90 bytes, an interrupt-and-restart (an update), then 20 bytes: only 10 more pass."""
    loop = asyncio.new_event_loop()
    try:
        out: list[bytes | None] = []
        spec = stage_spec("limit_data", bytes=100)
        stage = LimitDataStage(spec, FakeLink(loop), lambda d, _: out.append(d))
        stage.push(b"a" * 90, 0.0)
        stage.interrupt()  # interrupting an idle stage returns at once
        stage.restart(spec)
        stage.push(b"b" * 20, 0.0)
    finally:
        loop.close()
    assert out == [b"a" * 90, b"b" * 10, None]


def test_limit_data_stage_eof_closes() -> None:
    """Go's "nil input closes": EOF before any data closes the link."""
    loop = asyncio.new_event_loop()
    try:
        out: list[bytes | None] = []
        spec = stage_spec("limit_data", bytes=100)
        stage = LimitDataStage(spec, FakeLink(loop), lambda d, _: out.append(d))
        stage.push(None, 0.0)
    finally:
        loop.close()
    assert out == [None]


# -- limit_data through the proxy ----------------------------------------------------------


def test_limit_data_tears_the_connection_down(api: Api) -> None:
    with Upstream() as upstream:
        port = api.create("test", upstream.address)
        api.add_toxic("test", "limit_data", "upstream", "limit", bytes=100)
        with connect(port) as client:
            server = upstream.accept()
            client.sendall(bytes(range(150)))
            assert recv_until_eof(server) == bytes(range(100))
            assert expect_eof(client, within=1.0) < 1.0


def test_limit_data_counter_survives_update_and_restarts_on_re_add(api: Api) -> None:
    with Upstream() as upstream:
        port = api.create("test", upstream.address)
        api.add_toxic("test", "limit_data", "upstream", "limit", bytes=10)
        with connect(port) as client:
            server = upstream.accept()
            client.sendall(b"123456")
            assert recv_exact(server, 6) == b"123456"
            api.update_toxic("test", "limit", bytes=10)
            api.remove_toxic("test", "limit")
            api.add_toxic("test", "limit_data", "upstream", "limit", bytes=10)
            client.sendall(b"abcdef")  # a fresh counter: all six pass
            assert recv_exact(server, 6) == b"abcdef"
            api.update_toxic("test", "limit", bytes=10)  # the counter (6) survives this
            client.sendall(b"ABCDEF")
            assert recv_until_eof(server) == b"ABCD"


def test_limit_data_zero_keeps_an_idle_connection_open(api: Api) -> None:
    with Upstream() as upstream:
        port = api.create("test", upstream.address)
        api.add_toxic("test", "limit_data", "upstream", bytes=0)
        with connect(port) as client:
            server = upstream.accept()
            expect_silence(client, 0.2)
            server.sendall(b"down passes")
            assert recv_exact(client, 11) == b"down passes"
            client.sendall(b"x")
            assert recv_until_eof(server) == b""
