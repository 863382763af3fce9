"""One security probe: a declared operation's request, sent with a chosen credential (none, a wrong
one, a revoked or expired key, another trader's key) from a chosen loopback source, and its answer
kept whole for the checkers. Requests are rendered by the adapter (`HttpApi.request`), so a probe
speaks the target's own API; only the credential headers and the source address are changed."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from ..adapters import API_KEY, HttpApi
from ..adapters.spec import PLACEHOLDER

# What a probe must get: 401; any refusal (a 4xx other than 429, which says nothing of access); a
# success; or merely an answer (below 500, no internals), for malformed requests.
Expect = Literal["401", "refused", "2xx", "answered"]
BODY_KEPT = 4096  # characters of each answer kept as evidence
HEADERS_KEPT = ("retry-after", "www-authenticate", "content-type", "location")
STREAM_WAIT_S = 2.0  # how long a stream probe waits for a first message (quotes flow several a second)


@dataclass
class Probe:
    group: str  # authentication, roles, object_access, allowlist, errors
    name: str  # what was tried, for the report: "revoked key: place_order"
    operation: str
    method: str
    url: str
    credential: str  # none, wrong, revoked, expired, "trader A", admin
    expect: Expect
    source: str = "127.0.0.1"  # the local address it was sent from
    extra_headers: dict[str, str] = field(default_factory=dict)  # spoofed forwarding headers
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)  # every answer header (the secrets sweep)
    body: str = ""
    error: str = ""  # a transport error: no answer at all
    latency_ms: float = 0.0
    order_tag: str = ""  # a client_order_id this probe tried to place: it must never reach the venue
    must_not_show: str = ""  # another trader's account id: a 2xx answer showing it leaks their data

    @property
    def met(self) -> bool:
        status = self.status
        if status is None:
            return False
        if self.must_not_show and 200 <= status < 300 and self.must_not_show in self.body:
            return False
        if self.expect == "401":
            return status == 401
        if self.expect == "refused":
            return 400 <= status < 500 and status != 429
        if self.expect == "2xx":
            return 200 <= status < 300
        return status < 500

    def to_json(self) -> dict[str, Any]:
        kept = {k: v for k, v in self.headers.items() if k in HEADERS_KEPT}
        return {
            "probe": self.name,
            "request": f"{self.method} {self.url}",
            "credential": self.credential,
            "source": self.source,
            **({"spoofed": self.extra_headers} if self.extra_headers else {}),
            "expected": self.expect,
            "status": self.status,
            **({"headers": kept} if kept else {}),
            "body": self.body[:600],
            **({"error": self.error} if self.error else {}),
        }


class Sender:
    """Sends probes through one HTTP client per source address; closes them all at the end."""

    def __init__(self, api: HttpApi, timeout_s: float = 10.0) -> None:
        self.api = api
        self.timeout_s = timeout_s
        self._clients: dict[str, httpx.Client] = {}
        self.wrong_key = "uat-wrong-" + secrets.token_urlsafe(18)  # never issued by anyone

    def _client(self, source: str) -> httpx.Client:
        if source not in self._clients:
            transport = httpx.HTTPTransport(local_address=source)
            self._clients[source] = httpx.Client(transport=transport, timeout=self.timeout_s, trust_env=False)
        return self._clients[source]

    # ------------------------------------------------------------------ credentials
    def credential_names(self) -> set[str]:
        """The headers that carry a credential: the declared auth headers, or, for a target that
        declares no [adapter.auth], its static headers (a service key)."""
        names = set(self.api.admin_headers) | set(self.api.trader_headers)
        return {n.lower() for n in (names or set(self.api.headers))}

    def headers_for(self, credential: str, operation: str, key: str | None = None) -> dict[str, str]:
        """none: no credential header at all; wrong: each credential header with a key nobody issued;
        key: the trader headers with `key`; admin: the back office's."""
        if credential == "none":
            return {}
        if credential == "admin":
            return dict(self.api.admin_headers or self.api.headers)
        if key is not None:
            return {k: v.replace(f"{{{API_KEY}}}", key) for k, v in self.api.auth.trader.items()}
        templates = self.api.auth.trader or self.api.auth.admin or self.api.spec.headers
        return {k: PLACEHOLDER.sub(self.wrong_key, v) for k, v in templates.items()}

    # ------------------------------------------------------------------ sending
    def probe(
        self,
        group: str,
        name: str,
        operation: str,
        args: dict[str, Any],
        *,
        credential: str,
        expect: Expect,
        key: str | None = None,
        source: str = "127.0.0.1",
        extra_headers: dict[str, str] | None = None,
        content: bytes | None = None,
    ) -> Probe:
        """The operation's request with the given credential in place of the adapter's own; `content`
        replaces its body (malformed requests)."""
        request = self.api.request(operation, {k: v for k, v in args.items() if k != API_KEY})
        strip = self.credential_names()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in strip}
        headers |= self.headers_for(credential, operation, key) | (extra_headers or {})
        probe = Probe(
            group,
            name,
            operation,
            request.method,
            _shown(request.url, request.params),
            credential,
            expect,
            source,
            dict(extra_headers or {}),
            order_tag=str(args.get("client_order_id", "")) if operation == "place_order" else "",
        )
        sent: dict[str, Any] = {"content": content} if content is not None else {"json": request.json}
        if content is not None:
            headers.setdefault("Content-Type", "application/json")
        started = time.perf_counter()
        try:
            answer = self._client(source).request(
                request.method,
                request.url,
                params=request.params or None,
                headers=headers,
                timeout=request.timeout_s,
                **sent,
            )
        except httpx.HTTPError as exc:
            probe.error = f"{type(exc).__name__}: {exc}"[:300]
            probe.latency_ms = (time.perf_counter() - started) * 1000
            return probe
        probe.latency_ms = (time.perf_counter() - started) * 1000
        probe.status = answer.status_code
        probe.headers = {k.lower(): v for k, v in answer.headers.items()}
        probe.body = answer.text[:BODY_KEPT]
        return probe

    def stream_probe(
        self,
        group: str,
        name: str,
        account: str,
        symbols: tuple[str, ...],
        *,
        credential: str,
        key: str | None = None,
    ) -> Probe | None:
        """The stream's handshake with the given credential: a refusal is a 401/403 answer to the
        upgrade, or the socket closed before any message; a message received is data served. None
        where the target declares no stream."""
        import websocket

        url = self.api.stream(account, symbols)
        if url is None:
            return None
        strip = self.credential_names()
        headers = {k: v for k, v in self.api.stream_headers(None).items() if k.lower() not in strip}
        headers |= self.headers_for(credential, "stream", key)
        probe = Probe(group, name, "stream", "GET", _shown(url.split("?")[0], {}), credential, "401")
        started = time.perf_counter()
        try:
            ws = websocket.create_connection(url, timeout=STREAM_WAIT_S, header=headers)
        except websocket.WebSocketBadStatusException as exc:
            probe.status, probe.body = exc.status_code, str(exc)[:BODY_KEPT]
        except (OSError, websocket.WebSocketException) as exc:
            probe.error = f"{type(exc).__name__}: {exc}"[:300]
        else:
            try:
                frame = ws.recv()  # "" is the server's close frame: websocket-client answers it
                if frame:
                    probe.status, probe.body = 200, str(frame)[:BODY_KEPT]  # served: a message came
                else:
                    probe.status, probe.body = 401, f"closed before any message ({ws.status or 'no status'})"
            except websocket.WebSocketConnectionClosedException:
                probe.status = 401  # accepted, then closed before any message: refused
            except (OSError, websocket.WebSocketException):
                probe.status = 401  # nothing served within the wait
            finally:
                ws.close()
                ws.shutdown()  # type: ignore[no-untyped-call]  # close() skips it once the server closed
        probe.latency_ms = (time.perf_counter() - started) * 1000
        return probe

    def close(self) -> None:
        for client in self._clients.values():
            client.close()


def _shown(url: str, params: dict[str, str]) -> str:
    path = urlsplit(url).path
    return path + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")
