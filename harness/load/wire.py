"""The target's adapter, carried to every Locust process (local or on another machine) as one
JSON option: the `[adapter]` table as written, the topology values that bind it, the allowlist,
and where the Stripe webhooks go. Each process rebuilds the same adapter from it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from ..adapters import Adapter, HttpApi, build, parse_adapter
from ..targetfields import Fields


@dataclass(frozen=True)
class AdapterWire:
    adapter: dict[str, Any]  # the target file's [adapter] table
    values: dict[str, Any]  # the topology's placeholder values, [env] included
    allowed_hosts: tuple[str, ...] = ()
    webhook_url: str = ""  # where the Stripe mock delivers a trader's onboarding webhooks
    source: str = "target"

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> AdapterWire:
        data = json.loads(text)
        return cls(
            data["adapter"],
            data["values"],
            tuple(data.get("allowed_hosts", ())),
            data.get("webhook_url", ""),
            data.get("source", "target"),
        )


@dataclass(frozen=True)
class Bound:
    """A process's way to the target: `api` for a declared HTTP adapter (its requests go through
    Locust's client, so Locust's statistics see them), else `adapter`, a coded one."""

    api: HttpApi | None
    adapter: Adapter | None
    webhook_url: str


@cache
def bind(text: str) -> Bound:
    wire = AdapterWire.from_json(text)
    spec = parse_adapter(Fields(wire.adapter, "adapter", wire.source))
    if spec.kind == "http":
        return Bound(HttpApi(spec, wire.values, wire.allowed_hosts), None, wire.webhook_url)
    return Bound(None, build(spec, wire.values, wire.allowed_hosts), wire.webhook_url)
