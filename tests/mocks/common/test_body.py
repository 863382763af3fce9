"""A client that closes before its body is whole gets a quiet 400, not an error in the mock's log
(the MT5 live fuzz once found aiohttp logging "Error handling request" for a truncated body)."""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiohttp import web

from mocks.common.body import read_whole


def test_a_body_cut_short_is_a_quiet_400_and_a_whole_one_is_read(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[object] = []

    async def handler(request: web.Request) -> web.Response:
        try:
            seen.append(await read_whole(request))
        except web.HTTPBadRequest as exc:
            seen.append(exc.status)
            raise
        return web.Response(text="ok")

    async def scenario() -> bytes:
        app = web.Application()
        app.router.add_post("/x", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            _, cut = await asyncio.open_connection("127.0.0.1", port)
            cut.write(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
            await cut.drain()
            cut.close()  # gone, 90 bytes short
            await asyncio.sleep(0.3)
            reader, whole = await asyncio.open_connection("127.0.0.1", port)
            whole.write(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc")
            answer = await reader.read()
            whole.close()
            return answer
        finally:
            await runner.cleanup()

    with caplog.at_level(logging.ERROR, logger="aiohttp"):
        answer = asyncio.run(scenario())
    assert answer.startswith(b"HTTP/1.1 200") and seen == [400, b"abc"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
