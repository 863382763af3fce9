"""stack-uat's own toxic types: loss and corruption emulated at L4, as Toxiproxy API extensions.

Packet-level faults need netem or a veth pair, and neither exists on the hosts this runs on.
What an application behind TCP sees of them can still be produced in the proxy:

- `packet_loss`: TCP never shows a lost segment to the application; it shows the stall while
  the sender's retransmission timer runs. Each chunk is cut into `segment_size` segments and
  each transmission of a segment is lost or not by a Gilbert–Elliott chain (a good and a bad
  state, `good_to_bad_ppm` / `bad_to_good_ppm` chances to switch before each transmission,
  `good_loss_ppm` / `bad_loss_ppm` chances of loss in each). A lost transmission stalls the
  link for the RTO, which starts at `rto_ms` and doubles for each further loss of the same
  segment, up to `max_rto_ms` (Linux's 200 ms and 120 s by default; a cap below `rto_ms`
  means no backoff). Bytes are never dropped or reordered: the segment and everything behind
  it wait. A segment lost every time stalls the link until the toxic is changed or removed.
  Real TCP often repairs a lone loss by fast retransmit within a round trip; charging the
  RTO is the worst case, and a smaller `rto_ms` models the milder one.
- `corrupt`: each byte has a `byte_ppm` chance of one random bit flipped, to test parsers
  behind a buggy hop (TCP's checksum would catch most of this on a real wire; a middlebox or
  a bad NIC offload does not).

Probabilities are integers in parts per million, because Toxiproxy attributes are integers.
Randomness comes from `seed` (0: none of its own, use the server's seed if it has one) mixed
with the proxy, the connection's number and the toxic's name, so a run is repeatable.
A real Toxiproxy answers 400 "invalid toxic type" to these types.

What an extension toxic did is counted (`effects` in its JSON, a read-only field Toxiproxy's toxics
do not have): `lost` transmissions and the `stalled_ms` they cost, or `flipped` bytes. A fault that
was in force but touched nothing (no traffic, or no draw came up) is then told apart from one that
bit, so a scenario can demand proof that its loss happened (EVIDENCE: the count that must be
positive, and what to say when it is not).
"""

from __future__ import annotations

PPM = 1_000_000

# Attribute names in wire order with their defaults: unlike Toxiproxy's toxics, whose
# attributes start at zero, these start at values that make the toxic do something typical.
DEFAULTS: dict[str, dict[str, int]] = {
    "packet_loss": {
        "segment_size": 1448,  # a typical Ethernet MSS
        "good_to_bad_ppm": 10_000,
        "bad_to_good_ppm": 250_000,
        "good_loss_ppm": 0,
        "bad_loss_ppm": 250_000,  # about 1% loss overall, in bursts
        "rto_ms": 200,  # Linux's TCP_RTO_MIN
        "max_rto_ms": 120_000,  # Linux's TCP_RTO_MAX
        "seed": 0,
    },
    "corrupt": {"byte_ppm": 1000, "seed": 0},
}
EXTENSION_TYPES = frozenset(DEFAULTS)
EFFECTS: dict[str, tuple[str, ...]] = {"packet_loss": ("lost", "stalled_ms"), "corrupt": ("flipped",)}
EVIDENCE: dict[str, tuple[str, str]] = {
    "packet_loss": ("lost", "no segment was lost while it was in force"),
    "corrupt": ("flipped", "no byte was flipped while it was in force"),
}

# Inclusive (low, high) bounds; None means no upper bound.
_PROBABILITY = (0, PPM)
_POSITIVE = (1, None)
RANGES: dict[str, dict[str, tuple[int, int | None]]] = {
    "packet_loss": {
        "segment_size": _POSITIVE,
        "good_to_bad_ppm": _PROBABILITY,
        "bad_to_good_ppm": _PROBABILITY,
        "good_loss_ppm": _PROBABILITY,
        "bad_loss_ppm": _PROBABILITY,
        "rto_ms": _POSITIVE,
        "max_rto_ms": _POSITIVE,
    },
    "corrupt": {"byte_ppm": _PROBABILITY},
}
