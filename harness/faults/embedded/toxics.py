"""The toxic catalogue: types, attributes and their wire form (reference §1 and §2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from . import gojson
from .errors import INVALID_STREAM, INVALID_TOXIC_TYPE, TOXIC_EXISTS, ApiError

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
# Go declares every attribute int64 except the slicer's, which are plain int.
_INT_TYPES = {"SlicerToxic": "int"}
WRAPPER_TYPE = "toxics.ToxicWrapper"
_PATCH_TYPE = (
    'struct { Attributes interface {} "json:\\"attributes\\""; Toxicity float32 "json:\\"toxicity\\"" }'
)


def parse_stream(raw: str) -> Stream:
    """Go's stream.ParseDirection: case-insensitive, and "" is not a stream (omit it instead)."""
    lowered = raw.lower()
    if lowered == "downstream":
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
    # Go keeps and reports the stream exactly as the client sent it ("UpStream" stays so).
    stream_as_sent: str | None = None

    def attr(self, key: str) -> int:
        return self.attributes.get(key, 0)

    def to_json(self) -> dict[str, Any]:
        return {
            "attributes": dict(self.attributes),
            "name": self.name,
            "type": self.type,
            "stream": self.stream if self.stream_as_sent is None else self.stream_as_sent,
            "toxicity": gojson.number(self.toxicity),
        }


def decode_attributes(toxic_type: str, raw: Any, current: dict[str, int] | None) -> dict[str, int]:
    """Merge sent attributes over `current` (zero values for a new toxic); unknown keys are ignored."""
    struct_name, names = TOXIC_TYPES[toxic_type]
    merged = dict(current) if current is not None else dict.fromkeys(names, 0)
    if raw is None:
        return merged
    go_int = _INT_TYPES.get(struct_name, "int64")
    # Attributes are decoded through an anonymous struct, which Go's errors name "".
    picked = gojson.fields(raw, names, f"toxics.{struct_name}", ".attributes")
    for key, value in picked.items():
        # Go reports the full field path from the body's root: LatencyToxic.attributes.latency
        merged[key] = gojson.as_int(value, f"{struct_name}.attributes.{key}", go_int)
    if toxic_type == "slicer" and merged["average_size"] <= 0:
        # Go recurses forever on average_size 0 and the server dies; refuse it instead.
        raise ApiError("bad request body: slicer average_size must be greater than 0", 400)
    return merged


def _check_attributes_shape(raw: Any) -> None:
    """Go's first decode puts attributes into an empty NoopToxic: only a non-object fails there."""
    if raw is not None and not isinstance(raw, dict):
        raise gojson.type_error(raw, "ToxicWrapper.attributes", "toxics.NoopToxic")


def new_toxic(body: Any, taken: set[str]) -> ToxicSpec:
    """Build a toxic from a POST body, running Toxiproxy's checks in Toxiproxy's order."""
    picked = gojson.fields(body, ("name", "type", "stream", "toxicity", "attributes"), WRAPPER_TYPE)
    name = gojson.as_str(picked.get("name"), "ToxicWrapper.name")
    toxic_type = gojson.as_str(picked.get("type"), "ToxicWrapper.type")
    raw_stream = gojson.as_str(picked.get("stream", "downstream"), "ToxicWrapper.stream")
    toxicity = 1.0
    if "toxicity" in picked:
        toxicity = gojson.as_float32(picked["toxicity"], "ToxicWrapper.toxicity")
    _check_attributes_shape(picked.get("attributes"))
    stream = parse_stream(raw_stream)
    if not name:
        name = f"{toxic_type}_{raw_stream}"
    if toxic_type not in TOXIC_TYPES:
        raise ApiError(INVALID_TOXIC_TYPE, 400)
    if name in taken:
        raise ApiError(TOXIC_EXISTS, 409)
    attributes = decode_attributes(toxic_type, picked.get("attributes"), None)
    return ToxicSpec(name, toxic_type, stream, toxicity, attributes, stream_as_sent=raw_stream)


def updated_toxic(spec: ToxicSpec, body: Any) -> ToxicSpec:
    """Apply a PATCH body: only sent attribute keys change; type, stream and name never do."""
    # Go decodes a PATCH into an anonymous struct, whose name its errors leave empty.
    picked = gojson.fields(body, ("toxicity", "attributes"), _PATCH_TYPE)
    toxicity = spec.toxicity
    if "toxicity" in picked:
        toxicity = gojson.as_float32(picked["toxicity"], ".toxicity")
    attributes = decode_attributes(spec.type, picked.get("attributes"), spec.attributes)
    return ToxicSpec(spec.name, spec.type, spec.stream, toxicity, attributes, spec.stream_as_sent)
