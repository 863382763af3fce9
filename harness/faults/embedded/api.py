"""Toxiproxy's HTTP API, byte for byte where clients look: paths, codes, bodies and headers."""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from . import gojson
from .collection import ProxyCollection
from .errors import ApiError, bad_body

log = logging.getLogger("harness.toxiproxy")

VERSION = "2.12.0"
HANDLER_TIMEOUT_S = 25.0  # Go's http.TimeoutHandler in Toxiproxy's API

_ANY_METHOD = "*"

Handler = Callable[[web.BaseRequest, dict[str, str]], Awaitable[web.StreamResponse]]


# Go's http.Error writes these two headers; clients and browsers see them on every error.
_TEXT_HEADERS = {"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"}


def _json(payload: Any, status: int = 200) -> web.Response:
    """A success body as Go's json.Marshal writes it, with Go's bare JSON content type."""
    body = gojson.dumps(payload).encode()
    return web.Response(status=status, body=body, headers={"Content-Type": "application/json"})


def _text_error(status: int, text: str) -> web.Response:
    """A plain-text reply the way Go's http.Error (and http.NotFound) writes one."""
    return web.Response(status=status, body=text.encode(), headers=_TEXT_HEADERS)


def _error(exc: ApiError) -> web.Response:
    # Go's http.Error replaces the JSON content type with text/plain and appends a newline.
    return _text_error(exc.status, gojson.dumps({"error": exc.message, "status": exc.status}) + "\n")


def _populate_reply(proxies: list[dict[str, Any]] | None, error: ApiError | None) -> web.Response:
    """/populate writes its own body: the error fields (if any) beside the proxies, as JSON."""
    payload: dict[str, Any] = {}
    if error is not None:
        payload = {"error": error.message, "status": error.status}
    payload["proxies"] = proxies
    status = 201 if error is None else error.status
    return web.Response(
        status=status, body=gojson.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )


def _empty(status: int) -> web.Response:
    return web.Response(status=status)


async def _body(request: web.BaseRequest) -> bytes:
    """The whole body, however large: Go's server sets no limit, while aiohttp's `read()` refuses
    one over 1 MiB with its own 413 text. A client that goes away before its body ends gets what
    Go's decoder says of a short body; nobody reads it, but nothing escapes as a server error."""
    try:
        return await request.content.read()
    except ConnectionResetError:
        raise bad_body("unexpected EOF") from None


class ToxiproxyApi:
    """Routes requests to the proxy collection. One instance per server."""

    def __init__(self, collection: ProxyCollection, *, metrics: bool = False) -> None:
        self.collection = collection
        routes: list[tuple[str, dict[str, Handler]]] = [
            (r"/reset", {"POST": self.reset}),
            (r"/proxies", {"GET": self.list_proxies, "POST": self.create_proxy}),
            (r"/populate", {"POST": self.populate}),
            (
                r"/proxies/(?P<proxy>[^/]+)",
                {
                    "GET": self.get_proxy,
                    "POST": self.update_proxy,
                    "PATCH": self.update_proxy,
                    "DELETE": self.delete_proxy,
                },
            ),
            (r"/proxies/(?P<proxy>[^/]+)/toxics", {"GET": self.list_toxics, "POST": self.create_toxic}),
            (
                r"/proxies/(?P<proxy>[^/]+)/toxics/(?P<toxic>[^/]+)",
                {
                    "GET": self.get_toxic,
                    "POST": self.update_toxic,
                    "PATCH": self.update_toxic,
                    "DELETE": self.delete_toxic,
                },
            ),
            (r"/version", {"GET": self.version}),
        ]
        if metrics:
            # Go registers the Prometheus handler without a method filter: any method works.
            routes.append((r"/metrics", {_ANY_METHOD: self.metrics}))
        self._routes = [(re.compile(pattern + r"\Z"), methods) for pattern, methods in routes]

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        for pattern, methods in self._routes:
            match = pattern.match(request.path)
            if match is None:
                continue
            handler = methods.get(request.method) or methods.get(_ANY_METHOD)
            if handler is None:
                return _empty(405)
            response = await self._run(handler, request, match.groupdict())
            response.headers["X-Toxiproxy-Request-Id"] = uuid.uuid4().hex
            return response
        return _text_error(404, "404 page not found\n")

    async def _run(
        self, handler: Handler, request: web.BaseRequest, params: dict[str, str]
    ) -> web.StreamResponse:
        if request.headers.get("User-Agent", "").startswith("Mozilla/"):
            return _text_error(403, "User agent not allowed\n")
        try:
            response = await asyncio.wait_for(handler(request, params), HANDLER_TIMEOUT_S)
        except ApiError as exc:
            return _error(exc)
        except TimeoutError:
            return _empty(503)
        log.debug("%s %s -> %s", request.method, request.path, response.status)
        return response

    # -- proxies ---------------------------------------------------------------------
    async def list_proxies(self, request: web.BaseRequest, _: dict[str, str]) -> web.Response:
        return _json({name: p.to_json() for name, p in self.collection.proxies.items()})

    async def create_proxy(self, request: web.BaseRequest, _: dict[str, str]) -> web.Response:
        proxy = await self.collection.create(gojson.loads(await _body(request)))
        return _json(proxy.to_json(), 201)

    async def populate(self, request: web.BaseRequest, _: dict[str, str]) -> web.Response:
        # Every failure here, even a bad body, comes back in /populate's own reply shape.
        try:
            done, error = await self.collection.populate(gojson.loads(await _body(request)))
        except ApiError as exc:
            return _populate_reply(None, exc)
        return _populate_reply([p.to_json() for p in done] or None, error)

    async def get_proxy(self, request: web.BaseRequest, params: dict[str, str]) -> web.Response:
        return _json(self.collection.get(params["proxy"]).to_json())

    async def update_proxy(self, request: web.BaseRequest, params: dict[str, str]) -> web.Response:
        self.collection.get(params["proxy"])  # 404 before the body is looked at, as Go does
        proxy = await self.collection.update(params["proxy"], gojson.loads(await _body(request)))
        return _json(proxy.to_json())

    async def delete_proxy(self, request: web.BaseRequest, params: dict[str, str]) -> web.Response:
        await self.collection.delete(params["proxy"])
        return _empty(204)

    async def reset(self, request: web.BaseRequest, _: dict[str, str]) -> web.Response:
        await self.collection.reset()
        return _empty(204)

    # -- toxics ----------------------------------------------------------------------
    async def list_toxics(self, request: web.BaseRequest, params: dict[str, str]) -> web.Response:
        proxy = self.collection.get(params["proxy"])
        return _json([t.to_json() for t in proxy.all_toxics()])

    async def create_toxic(self, request: web.BaseRequest, params: dict[str, str]) -> web.Response:
        proxy = self.collection.get(params["proxy"])
        return _json(proxy.add_toxic(gojson.loads(await _body(request))).to_json())

    async def get_toxic(self, request: web.BaseRequest, params: dict[str, str]) -> web.Response:
        proxy = self.collection.get(params["proxy"])
        return _json(proxy.find_toxic(params["toxic"]).to_json())

    async def update_toxic(self, request: web.BaseRequest, params: dict[str, str]) -> web.Response:
        proxy = self.collection.get(params["proxy"])
        proxy.find_toxic(params["toxic"])
        return _json(proxy.update_toxic(params["toxic"], gojson.loads(await _body(request))).to_json())

    async def delete_toxic(self, request: web.BaseRequest, params: dict[str, str]) -> web.Response:
        self.collection.get(params["proxy"]).remove_toxic(params["toxic"])
        return _empty(204)

    # -- misc ------------------------------------------------------------------------
    async def version(self, request: web.BaseRequest, _: dict[str, str]) -> web.Response:
        body = f'{{"version": "{VERSION}"}}\n'.encode()
        return web.Response(body=body, headers={"Content-Type": "application/json;charset=utf-8"})

    async def metrics(self, request: web.BaseRequest, _: dict[str, str]) -> web.Response:
        lines = [
            "# HELP toxiproxy_proxy_received_bytes_total"
            " The total bytes received from a proxy's clients and upstream",
            "# TYPE toxiproxy_proxy_received_bytes_total counter",
        ]
        sent = [
            "# HELP toxiproxy_proxy_sent_bytes_total"
            " The total bytes sent by a proxy to its clients and upstream",
            "# TYPE toxiproxy_proxy_sent_bytes_total counter",
        ]
        for proxy in self.collection.proxies.values():
            for direction, (received, out) in proxy.byte_counts().items():
                labels = (
                    f'direction="{direction}",listener="{proxy.listen}",'
                    f'proxy="{proxy.name}",upstream="{proxy.upstream}"'
                )
                lines.append(f"toxiproxy_proxy_received_bytes_total{{{labels}}} {received}")
                sent.append(f"toxiproxy_proxy_sent_bytes_total{{{labels}}} {out}")
        text = "\n".join(lines + sent) + "\n"
        return web.Response(text=text, content_type="text/plain")
