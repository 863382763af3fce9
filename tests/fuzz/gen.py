"""Seeded generators: the part of hypothesis' strategy API the fuzz suites use, built on random.Random.

Why not hypothesis' own strategies: its engine records, replays and mutates every choice an input makes.
A fuzzed request makes about 56, and that bookkeeping cost more than sending the request and checking
the answer (Zapier: 4.6 ms of generation an example against 3.5 ms of test body), so the nine suites took
over five minutes. Here hypothesis draws one integer, the seed (`seeded`), and the input is built from
it by these generators: one seed always builds the same input, so a run stays deterministic and a
failing seed replays. Hypothesis still drives the run, adds the `@example` cases, stops the test at the
first failure and reports the input; it shrinks only the seed, which is why the suites' assertions print
the whole input.

The names and signatures follow hypothesis' (`just`, `sampled_from`, `one_of`, `fixed_dictionaries`,
`lists`, `integers`, `text`, `binary`, `floats`, `tuples`, `builds`, `composite`, `.map`, `|`), so a
suite reads as it would with hypothesis. The distributions lean, as hypothesis' do, towards the edges:
bounds, empty values, huge numbers, control characters and astral code points.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Concatenate, Generic, ParamSpec, Protocol, TypeVar

from hypothesis import strategies as hst

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
U = TypeVar("U")
P = ParamSpec("P")


class SearchStrategy(Generic[T_co]):
    """A generator: `run(rng)` builds one value from the random source."""

    __slots__ = ("run",)

    def __init__(self, run: Callable[[random.Random], T_co]) -> None:
        self.run = run

    def map(self, f: Callable[[T_co], U]) -> SearchStrategy[U]:
        run = self.run
        return SearchStrategy(lambda rng: f(run(rng)))

    def __or__(self, other: SearchStrategy[U]) -> SearchStrategy[T_co | U]:
        return one_of(self, other)


class DrawFn(Protocol):
    def __call__(self, strategy: SearchStrategy[T]) -> T: ...


def seeded(strategy: SearchStrategy[T]) -> hst.SearchStrategy[T]:
    """The hypothesis strategy a suite's `@given` takes: one 64-bit seed, mapped to the built value.

    One seeded argument per test: hypothesis reuses a value it drew for one argument across examples
    (its mutator copies spans), so several arguments are built as one `tuples(...)` from one seed."""
    return hst.integers(0, 2**64 - 1).map(lambda seed: strategy.run(random.Random(seed)))


def composite(f: Callable[Concatenate[DrawFn, P], T]) -> Callable[P, SearchStrategy[T]]:
    """As hypothesis' `@composite`: `f(draw, ...)` becomes a factory of generators."""

    def factory(*args: P.args, **kwargs: P.kwargs) -> SearchStrategy[T]:
        def run(rng: random.Random) -> T:
            def draw(strategy: SearchStrategy[Any]) -> Any:
                return strategy.run(rng)

            return f(draw, *args, **kwargs)

        return SearchStrategy(run)

    return factory


def just(value: T) -> SearchStrategy[T]:
    return SearchStrategy(lambda rng: value)


def sampled_from(options: Sequence[T]) -> SearchStrategy[T]:
    pool = tuple(options)
    if not pool:
        raise ValueError("sampled_from needs at least one option")
    return SearchStrategy(lambda rng: pool[rng.randrange(len(pool))])


def one_of(*strategies: SearchStrategy[Any] | Iterable[SearchStrategy[Any]]) -> SearchStrategy[Any]:
    """A branch chosen uniformly; takes the strategies as arguments or as one iterable, as hypothesis."""
    flat: list[SearchStrategy[Any]] = []
    for s in strategies:
        flat.extend([s] if isinstance(s, SearchStrategy) else s)
    runs = tuple(s.run for s in flat)
    return SearchStrategy(lambda rng: runs[rng.randrange(len(runs))](rng))


def booleans() -> SearchStrategy[bool]:
    return SearchStrategy(lambda rng: rng.random() < 0.5)


# The values a parser's integer handling breaks on, whatever range a field claims.
_EDGE_INTS = [0, 1, -1, 2, 127, 128, 255, 256, 2**15 - 1, 2**15, 2**16, 2**31 - 1, 2**31, -(2**31),
              -(2**31) - 1, 2**32 - 1, 2**32, 2**53, 2**53 + 1, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1,
              2**64 - 1, 2**64, 10**20, -(10**20)]  # fmt: skip


def integers(min_value: int | None = None, max_value: int | None = None) -> SearchStrategy[int]:
    """Uniform within the bounds nine times in ten, else an edge: a bound, one inside it, or (unbounded) a
    width a fixed-size integer overflows at; unbounded, small values are the most common."""
    lo, hi = min_value, max_value
    if lo is not None and hi is not None:
        if lo > hi:
            raise ValueError(f"integers: min_value {lo} > max_value {hi}")
        edges = sorted({v for v in (lo, hi, lo + 1, hi - 1, 0, *_EDGE_INTS) if lo <= v <= hi})

        def bounded(rng: random.Random) -> int:
            return edges[rng.randrange(len(edges))] if rng.random() < 0.1 else rng.randint(lo, hi)

        return SearchStrategy(bounded)
    inside = [v for v in _EDGE_INTS if (lo is None or v >= lo) and (hi is None or v <= hi)]

    def unbounded(rng: random.Random) -> int:
        roll = rng.random()
        if roll < 0.25 and inside:
            return inside[rng.randrange(len(inside))]
        bits = rng.randrange(1, 8) if roll < 0.75 else rng.randrange(8, 130)
        value = rng.getrandbits(bits) * (1 if rng.random() < 0.6 else -1)
        if lo is not None and value < lo:
            return lo
        return hi if hi is not None and value > hi else value

    return SearchStrategy(unbounded)


_FLOAT_EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, 1e-7, 1e308, -1e308, 1.7976931348623157e308, 5e-324,
                2.0**53, float("inf"), float("-inf"), float("nan"), 3.4028234663852886e38,
                1.401298464324817e-45]  # fmt: skip


def floats(allow_nan: bool = True, width: int = 64) -> SearchStrategy[float]:
    """An edge a third of the time, any bit pattern a third (NaN payloads, subnormals), else a plain
    decimal; `width=32` gives values a float32 holds exactly."""
    fmt = {32: "<f", 64: "<d"}[width]
    size = width // 8
    edges = [v for v in _FLOAT_EDGES if allow_nan or v == v]
    edges = [struct.unpack(fmt, struct.pack(fmt, v))[0] for v in edges if width == 64 or abs(v) < 3.5e38]

    def run(rng: random.Random) -> float:
        roll = rng.random()
        if roll < 1 / 3:
            value: float = edges[rng.randrange(len(edges))]
        elif roll < 2 / 3:
            value = struct.unpack(fmt, rng.randbytes(size))[0]
        else:
            value = struct.unpack(fmt, struct.pack(fmt, round(rng.uniform(-1e6, 1e6), rng.randrange(7))))[0]
        return value if allow_nan or value == value else 0.0

    return SearchStrategy(run)


def _size(rng: random.Random, min_size: int, max_size: int | None) -> int:
    """A length: uniform when bounded; unbounded, mostly short, sometimes up to min_size + 40."""
    if max_size is None:
        return min_size + (rng.randrange(6) if rng.random() < 0.8 else rng.randrange(41))
    return rng.randint(min_size, max_size)


def _char_pools() -> list[str]:
    printable = "".join(chr(c) for c in range(0x20, 0x7F))
    control = "".join(chr(c) for c in [*range(0x20), 0x7F, 0x85])
    latin = "".join(chr(c) for c in range(0xA0, 0x180))
    odd = "\u00e9\u0301\u200b\u200d\u2028\u2029\u202e\ufeff\ufffd\uffff\u0663\u00df\u0130\u212a\u3000"
    return [printable, printable, printable, control, latin, odd]


_POOLS = _char_pools()


def _char(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.08:
        return chr(rng.choice([rng.randrange(0x180, 0xD800), rng.randrange(0xE000, 0x10000)]))
    if roll < 0.12:
        return chr(rng.randrange(0x10000, 0x110000))  # astral: two UTF-16 units, four UTF-8 bytes
    pool = _POOLS[rng.randrange(len(_POOLS))]
    return pool[rng.randrange(len(pool))]


def text(min_size: int = 0, max_size: int | None = None) -> SearchStrategy[str]:
    """Empty a fifth of the time; otherwise mostly ASCII with control characters, Latin-1, invisible and
    direction-changing code points and astral ones mixed in. Never a lone surrogate, as hypothesis."""

    def run(rng: random.Random) -> str:
        if max_size == 0 or (min_size == 0 and rng.random() < 0.2):
            return ""
        n = _size(rng, max(min_size, 1), max_size)
        return "".join(_char(rng) for _ in range(n))

    return SearchStrategy(run)


def binary(min_size: int = 0, max_size: int | None = None) -> SearchStrategy[bytes]:
    """Random bytes, or a run of one byte (0x00, 0xff or any) a quarter of the time."""

    def run(rng: random.Random) -> bytes:
        n = _size(rng, min_size, max_size)
        if n and rng.random() < 0.25:
            return bytes([rng.choice([0, 0xFF, rng.randrange(256)])]) * n
        return rng.randbytes(n)

    return SearchStrategy(run)


def lists(
    elements: SearchStrategy[T], min_size: int = 0, max_size: int | None = None
) -> SearchStrategy[list[T]]:
    element = elements.run
    return SearchStrategy(lambda rng: [element(rng) for _ in range(_size(rng, min_size, max_size))])


def tuples(*strategies: SearchStrategy[Any]) -> SearchStrategy[tuple[Any, ...]]:
    runs = tuple(s.run for s in strategies)
    return SearchStrategy(lambda rng: tuple(run(rng) for run in runs))


def fixed_dictionaries(
    mapping: Mapping[Any, SearchStrategy[Any]], *, optional: Mapping[Any, SearchStrategy[Any]] | None = None
) -> SearchStrategy[dict[Any, Any]]:
    """Every required key, each optional key half the time, in the order given."""
    required = tuple((k, s.run) for k, s in mapping.items())
    maybe = tuple((k, s.run) for k, s in (optional or {}).items())

    def run(rng: random.Random) -> dict[Any, Any]:
        out = {k: r(rng) for k, r in required}
        for k, r in maybe:
            if rng.random() < 0.5:
                out[k] = r(rng)
        return out

    return SearchStrategy(run)


def builds(
    target: Callable[..., T], *args: SearchStrategy[Any], **kwargs: SearchStrategy[Any]
) -> SearchStrategy[T]:
    runs = tuple(s.run for s in args)
    named = tuple((k, s.run) for k, s in kwargs.items())
    return SearchStrategy(lambda rng: target(*(r(rng) for r in runs), **{k: r(rng) for k, r in named}))
