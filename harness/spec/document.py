"""Reading an OpenAPI document the way the rules need it: JSON pointers, local `$ref`s, operations
with their parameters and responses.

Every accessor tolerates a malformed document (a list where a mapping belongs, a missing field):
the rules also run on specs that failed validation, and must judge what is there, not crash.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from .model import Document

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
HEALTH_SEGMENTS = frozenset({"health", "healthz", "ready", "readyz", "livez", "metrics"})
_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_EMPTY: Mapping[str, Any] = {}


def mapping(value: Any) -> Mapping[str, Any]:
    """`value` if it is a mapping, else an empty one: what a malformed node offers a rule."""
    return value if isinstance(value, Mapping) else _EMPTY


def listing(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def pointer(*parts: object) -> str:
    """A JSON pointer as a URI fragment: `pointer("paths", "/v1/orders", "post")` is
    `#/paths/~1v1~1orders/post`."""
    return "#" + "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def child(at: str, *parts: object) -> str:
    return at + pointer(*parts)[1:]


def words(name: str) -> list[str]:
    """`avgPrice`, `avg_price`, `Avg-Price` and `AVG_PRICE` all give ["avg", "price"]."""
    return [w.lower() for w in _WORDS.findall(name)]


def normalized(name: str) -> str:
    """A name without case or separators: `Idempotency-Key` and `idempotency_key` are equal."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def resolve(doc: Document, node: Any, at: str) -> tuple[Any, str]:
    """Follow local `$ref`s from `node` (found at `at`) to what they name, and where that is.
    A `$ref` that is external, points nowhere or loops is left as it is: validation reports it."""
    seen = {at}
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if not ref.startswith("#"):
            break
        target = _lookup(doc, ref)
        if target is _MISSING or ref in seen:
            break
        seen.add(ref)
        node, at = target, ref
    return node, at


def points_nowhere(doc: Document, ref: str) -> bool:
    return _lookup(doc, ref) is _MISSING


_MISSING = object()


def _lookup(doc: Document, ref: str) -> Any:
    node: Any = doc
    fragment = unquote(ref[1:])
    if not fragment:
        return node
    if not fragment.startswith("/"):
        return _MISSING
    for token in fragment[1:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return _MISSING
    return node


@dataclass(frozen=True)
class Parameter:
    name: str
    where: str  # the OpenAPI `in`: query, header, path, cookie
    required: bool
    node: Mapping[str, Any]
    at: str


@dataclass(frozen=True)
class Response:
    code: str
    node: Mapping[str, Any]
    at: str  # where its definition is (a shared response's, when the operation refers to one)


@dataclass(frozen=True)
class Operation:
    """One operation of `paths`, or of a 3.1 `webhooks` entry (a request the API sends out)."""

    path: str  # the path template, or the webhook's name
    method: str
    node: Mapping[str, Any]
    path_item: Mapping[str, Any]
    at: str
    outgoing: bool  # from `webhooks`: the API is the caller

    def parameters(self, doc: Document) -> list[Parameter]:
        """The path item's parameters overridden by the operation's (same name and `in`), resolved."""
        found: dict[tuple[str, str], Parameter] = {}
        path_at = self.at.rsplit("/", 1)[0]
        for source, at in ((self.path_item, path_at), (self.node, self.at)):
            for index, raw in enumerate(listing(source.get("parameters"))):
                node, where = resolve(doc, raw, child(at, "parameters", index))
                node = mapping(node)
                name, kind = node.get("name"), node.get("in")
                if isinstance(name, str) and isinstance(kind, str):
                    required = node.get("required") is True or kind == "path"
                    found[(name, kind)] = Parameter(name, kind, required, node, where)
        return list(found.values())

    def responses(self, doc: Document) -> list[Response]:
        found = []
        for code, raw in mapping(self.node.get("responses")).items():
            node, where = resolve(doc, raw, child(self.at, "responses", code))
            found.append(Response(str(code), mapping(node), where))
        return found

    @property
    def literal_segments(self) -> list[str]:
        return [s for s in self.path.split("/") if s and not s.startswith("{")]

    @property
    def health(self) -> bool:
        """A liveness, readiness or metrics endpoint (by its last path segment, or the tag `health`)."""
        segments = self.path.rstrip("/").split("/")
        tags = {t.lower() for t in listing(self.node.get("tags")) if isinstance(t, str)}
        return segments[-1].lower() in HEALTH_SEGMENTS or "health" in tags

    @property
    def webhook_receiver(self) -> bool:
        """A POST to a path naming a webhook: a partner (Stripe, DocuSign) calls it, signed."""
        return not self.outgoing and self.method == "post" and "webhook" in self.path.lower()


def operations(doc: Document) -> Iterator[Operation]:
    """Every operation under `paths`, then under `webhooks`, in document order."""
    for section, outgoing in (("paths", False), ("webhooks", True)):
        for path, raw in mapping(doc.get(section)).items():
            item, at = resolve(doc, raw, pointer(section, path))
            item = mapping(item)
            for method in METHODS:
                node = item.get(method)
                if isinstance(node, Mapping):
                    yield Operation(str(path), method, node, item, child(at, method), outgoing)


def security_of(doc: Document, op: Operation) -> tuple[list[Any], str]:
    """The security requirements in force for an operation, and where they are declared."""
    if "security" in op.node:
        return listing(op.node["security"]), child(op.at, "security")
    return listing(doc.get("security")), pointer("security")


def secured(doc: Document, op: Operation) -> bool:
    """Every alternative names a scheme: an empty requirement `{}` lets anonymous callers in."""
    requirements, _ = security_of(doc, op)
    return bool(requirements) and all(isinstance(r, Mapping) and r for r in requirements)


def media_schemas(doc: Document, node: Mapping[str, Any], at: str) -> Iterator[tuple[str, Any, str]]:
    """(media type, schema, where) for each entry of `node`'s `content` that has a schema."""
    for media, raw in mapping(node.get("content")).items():
        entry = mapping(raw)
        if "schema" in entry:
            yield str(media), entry["schema"], child(at, "content", media, "schema")
