"""One resend of an idempotent request whose connection closed before any answer, as RFC 9112
§9.3.1 lets a client do: a server may close an idle keep-alive connection at any time (a graceful
stop does exactly that), and a request already on its way down such a connection is lost without
the server having read it. Browsers and HTTP libraries send it again; a harness that did not would
blame the middleware for a race the protocol allows. Only an answer from the resend replaces the
lost one: a resend that gets no answer either leaves the first error standing, so a server that
cuts the requests it did read is still caught."""

from __future__ import annotations

from typing import Any

import httpx

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})  # RFC 9110 §9.2.2


def lost_unanswered(exc: httpx.HTTPError) -> bool:
    """The connection closed with not one byte of an answer (httpcore's words for it)."""
    return isinstance(exc, httpx.RemoteProtocolError) and "without sending a response" in str(exc)


def resending_request(client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """The response, from the first send or the one resend; raises the first error if the
    request cannot be resent or the resend got no answer either."""
    try:
        return client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        if method.upper() not in IDEMPOTENT or not lost_unanswered(exc):
            raise
        try:
            return client.request(method, url, **kwargs)
        except httpx.HTTPError:
            raise exc from None
