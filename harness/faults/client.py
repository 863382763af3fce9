"""A typed Toxiproxy client on httpx: the whole API, plus the shapes scenarios want.

Example usage::

    with ToxiproxyClient("http://127.0.0.1:8474") as tp:
        proxy = tp.create_proxy("rithmic", upstream="127.0.0.1:9001")
        with proxy.toxic("latency", latency=800, jitter=200):
            ...  # every byte to the client is 800±200 ms late
        with proxy.down():
            ...  # connections refused and live ones closed
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

import httpx

from ..netguard import check_host, split_host_port
from .embedded.errors import INVALID_TOXIC_TYPE
from .embedded.extensions import EXTENSION_TYPES
from .errors import ExtensionUnsupported, InvalidRequest, NotFound, error_for
from .models import ProxyInfo, Stream, Toxic


def _int_attributes(attributes: dict[str, Any]) -> dict[str, int]:
    """Toxiproxy refuses `100.0` for an int field; send whole floats as ints, refuse the rest."""
    out: dict[str, int] = {}
    for key, value in attributes.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"toxic attribute {key!r} must be a number, got {type(value).__name__}")
        if isinstance(value, float):
            if not value.is_integer():
                raise TypeError(f"toxic attribute {key!r} must be a whole number, got {value}")
            value = int(value)
        out[key] = value
    return out


class ToxiproxyClient:
    """Talks to any Toxiproxy-API server: the real one, its container, or our embedded one."""

    def __init__(
        self,
        url: str = "http://127.0.0.1:8474",
        *,
        timeout: float = 10.0,
        allowed_hosts: Iterable[str] = (),
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.allowed_hosts = tuple(allowed_hosts)
        self._http = httpx.Client(
            base_url=self.url,
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": "stack-uat"},
            trust_env=False,  # the fault plane is local: never route it through an HTTP proxy
        )

    # -- plumbing --------------------------------------------------------------------
    def request(self, method: str, path: str, json: Any = None) -> Any:
        response = self._http.request(method, path, json=json)
        if response.status_code >= 400:
            message = response.text.strip()
            with contextlib.suppress(ValueError):
                body = response.json()
                if isinstance(body, dict) and "error" in body:
                    message = str(body["error"])
            raise error_for(response.status_code, message)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ToxiproxyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- server ----------------------------------------------------------------------
    def version(self) -> str:
        return str(self.request("GET", "/version")["version"])

    def is_up(self) -> bool:
        try:
            self.version()
        except (httpx.HTTPError, ValueError, KeyError):
            return False
        return True

    def reset(self) -> None:
        """Re-enable every proxy and remove every toxic."""
        self.request("POST", "/reset")

    # -- proxies ---------------------------------------------------------------------
    def proxies(self) -> dict[str, Proxy]:
        data = self.request("GET", "/proxies")
        return {name: Proxy(self, ProxyInfo.from_json(p)) for name, p in data.items()}

    def get_proxy(self, name: str) -> Proxy:
        return Proxy(self, ProxyInfo.from_json(self.request("GET", f"/proxies/{name}")))

    def create_proxy(
        self, name: str, upstream: str, listen: str = "127.0.0.1:0", *, enabled: bool = True
    ) -> Proxy:
        self._guard(upstream)
        body = {"name": name, "upstream": upstream, "listen": listen, "enabled": enabled}
        return Proxy(self, ProxyInfo.from_json(self.request("POST", "/proxies", body)))

    def populate(self, proxies: Iterable[dict[str, Any]]) -> list[Proxy]:
        """Create or keep proxies in one call; a proxy with the same address keeps its toxics."""
        items = list(proxies)
        for item in items:
            self._guard(str(item.get("upstream", "")))
        data = self.request("POST", "/populate", items)
        return [Proxy(self, ProxyInfo.from_json(p)) for p in data.get("proxies") or ()]

    def _guard(self, upstream: str) -> None:
        try:
            host, _ = split_host_port(upstream)
        except ValueError:
            return  # the server reports a malformed address with its own words
        check_host(host, self.allowed_hosts, what="proxy upstream")


class Proxy:
    """A handle on one proxy. Its fields are a snapshot; `refresh()` re-reads them."""

    def __init__(self, client: ToxiproxyClient, info: ProxyInfo) -> None:
        self.client = client
        self.info = info

    def __repr__(self) -> str:
        return f"Proxy({self.name!r}, listen={self.listen!r}, upstream={self.info.upstream!r})"

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def listen(self) -> str:
        return self.info.listen

    @property
    def upstream(self) -> str:
        return self.info.upstream

    @property
    def enabled(self) -> bool:
        return self.info.enabled

    @property
    def host(self) -> str:
        return self.info.host

    @property
    def port(self) -> int:
        return self.info.port

    @property
    def _path(self) -> str:
        return f"/proxies/{self.info.name}"

    def refresh(self) -> Proxy:
        self.info = ProxyInfo.from_json(self.client.request("GET", self._path))
        return self

    def update(
        self, *, listen: str | None = None, upstream: str | None = None, enabled: bool | None = None
    ) -> Proxy:
        body: dict[str, Any] = {}
        if listen is not None:
            body["listen"] = listen
        if upstream is not None:
            self.client._guard(upstream)
            body["upstream"] = upstream
        if enabled is not None:
            body["enabled"] = enabled
        self.info = ProxyInfo.from_json(self.client.request("PATCH", self._path, body))
        return self

    def enable(self) -> Proxy:
        return self.update(enabled=True)

    def disable(self) -> Proxy:
        """Close the listener and every live connection; the port is kept for `enable`."""
        return self.update(enabled=False)

    def delete(self) -> None:
        self.client.request("DELETE", self._path)

    # -- toxics ----------------------------------------------------------------------
    def toxics(self) -> list[Toxic]:
        return [Toxic.from_json(t) for t in self.client.request("GET", f"{self._path}/toxics")]

    def get_toxic(self, name: str) -> Toxic:
        return Toxic.from_json(self.client.request("GET", f"{self._path}/toxics/{name}"))

    def add_toxic(
        self,
        type: str,
        *,
        name: str | None = None,
        stream: Stream = "downstream",
        toxicity: float = 1.0,
        **attributes: float,
    ) -> Toxic:
        body: dict[str, Any] = {
            "type": type,
            "stream": stream,
            "toxicity": toxicity,
            "attributes": _int_attributes(attributes),
        }
        if name is not None:
            body["name"] = name
        try:
            return Toxic.from_json(self.client.request("POST", f"{self._path}/toxics", body))
        except InvalidRequest as exc:
            # The embedded server knows these types, so only a real Toxiproxy (binary, its
            # container, or an external one) answers this; its /version cannot tell them apart.
            if type in EXTENSION_TYPES and exc.message == INVALID_TOXIC_TYPE:
                raise ExtensionUnsupported(
                    exc.status,
                    f"toxic type {type!r} is a stack-uat extension that only the embedded fault "
                    f"plane implements; the Toxiproxy at {self.client.url} refused it "
                    f"({exc.message}). Use the embedded backend (--backend embedded) for it.",
                ) from exc
            raise

    def update_toxic(self, name: str, *, toxicity: float | None = None, **attributes: float) -> Toxic:
        """Change only what is given; other attributes and the toxicity stay as they are."""
        body: dict[str, Any] = {"attributes": _int_attributes(attributes)}
        if toxicity is not None:
            body["toxicity"] = toxicity
        return Toxic.from_json(self.client.request("PATCH", f"{self._path}/toxics/{name}", body))

    def remove_toxic(self, name: str) -> None:
        self.client.request("DELETE", f"{self._path}/toxics/{name}")

    @contextlib.contextmanager
    def toxic(
        self,
        type: str,
        *,
        name: str | None = None,
        stream: Stream = "downstream",
        toxicity: float = 1.0,
        **attributes: float,
    ) -> Iterator[Toxic]:
        """A toxic for the length of a `with` block; removed on the way out, whatever happens."""
        toxic = self.add_toxic(type, name=name, stream=stream, toxicity=toxicity, **attributes)
        try:
            yield toxic
        finally:
            with contextlib.suppress(NotFound):
                self.remove_toxic(toxic.name)

    @contextlib.contextmanager
    def down(self) -> Iterator[Proxy]:
        """The proxy disabled for the length of a `with` block, and enabled again after."""
        self.disable()
        try:
            yield self
        finally:
            self.enable()
