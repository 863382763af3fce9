"""The seeded generators: one seed builds one input, and the inputs reach the edges the suites rely on."""

from __future__ import annotations

import math
import random
import struct
from typing import Any

import pytest
from hypothesis import given, settings

from . import gen as st
from .gen import seeded
from .mutate import MIN_EXAMPLES, byte_ops, fuzz_examples, mutated_json, mutated_query, query_pairs


def values(strategy: st.SearchStrategy[Any], n: int = 2000, seed: int = 0) -> list[Any]:
    rng = random.Random(seed)
    return [strategy.run(rng) for _ in range(n)]


REQUEST = st.fixed_dictionaries(
    {"id": st.sampled_from(["a", "b"]), "qty": st.integers(1, 10)},
    optional={"note": st.text(max_size=8), "tags": st.lists(st.integers(), max_size=3)},
)


def test_one_seed_builds_the_same_input_and_other_seeds_others() -> None:
    built = mutated_json(REQUEST)
    first = [built.run(random.Random(s)) for s in range(200)]
    assert first == [built.run(random.Random(s)) for s in range(200)]
    assert len(set(first)) > 150, "seeds should give different inputs"


def test_bounded_integers_stay_in_bounds_and_reach_both_bounds() -> None:
    seen = values(st.integers(-3, 1 << 16))
    assert min(seen) == -3 and max(seen) == 1 << 16
    assert {0, 1, 2**15, 2**16 - 1} <= set(seen)


def test_unbounded_integers_reach_the_widths_fixed_integers_overflow_at() -> None:
    seen = values(st.integers(), n=4000)
    assert {0, -1, 2**31, 2**63, -(2**63) - 1, 2**64} <= set(seen)
    assert any(abs(v) > 2**100 for v in seen) and sum(abs(v) < 128 for v in seen) > 1000
    half = values(st.integers(min_value=0))
    assert min(half) == 0 and max(half) >= 2**64


def test_text_is_sometimes_empty_never_a_lone_surrogate_and_reaches_control_and_astral() -> None:
    seen = values(st.text(max_size=12), n=3000)
    joined = "".join(seen)
    assert "" in seen and max(map(len, seen)) == 12
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in joined)
    assert "\x00" in joined and any(ord(c) > 0xFFFF for c in joined) and "\u202e" in joined
    assert all(len(t) >= 2 for t in values(st.text(min_size=2, max_size=3)))


def test_floats_reach_nan_infinities_and_signed_zero_and_fit_their_width() -> None:
    seen = values(st.floats(width=64))
    assert any(math.isnan(v) for v in seen) and math.inf in seen and -math.inf in seen
    assert any(v == 0 and math.copysign(1, v) < 0 for v in seen)
    for v in values(st.floats(width=32)):
        assert math.isnan(v) or struct.unpack("<f", struct.pack("<f", v))[0] == v
    assert not any(math.isnan(v) for v in values(st.floats(allow_nan=False)))


def test_collections_respect_their_sizes_and_optional_keys_come_and_go() -> None:
    sizes = {len(v) for v in values(st.lists(st.booleans(), min_size=1, max_size=3))}
    assert sizes == {1, 2, 3}
    assert {len(b) for b in values(st.binary(min_size=2, max_size=4))} == {2, 3, 4}
    unbounded = [len(v) for v in values(st.lists(st.just(1)))]
    assert min(unbounded) == 0 and 5 < max(unbounded) <= 40
    keys = [frozenset(d) for d in values(REQUEST)]
    assert all({"id", "qty"} <= k for k in keys)
    assert {frozenset({"id", "qty"}), frozenset({"id", "qty", "note", "tags"})} <= set(keys)


def test_one_of_map_builds_and_composite_compose() -> None:
    either = st.one_of(st.just("a"), [st.just("b"), st.just("c").map(str.upper)]) | st.just("d")
    assert set(values(either, n=400)) == {"a", "b", "C", "d"}
    pair = st.builds(lambda a, b: (a, b), st.sampled_from([1, 2]), b=st.just(3))
    assert set(values(pair, n=100)) == {(1, 3), (2, 3)}

    @st.composite
    def scaled(draw: st.DrawFn, factor: int) -> int:
        return draw(st.integers(1, 3)) * factor

    assert set(values(scaled(10), n=200)) == {10, 20, 30}
    assert values(st.tuples(st.just(1), st.booleans()), n=1)[0][0] == 1


def test_mutations_break_valid_inputs_at_every_level() -> None:
    docs = values(mutated_json(REQUEST), n=1000)
    assert all(isinstance(d, bytes) for d in docs)
    undecodable = sum(1 for d in docs if not _utf8(d))
    assert 20 < undecodable < 500, undecodable  # byte-level breakage, a minority
    queries = values(mutated_query(query_pairs({"a": st.just("1")}, {"b": st.just("2")})), n=500)
    assert "a=1" in queries and any("a=1" not in q for q in queries)
    assert {op[0] for op in values(byte_ops, n=300)} == {
        "truncate",
        "flip",
        "insert",
        "delete",
        "repeat",
        "replace",
    }


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_empty_and_inverted_choices_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one option"):
        st.sampled_from([])
    with pytest.raises(ValueError, match="min_value 3 > max_value 2"):
        st.integers(3, 2)


FINGERPRINT = st.SearchStrategy(lambda rng: rng.getrandbits(64))  # of the seed: one value per seed


def test_seeded_gives_each_hypothesis_example_a_fresh_seed_and_an_input() -> None:
    seen: list[int] = []

    @settings(max_examples=300, derandomize=True, database=None)
    @given(case=seeded(st.tuples(REQUEST, FINGERPRINT)))
    def run(case: tuple[dict[str, Any], int]) -> None:
        request, fingerprint = case
        assert {"id", "qty"} <= set(request) and 1 <= request["qty"] <= 10
        seen.append(fingerprint)

    run()
    assert len(seen) >= 300
    assert len(set(seen)) == len(seen), "each example should get a fresh seed"


def test_a_longer_hunt_is_asked_for_by_environment_and_never_runs_fewer_than_ten_thousand() -> None:
    assert fuzz_examples({}) == fuzz_examples({"UAT_FUZZ_EXAMPLES": " "}) == MIN_EXAMPLES == 10_000
    assert fuzz_examples({"UAT_FUZZ_EXAMPLES": "250_000"}) == 250_000
    for bad in ("9999", "-1", "1e6", "lots", "\u0663" * 6):
        with pytest.raises(ValueError, match=r"UAT_FUZZ_EXAMPLES=.*at least 10000"):
            fuzz_examples({"UAT_FUZZ_EXAMPLES": bad})
