"""Typed views of Toxiproxy's proxy and toxic objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Stream = Literal["upstream", "downstream"]
ToxicType = Literal[
    "latency",
    "bandwidth",
    "slow_close",
    "timeout",
    "reset_peer",
    "slicer",
    "limit_data",
    "noop",
    "packet_loss",
    "corrupt",  # stack-uat's extensions: the embedded server only
]


@dataclass(frozen=True)
class Toxic:
    name: str
    type: str
    stream: Stream
    toxicity: float
    attributes: dict[str, int] = field(default_factory=dict)
    effects: dict[str, int] | None = None  # what an extension toxic did so far (embedded server only)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Toxic:
        effects = data.get("effects")
        return cls(
            name=data["name"],
            type=data["type"],
            stream=data.get("stream", "downstream"),
            toxicity=float(data.get("toxicity", 1.0)),
            attributes=dict(data.get("attributes") or {}),
            effects=dict(effects) if isinstance(effects, dict) else None,
        )


@dataclass(frozen=True)
class ProxyInfo:
    name: str
    listen: str
    upstream: str
    enabled: bool
    toxics: tuple[Toxic, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProxyInfo:
        return cls(
            name=data["name"],
            listen=data["listen"],
            upstream=data["upstream"],
            enabled=bool(data["enabled"]),
            toxics=tuple(Toxic.from_json(t) for t in data.get("toxics") or ()),
        )

    @property
    def host(self) -> str:
        host = self.listen.rpartition(":")[0]
        return host[1:-1] if host.startswith("[") else host

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])
