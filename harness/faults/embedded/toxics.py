"""The toxic catalogue: types, attributes and their wire form (reference §1 and §2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from . import gojson
from .errors import INVALID_STREAM, INVALID_TOXIC_TYPE, ApiError

Stream = Literal["upstream", "downstream"]

# type -> (Go struct name used in decode errors, attribute names in wire order)
TOXIC_TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "noop": ("NoopToxic", ()),
    "latency": ("LatencyToxic", ("latency", "jitter")),
    "bandwidth": ("BandwidthToxic", ("rate",)),
    "slow_close": ("SlowCloseToxic", ("delay",)),
    "timeout": ("TimeoutToxic", ("timeout",)),
    "reset_peer": ("ResetToxic", ("timeout",)),
    "slicer": ("SlicerToxic", ("average_size", "size_variation", "delay")),
    "limit_data": ("LimitDataToxic", ("bytes",)),
}


def parse_stream(raw: str) -> Stream:
    lowered = raw.lower()
    if lowered in ("", "downstream"):
        return "downstream"
    if lowered == "upstream":
        return "upstream"
    raise ApiError(INVALID_STREAM, 400)


@dataclass
class ToxicSpec:
    """One configured toxic. The runtime copies live on each link (see stages.py)."""

    name: str
    type: str
    stream: Stream
    toxicity: float = 1.0
    attributes: dict[str, int] = field(default_factory=dict)

    def attr(self, key: str) -> int:
        return self.attributes.get(key, 0)

    def to_json(self) -> dict[str, Any]:
        return {
            "attributes": dict(self.attributes),
            "name": self.name,
            "type": self.type,
            "stream": self.stream,
            "toxicity": gojson.number(self.toxicity),
        }


def decode_attributes(toxic_type: str, raw: Any, current: dict[str, int] | None) -> dict[str, int]:
    """Merge sent attributes over `current` (zero values for a new toxic); unknown keys are ignored."""
    struct_name, names = TOXIC_TYPES[toxic_type]
    merged = dict(current) if current is not None else dict.fromkeys(names, 0)
    if raw is None:
        return merged
    for key, value in gojson.fields(raw, names, struct_name).items():
        merged[key] = gojson.as_int(value, f"{struct_name}.{key}")
    if toxic_type == "slicer" and merged["average_size"] <= 0:
        # Go recurses forever on average_size 0 and the server dies; refuse it instead.
        raise ApiError("bad request body: slicer average_size must be greater than 0", 400)
    return merged


def new_toxic(body: Any, taken: set[str]) -> ToxicSpec:
    """Build a toxic from a POST body, running Toxiproxy's checks in Toxiproxy's order."""
    picked = gojson.fields(body, ("name", "type", "stream", "toxicity", "attributes"), "ToxicWrapper")
    name = gojson.as_str(picked.get("name"), "ToxicWrapper.name")
    toxic_type = gojson.as_str(picked.get("type"), "ToxicWrapper.type")
    raw_stream = gojson.as_str(picked["stream"], "ToxicWrapper.stream") if "stream" in picked else "downstream"
    toxicity = 1.0
    if "toxicity" in picked:
        toxicity = gojson.as_float32(picked["toxicity"], "ToxicWrapper.toxicity")
    stream = parse_stream(raw_stream)
    if not name:
        name = f"{toxic_type}_{raw_stream}"
    if toxic_type not in TOXIC_TYPES:
        raise ApiError(INVALID_TOXIC_TYPE, 400)
    if name in taken:
        raise ApiError("toxic already exists", 409)
    attributes = decode_attributes(toxic_type, picked.get("attributes"), None)
    return ToxicSpec(name=name, type=toxic_type, stream=stream, toxicity=toxicity, attributes=attributes)


def updated_toxic(spec: ToxicSpec, body: Any) -> ToxicSpec:
    """Apply a PATCH body: only sent attribute keys change; type, stream and name never do."""
    picked = gojson.fields(body, ("toxicity", "attributes"), "ToxicWrapper")
    toxicity = spec.toxicity
    if "toxicity" in picked:
        toxicity = gojson.as_float32(picked["toxicity"], "ToxicWrapper.toxicity")
    attributes = decode_attributes(spec.type, picked.get("attributes"), spec.attributes)
    return ToxicSpec(spec.name, spec.type, spec.stream, toxicity, attributes)
