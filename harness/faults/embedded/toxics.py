"""The toxic catalogue: types, attributes and their wire form (reference §1 and §2).

Decoding follows Go's order of checks and its error text (gofields.py). Where Toxiproxy 2.12
would crash instead of answering, we refuse with 400: a slicer `average_size` below 1 (Go
recurses forever) and a negative bandwidth `rate` (Go slices with a negative bound and panics).

Extensions: `packet_loss` and `corrupt` are stack-uat's own types (see extensions.py). Their
attributes have defaults and ranges; everything else about them (names, streams, toxicity,
updates) follows Toxiproxy's rules. A real Toxiproxy refuses them as an invalid toxic type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from . import extensions, gojson
from .errors import INVALID_STREAM, INVALID_TOXIC_TYPE, TOXIC_EXISTS, ApiError, bad_body
from .gofields import Convert, StructDecoder, as_float32, as_int, as_str, type_error

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
    "packet_loss": ("PacketLossToxic", tuple(extensions.DEFAULTS["packet_loss"])),
    "corrupt": ("CorruptToxic", tuple(extensions.DEFAULTS["corrupt"])),
}
# Go declares every attribute int64 except the slicer's, which are plain int.
_INT_TYPES = {"SlicerToxic": "int"}
# Bounds we enforce where Go would crash, and the extensions' own (inclusive; None: no bound).
_RANGES: dict[str, dict[str, tuple[int, int | None]]] = {
    "slicer": {"average_size": (1, None)},
    "bandwidth": {"rate": (0, None)},
    **extensions.RANGES,
}
WRAPPER_TYPE = "toxics.ToxicWrapper"
_ATTRIBUTES_TYPE = 'struct { Attributes interface {} "json:\\"attributes\\"" }'
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
    # An extension toxic's counts of what it did, summed over its connections (extensions.EFFECTS).
    effects: dict[str, int] = field(default_factory=dict, compare=False)
    # How many links this toxic has been put on: each link's stage draws from its own ordinal.
    links_seen: int = field(default=0, compare=False)

    def count(self, effect: str, n: int = 1) -> None:
        self.effects[effect] = self.effects.get(effect, 0) + n

    def next_link(self) -> int:
        """The ordinal of the next link this toxic goes on (0, 1, ...), for its seeded draws."""
        self.links_seen += 1
        return self.links_seen - 1

    def attr(self, key: str) -> int:
        return self.attributes.get(key, 0)

    def to_json(self) -> dict[str, Any]:
        found = {
            "attributes": dict(self.attributes),
            "name": self.name,
            "type": self.type,
            "stream": self.stream if self.stream_as_sent is None else self.stream_as_sent,
            "toxicity": gojson.number(self.toxicity),
        }
        if self.type in extensions.EFFECTS:  # Toxiproxy's own toxics keep Toxiproxy's exact shape
            found["effects"] = {name: self.effects.get(name, 0) for name in extensions.EFFECTS[self.type]}
        return found


def _check_range(toxic_type: str, key: str, value: int) -> None:
    bounds = _RANGES.get(toxic_type, {}).get(key)
    if bounds is None:
        return
    low, high = bounds
    if value < low or (high is not None and value > high):
        allowed = f"at least {low}" if high is None else f"between {low} and {high}"
        raise bad_body(f"{toxic_type} {key} must be {allowed}, got {value}")


def _attribute(toxic_type: str, key: str) -> Convert:
    struct_name, _ = TOXIC_TYPES[toxic_type]
    go_int = _INT_TYPES.get(struct_name, "int64")

    def convert(value: Any) -> int:
        # Go reports the full field path from the body's root: LatencyToxic.attributes.latency
        number = as_int(value, f"{struct_name}.attributes.{key}", go_int)
        _check_range(toxic_type, key, number)
        return number

    return convert


def _attributes_into(decoder: StructDecoder, toxic_type: str, target: dict[str, int]) -> Convert:
    """The `attributes` field: fill `target` key by key (Go decodes into the toxic itself)."""
    struct_name, names = TOXIC_TYPES[toxic_type]
    fields = {key: _attribute(toxic_type, key) for key in names}

    def convert(value: Any) -> dict[str, int]:
        # The enclosing struct is anonymous, which Go's errors name "".
        decoder.fill(value, target, fields, f"toxics.{struct_name}", ".attributes")
        return target

    return convert


def _attributes_shape(value: Any) -> Any:
    """Go's first decode puts attributes into an empty NoopToxic: only a non-object fails there."""
    if not isinstance(value, dict):
        raise type_error(value, "ToxicWrapper.attributes", "toxics.NoopToxic")
    return value


_WRAPPER_FIELDS: dict[str, Convert] = {
    "name": lambda v: as_str(v, "ToxicWrapper.name"),
    "type": lambda v: as_str(v, "ToxicWrapper.type"),
    "stream": lambda v: as_str(v, "ToxicWrapper.stream"),
    "toxicity": lambda v: as_float32(v, "ToxicWrapper.toxicity"),
    "attributes": _attributes_shape,
}


def new_toxic(body: Any, taken: set[str]) -> ToxicSpec:
    """Build a toxic from a POST body, running Toxiproxy's checks in Toxiproxy's order."""
    wrapper: dict[str, Any] = {"name": "", "type": "", "stream": "downstream", "toxicity": 1.0}
    decoder = StructDecoder()
    decoder.fill(body, wrapper, _WRAPPER_FIELDS, WRAPPER_TYPE)
    decoder.check()
    name, toxic_type, raw_stream = wrapper["name"], wrapper["type"], wrapper["stream"]
    stream = parse_stream(raw_stream)
    if not name:
        name = f"{toxic_type}_{raw_stream}"
    if toxic_type not in TOXIC_TYPES:
        raise ApiError(INVALID_TOXIC_TYPE, 400)
    if name in taken:
        raise ApiError(TOXIC_EXISTS, 409)
    # Go's second decode reads the body again, now into the typed toxic.
    attributes = dict(extensions.DEFAULTS.get(toxic_type) or dict.fromkeys(TOXIC_TYPES[toxic_type][1], 0))
    decoder = StructDecoder()
    fields = {"attributes": _attributes_into(decoder, toxic_type, attributes)}
    decoder.fill(body, {}, fields, _ATTRIBUTES_TYPE)
    decoder.check()
    for key, value in attributes.items():  # a default that is out of range (slicer's 0)
        _check_range(toxic_type, key, value)
    return ToxicSpec(name, toxic_type, stream, wrapper["toxicity"], attributes, stream_as_sent=raw_stream)


def update_toxic(spec: ToxicSpec, body: Any) -> None:
    """Apply a PATCH body to `spec` in place: only sent attribute keys change; type, stream
    and name never do.

    Go decodes the body straight into the live toxic, so when one field is bad every
    attribute that did fit stays applied (and running links see it), while the toxicity and
    the restart of the links wait for a clean decode. The error names the first bad field."""
    values: dict[str, Any] = {"toxicity": spec.toxicity}
    decoder = StructDecoder()
    fields: dict[str, Convert] = {
        "attributes": _attributes_into(decoder, spec.type, spec.attributes),
        "toxicity": lambda v: as_float32(v, ".toxicity"),
    }
    decoder.fill(body, values, fields, _PATCH_TYPE)
    decoder.check()
    spec.toxicity = values["toxicity"]
