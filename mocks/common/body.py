"""Reading a request's body without a log full of errors when its client goes away, and checking the
text a JSON body held."""

from __future__ import annotations

from aiohttp import web


async def read_whole(request: web.Request) -> bytes:
    """The whole body. A client that closes before sending all it declared (a truncated request, a
    fuzzer) gets a 400 nobody will read, instead of an unhandled ConnectionResetError that aiohttp
    logs as an error: one client's garbage must leave the log, like the service, to the others.
    aiohttp's own 413 past client_max_size passes through."""
    try:
        return await request.read()
    except ConnectionResetError:
        raise web.HTTPBadRequest(text="the request ended before its body did") from None


def is_utf8(text: str) -> bool:
    """False for text with a lone surrogate: JSON's `"\\ud800"` decodes to one, and it fails later, when
    the value is encoded for a header, a signature or a body, far from the request that brought it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
