"""Strategies that turn well-formed wire messages into malformed ones that stay close to them.

Random bytes alone rarely get past a parser's first check, so every strategy here starts from a valid
message and breaks it a little: truncation, flipped and inserted bytes, invalid UTF-8, wrong JSON types,
unknown or missing fields, huge numbers, deep nesting, query parameters dropped, repeated, renamed or
given odd values. The parsers' deeper branches are reached that way.

The strategies are gen.py's seeded generators, not hypothesis' own: a suite's `@given` takes
`seeded(strategy)`, one seed an example (gen.py says why). `FUZZ` is the settings every in-process suite
uses: 10,000 examples (more with UAT_FUZZ_EXAMPLES, `make fuzz FUZZ_EXAMPLES=N`), derandomized and
without the example database, so CI runs the same inputs every time. `Tally` counts the examples a
suite really ran.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from aiohttp.http_exceptions import HttpProcessingError
from hypothesis import HealthCheck, settings

from . import gen as st

MIN_EXAMPLES = 10_000


def fuzz_examples(environ: Mapping[str, str] = os.environ) -> int:
    """Examples per in-process suite: UAT_FUZZ_EXAMPLES for a longer hunt before a release, never fewer
    than the 10,000 each suite's floors and the issue's bar are set at."""
    given = environ.get("UAT_FUZZ_EXAMPLES", "")
    raw = given.strip().replace("_", "")
    if not raw:
        return MIN_EXAMPLES
    if not raw.isascii() or not raw.isdigit() or int(raw) < MIN_EXAMPLES:
        raise ValueError(
            f"UAT_FUZZ_EXAMPLES={given!r}: give a whole number of examples, at least {MIN_EXAMPLES}"
        )
    return int(raw)


FUZZ = settings(
    max_examples=fuzz_examples(),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
LIVE = settings(FUZZ, max_examples=300)


@dataclass
class Tally:
    """Examples run, by category: the "at least 10,000" is counted, not assumed."""

    total: int = 0
    kinds: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str) -> None:
        self.total += 1
        self.kinds[kind] = self.kinds.get(kind, 0) + 1


class ErrorRecords(logging.Handler):
    """Collects ERROR records (an exception a server caught and logged is still a crash)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and isinstance(record.exc_info[1], HttpProcessingError):
            return  # aiohttp's HTTP parser refusing a request line or header: it answers 400 itself
        self.records.append(record)

    def take(self) -> list[str]:
        out = [f"{r.name}: {r.getMessage()} {r.exc_text or ''}" for r in self.records]
        self.records.clear()
        return out


@contextmanager
def event_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """A private loop the synchronous hypothesis body drives with run_until_complete."""
    loop = asyncio.new_event_loop()
    try:
        yield loop
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


@contextmanager
def error_records(*loggers: str) -> Iterator[ErrorRecords]:
    handler = ErrorRecords()
    for name in loggers:
        logging.getLogger(name).addHandler(handler)
    try:
        yield handler
    finally:
        for name in loggers:
            logging.getLogger(name).removeHandler(handler)


# -- bytes ---------------------------------------------------------------------------------------
INVALID_UTF8 = [b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80", b"\xe2\x82"]
_snippets = st.one_of(st.sampled_from(INVALID_UTF8), st.binary(min_size=1, max_size=12))
_where = st.integers(0, 1 << 16)  # a position, as a fraction of the message length

byte_ops = st.one_of(
    st.tuples(st.just("truncate"), _where),
    st.tuples(st.just("flip"), _where, st.integers(1, 255)),
    st.tuples(st.just("insert"), _where, _snippets),
    st.tuples(st.just("delete"), _where, st.integers(1, 16)),
    st.tuples(st.just("repeat"), _where, st.integers(1, 32), st.integers(2, 8)),
    st.tuples(st.just("replace"), st.binary(max_size=64)),
)


def _at(data: bytes | bytearray, where: int) -> int:
    return where * (len(data) + 1) >> 16


def apply_ops(data: bytes, ops: list[tuple[Any, ...]]) -> bytes:
    buf = bytearray(data)
    for op in ops:
        kind = op[0]
        if kind == "truncate":
            del buf[_at(buf, op[1]) :]
        elif kind == "flip" and buf:
            i = min(_at(buf, op[1]), len(buf) - 1)
            buf[i] ^= op[2]
        elif kind == "insert":
            i = _at(buf, op[1])
            buf[i:i] = op[2]
        elif kind == "delete":
            i = _at(buf, op[1])
            del buf[i : i + op[2]]
        elif kind == "repeat":
            i = _at(buf, op[1])
            buf[i:i] = bytes(buf[i : i + op[2]]) * op[3]
        elif kind == "replace":
            buf = bytearray(op[1])
    return bytes(buf)


def mutated(valid: st.SearchStrategy[bytes], max_ops: int = 3) -> st.SearchStrategy[bytes]:
    """A valid message with one to `max_ops` byte-level mutations applied."""
    return st.builds(apply_ops, valid, st.lists(byte_ops, min_size=1, max_size=max_ops))


# -- JSON ----------------------------------------------------------------------------------------
DEEP = "\x00deep\x00"  # a placeholder value, swapped for a deeply nested text after encoding
WEIRD_VALUES: list[Any] = [
    None, True, False, 0, -1, 1.5, -0.0, 2**31, 2**53 + 1, 2**63, -(2**63) - 1, 2**64, 10**40, 1e308,
    float("nan"), float("inf"), "", " ", "x" * 300, "\x00", "\ud800", "null", "1", "true", "é", [], {},
    [1, "a", None], {"": None}, {"a": {"b": [{}]}}, DEEP,
]  # fmt: skip
weird_values = st.one_of(st.sampled_from(WEIRD_VALUES), st.text(max_size=12), st.integers())
UNKNOWN_KEYS = ["", "x", "__proto__", "constructor", "NAME", "Name", "null", "é", "a" * 200]
_deep_shapes = st.tuples(
    st.sampled_from(["[", '{"a":', '{"name":', '{"attributes":']),
    st.sampled_from([2, 64, 600, 1100, 3000, 12000]),
    st.booleans(),  # balanced?
)


def _deep_text(shape: tuple[str, int, bool]) -> str:
    opener, depth, balanced = shape
    if not balanced:
        return opener * depth
    closer = "]" if opener == "[" else "}"
    inner = "1" if opener != "[" else ""
    return opener * depth + inner + closer * depth


def _containers(doc: Any, found: list[Any]) -> list[Any]:
    if isinstance(doc, dict | list):
        found.append(doc)
        for value in doc.values() if isinstance(doc, dict) else doc:
            _containers(value, found)
    return found


def _weird(draw: st.DrawFn) -> Any:
    return copy.deepcopy(draw(weird_values))  # sampled values are shared: never mutate them in place


# Strategies are built once: building them inside a composite costs more than the test it feeds.
_INDEX = st.integers(0, 1 << 16)
_JSON_OPS = st.lists(st.sampled_from(["set", "set", "drop", "add", "wrap", "whole"]), min_size=1, max_size=3)
_NEW_KEYS = st.sampled_from(UNKNOWN_KEYS) | st.text(max_size=6)
_BYTE_LEVEL = st.integers(0, 3)
_BYTE_OPS = st.lists(byte_ops, min_size=1, max_size=2)


def _pick(draw: st.DrawFn, options: list[Any]) -> Any:
    return options[draw(_INDEX) % len(options)]


@st.composite
def mutated_json(draw: st.DrawFn, valid: st.SearchStrategy[Any], byte_level: bool = True) -> bytes:
    """A valid JSON document with structural mutations, then maybe byte-level ones."""
    doc = copy.deepcopy(draw(valid))
    for op in draw(_JSON_OPS):
        targets = _containers(doc, [])
        if op == "whole" or not targets:
            doc = _weird(draw)
            continue
        box = _pick(draw, targets)
        if isinstance(box, dict):
            keys = sorted(box)
            if op in ("set", "wrap") and keys:
                key = _pick(draw, keys)
                box[key] = [box[key]] if op == "wrap" else _weird(draw)
            elif op == "drop" and keys:
                del box[_pick(draw, keys)]
            else:
                box[draw(_NEW_KEYS)] = _weird(draw)
        elif box:
            i = draw(_INDEX) % len(box)
            if op == "drop":
                del box[i]
            elif op == "wrap":
                box[i] = [box[i]]
            else:
                box[i] = _weird(draw)
        else:
            box.append(_weird(draw))
    text = json.dumps(doc)  # NaN and Infinity come out as the bare words: not JSON either
    if json.dumps(DEEP) in text:
        text = text.replace(json.dumps(DEEP), _deep_text(draw(_deep_shapes)))
    raw = text.encode("utf-8", "surrogatepass")
    if byte_level and draw(_BYTE_LEVEL) == 0:
        raw = apply_ops(raw, draw(_BYTE_OPS))
    return raw


def bind_body(body: bytes, bind: Callable[[str], str]) -> bytes:
    """Placeholders bound in a body that may be any bytes: its own bytes come back as they were (the
    undecodable ones ride through as surrogate escapes) and each bound value goes in as UTF-8. A value
    from the mock's state, such as a name an earlier input created, may be any text, which Latin-1,
    used here before, could not encode."""
    return bind(body.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")


def deep(opener: str, depth: int, balanced: bool = True) -> bytes:
    return _deep_text((opener, depth, balanced)).encode()


# -- query strings -------------------------------------------------------------------------------
WEIRD_QUERY = ["", " ", "-1", "0", "1e3", "1.5", "0x10", " 1", "1_000", "٣", "9" * 30, "9" * 5000, "NaN",
               "a,b,,", ",", "\x00", "é", "true", "[]", "null", "%", "%zz", "+", "&", "="]  # fmt: skip
query_values = st.one_of(st.sampled_from(WEIRD_QUERY), st.integers().map(str), st.text(max_size=12))
QUERY_SAFE = "%&=+;,/:@!$'()*~-._"  # kept as they are: a broken escape or a stray separator stays so
_QUERY_OPS = st.lists(
    st.sampled_from(["set", "set", "drop", "repeat", "rename", "add"]), min_size=1, max_size=3
)
_QUERY_KEYS = st.sampled_from(UNKNOWN_KEYS) | st.text(max_size=6)
_RENAMES = st.integers(0, 4)


def mostly_valid(valid: list[Any], odd: list[Any]) -> st.SearchStrategy[Any]:
    """One field's value: a valid one four times in five, else a nearly valid one, so that the several
    fields of one message are all valid often enough to reach the handler behind them."""
    return st.sampled_from(valid * -(-4 * len(odd) // len(valid)) + odd)


def query_pairs(
    required: dict[str, st.SearchStrategy[str]], optional: dict[str, st.SearchStrategy[str]] | None = None
) -> st.SearchStrategy[list[tuple[str, str]]]:
    """A query as (name, value) pairs in a fixed order: what `mutated_query` takes."""
    return st.fixed_dictionaries(required, optional=optional or {}).map(lambda d: list(d.items()))


def encode_query(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)


def _rename(name: str, how: int) -> str:
    return [name.upper(), name.lower(), name.swapcase(), "_".join(name), name[:-1]][how]


@st.composite
def mutated_query(
    draw: st.DrawFn, valid: st.SearchStrategy[list[tuple[str, str]]], byte_level: bool = True
) -> str:
    """A valid query, as (name, value) pairs, with a value swapped for an odd one, a pair dropped, repeated
    or renamed, or an unknown one added; percent-encoded, then maybe broken at the byte level (re-escaped
    where it must be, so it stays a request target: broken escapes and stray `&` and `=` stay)."""
    pairs = list(draw(valid))
    for op in draw(_QUERY_OPS):
        where = draw(_INDEX) % (len(pairs) + 1)
        if op == "add" or not pairs:
            pairs.insert(where, (draw(_QUERY_KEYS), draw(query_values)))
            continue
        i = where % len(pairs)
        name, value = pairs[i]
        if op == "set":
            pairs[i] = (name, draw(query_values))
        elif op == "drop":
            del pairs[i]
        elif op == "repeat":
            pairs.insert(where, (name, draw(query_values)))
        else:
            pairs[i] = (_rename(name, draw(_RENAMES)), value)
    text = encode_query(pairs)
    if byte_level and draw(_BYTE_LEVEL) == 0:
        text = quote(apply_ops(text.encode(), draw(_BYTE_OPS)), safe=QUERY_SAFE)
    return text
