"""JSON Schema as the rules read it: declared types, the properties and required names of an object
(through `allOf`, `oneOf`, `anyOf` and local `$ref`s), and a walk over every named schema.

Cycles (a schema that contains itself through a `$ref`) are cut: each helper remembers what it
has entered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .document import child, listing, mapping, resolve
from .model import Document

_BRANCHES = ("allOf", "oneOf", "anyOf")


def types(schema: Mapping[str, Any]) -> set[str]:
    """The declared `type`s (3.1 allows a list, `["string", "null"]`); for an untyped schema, what
    its keywords imply (`items`: an array, `properties`: an object)."""
    declared = schema.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return {t for t in declared if isinstance(t, str)}
    if "items" in schema:
        return {"array"}
    if "properties" in schema:
        return {"object"}
    return set()


def properties(doc: Document, schema: Any, at: str) -> dict[str, tuple[Mapping[str, Any], str]]:
    """Every property an object schema declares, own and through `allOf`, each resolved with its place."""
    found: dict[str, tuple[Mapping[str, Any], str]] = {}
    for node, where in _all_of(doc, schema, at, set()):
        for name, raw in mapping(node.get("properties")).items():
            prop, prop_at = resolve(doc, raw, child(where, "properties", name))
            found.setdefault(str(name), (mapping(prop), prop_at))
    return found


def required(doc: Document, schema: Any, at: str, seen: frozenset[str] = frozenset()) -> set[str]:
    """The property names every valid instance has: its own and `allOf`'s `required`, and those that
    every branch of a `oneOf` or `anyOf` requires."""
    node, where = resolve(doc, schema, at)
    node = mapping(node)
    if where in seen:
        return set()
    seen = seen | {where}
    names = {n for n in listing(node.get("required")) if isinstance(n, str)}
    for index, part in enumerate(listing(node.get("allOf"))):
        names |= required(doc, part, child(where, "allOf", index), seen)
    for keyword in ("oneOf", "anyOf"):
        branches = listing(node.get(keyword))
        if branches:
            common = [required(doc, b, child(where, keyword, i), seen) for i, b in enumerate(branches)]
            names |= set.intersection(*common)
    return names


def _all_of(doc: Document, schema: Any, at: str, seen: set[str]) -> Iterator[tuple[Mapping[str, Any], str]]:
    node, where = resolve(doc, schema, at)
    if where in seen:
        return
    seen.add(where)
    node = mapping(node)
    yield node, where
    for index, part in enumerate(listing(node.get("allOf"))):
        yield from _all_of(doc, part, child(where, "allOf", index), seen)


@dataclass(frozen=True)
class Site:
    """A schema reached by the walk: the name it is known by (a property's, a parameter's or a
    component's, inherited by its items and branches), and whether it lies inside a schema whose
    name the walk was told to mark (a money object's `value`, say)."""

    name: str
    node: Mapping[str, Any]
    at: str  # where it is written: a property, an item, a branch (perhaps only a `$ref`)
    resolved_at: str  # where its definition is, when a `$ref` led elsewhere; else `at`
    marked: bool


def walk(
    doc: Document, schema: Any, at: str, name: str = "", *, marks: Callable[[str], bool] = lambda _: False
) -> Iterator[Site]:
    """Every schema under `schema`: properties, items, additional and pattern properties, and the
    branches of `allOf`/`oneOf`/`anyOf`, with local `$ref`s followed. Each place is entered once per
    name and mark, so a schema that contains itself ends the walk there."""
    yield from _walk(doc, schema, at, name, False, marks, set())


def _walk(
    doc: Document,
    schema: Any,
    at: str,
    name: str,
    marked: bool,
    marks: Callable[[str], bool],
    seen: set[tuple[str, str, bool]],
) -> Iterator[Site]:
    node, where = resolve(doc, schema, at)
    if not isinstance(node, Mapping) or (at, name, marked) in seen:
        return
    seen.add((at, name, marked))
    yield Site(name, node, at, where, marked)
    inner = marked or (bool(name) and marks(name))
    for prop, raw in mapping(node.get("properties")).items():
        yield from _walk(doc, raw, child(where, "properties", prop), str(prop), inner, marks, seen)
    for keyword in ("items", "additionalProperties"):
        if isinstance(node.get(keyword), Mapping):
            yield from _walk(doc, node[keyword], child(where, keyword), name, marked, marks, seen)
    for keyword in ("prefixItems", *_BRANCHES):
        for index, part in enumerate(listing(node.get(keyword))):
            yield from _walk(doc, part, child(where, keyword, index), name, marked, marks, seen)
    for pattern, raw in mapping(node.get("patternProperties")).items():
        yield from _walk(doc, raw, child(where, "patternProperties", pattern), name, marked, marks, seen)
