"""The proxy collection and the API's operations on it, with Toxiproxy's rules for each."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from .errors import PROXY_EXISTS, PROXY_NOT_FOUND, ApiError, BindError, missing_field
from .gofields import Convert, StructDecoder, as_bool, as_str, type_error
from .proxy import Proxy, format_address, resolve_listen

# Go type names that appear in decode errors: POST /proxies and PATCH decode a Proxy;
# /populate decodes an array of an anonymous struct that embeds one.
PROXY_TYPE = "toxiproxy.Proxy"
POPULATE_ITEM_TYPE = 'struct { toxiproxy.Proxy; Enabled *bool "json:\\"enabled\\"" }'
POPULATE_TYPE = "[]" + POPULATE_ITEM_TYPE


@dataclass
class ProxyInput:
    name: str
    listen: str
    upstream: str
    enabled: bool | None

    @classmethod
    def decode(cls, body: Any, defaults: Proxy | None = None, *, populate: bool = False) -> ProxyInput:
        """Read a proxy body; fields left out (or null) keep `defaults`' values, as in Go.

        Go decodes into a copy of the proxy and applies nothing when decoding fails, so a bad
        field refuses the whole update; the error names the first bad field in body order."""
        struct = "" if populate else "Proxy"  # Go names an anonymous struct ""
        values: dict[str, Any] = {
            "name": "",
            "listen": defaults.listen if defaults else "",
            "upstream": defaults.upstream if defaults else "",
            "enabled": None,
        }
        fields: dict[str, Convert] = {
            "name": lambda v: as_str(v, f"{struct}.name"),
            "listen": lambda v: as_str(v, f"{struct}.listen"),
            "upstream": lambda v: as_str(v, f"{struct}.upstream"),
            "enabled": lambda v: as_bool(v, f"{struct}.enabled"),
        }
        decoder = StructDecoder()
        decoder.fill(body, values, fields, POPULATE_ITEM_TYPE if populate else PROXY_TYPE)
        decoder.check()
        return cls(**values)

    def require(self, suffix: str = "") -> None:
        if not self.name:
            raise missing_field("name", suffix)
        if not self.upstream:
            raise missing_field("upstream", suffix)


class ProxyCollection:
    """Every proxy on the server. All methods run on the server's event loop."""

    def __init__(self, *, seed: int | None = None) -> None:
        self.seed = seed  # seeds the toxics' random draws on every proxy (None: fresh entropy)
        self.proxies: dict[str, Proxy] = {}
        self._lock = asyncio.Lock()

    def get(self, name: str) -> Proxy:
        try:
            return self.proxies[name]
        except KeyError:
            raise ApiError(PROXY_NOT_FOUND, 404) from None

    async def create(self, body: Any) -> Proxy:
        spec = ProxyInput.decode(body)
        spec.require()
        async with self._lock:
            if spec.name in self.proxies:
                raise ApiError(PROXY_EXISTS, 409)
            return await self._start_new(spec)

    async def _start_new(self, spec: ProxyInput) -> Proxy:
        proxy = Proxy(spec.name, spec.listen, spec.upstream, seed=self.seed)
        if spec.enabled is not False:
            await proxy.start()
        self.proxies[spec.name] = proxy
        return proxy

    async def populate(self, body: Any) -> tuple[list[Proxy], ApiError | None]:
        if not isinstance(body, list):
            raise type_error(body, "", POPULATE_TYPE)
        specs = [ProxyInput.decode(item, populate=True) for item in body]
        for index, spec in enumerate(specs, start=1):
            spec.require(f" at proxy {index}")
        done: list[Proxy] = []
        async with self._lock:
            for spec in specs:
                try:
                    done.append(await self._populate_one(spec))
                except ApiError as exc:
                    return done, exc
        return done, None

    async def _populate_one(self, spec: ProxyInput) -> Proxy:
        existing = self.proxies.get(spec.name)
        if existing is not None:
            if not await _differs(existing, spec.listen, spec.upstream):
                return existing  # same resolved address: keep it, toxics and state included
            existing.stop()
            del self.proxies[spec.name]
        return await self._start_new(spec)

    async def update(self, name: str, body: Any) -> Proxy:
        async with self._lock:
            proxy = self.get(name)
            spec = ProxyInput.decode(body, defaults=proxy)
            wanted = proxy.enabled if spec.enabled is None else spec.enabled
            if await _differs(proxy, spec.listen, spec.upstream):
                proxy.stop()  # every live connection closes; it restarts below if wanted
                proxy.listen, proxy.upstream = spec.listen, spec.upstream
            if wanted and not proxy.enabled:
                await proxy.start()
            elif not wanted and proxy.enabled:
                proxy.stop()
            return proxy

    async def delete(self, name: str) -> None:
        async with self._lock:
            self.get(name).stop()
            del self.proxies[name]

    async def reset(self) -> None:
        async with self._lock:
            for proxy in list(self.proxies.values()):
                if not proxy.enabled:
                    await proxy.start()
                proxy.remove_all_toxics()

    def close(self) -> None:
        for proxy in self.proxies.values():
            proxy.stop()
        self.proxies.clear()


async def _differs(proxy: Proxy, listen: str, upstream: str) -> bool:
    """Go's Proxy.Differs: the new listen is resolved first, so a bad one fails before any change."""
    loop = asyncio.get_running_loop()
    new = await _resolve(loop, listen)
    if upstream != proxy.upstream:
        return True
    if listen == proxy.listen:
        return False
    if not proxy.enabled:
        # A disabled proxy may hold an unresolved listen string: resolve both sides. Go
        # compares the raw string there, so one that no longer resolves just "differs".
        try:
            return new != await resolve_listen(loop, proxy.listen)
        except ApiError:
            return True
    current = format_address(*new) if new[0] else None
    return current != proxy.listen


async def _resolve(loop: asyncio.AbstractEventLoop, listen: str) -> tuple[str, int]:
    """Resolve without listening: Go's ResolveTCPAddr errors lack the "listen tcp: " prefix."""
    try:
        return await resolve_listen(loop, listen)
    except BindError as exc:
        raise BindError(exc.message.removeprefix("listen tcp: ")) from None
