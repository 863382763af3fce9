"""Is the document valid OpenAPI 3.0 or 3.1? openapi-spec-validator judges, and every error it
finds (not just the first) becomes a `valid-openapi` blocker at the JSON pointer of the bad node.

The validator is given no `$ref` handlers: it reads this one document and fetches nothing, whatever
URL or file a `$ref` names (the harness's network rule). A `$ref` outside the document, or into a
part of it that does not exist, is reported here instead, where it is written.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# The errors are read as jsonschema's (their context, best_match): the validator must not switch to
# its jsonschema-rs backend, which it does on its own once that package is installed (Schemathesis
# brings it). Set before its schema validators are first built, which happens lazily on first use.
os.environ["OPENAPI_SPEC_VALIDATOR_SCHEMA_VALIDATOR_BACKEND"] = "jsonschema"

from jsonschema.exceptions import best_match  # type: ignore[import-untyped]
from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator
from openapi_spec_validator.validation.validators import SpecValidator

from .document import child, pointer, points_nowhere
from .model import Document, Finding, RuleInfo

VALID_OPENAPI = RuleInfo(
    id="valid-openapi",
    title="The document is valid OpenAPI 3.0 or 3.1",
    severity="blocker",
    why="The agency builds, and the contract run (Schemathesis) tests, from this document: an invalid "
    "spec is read differently by each tool, or not at all, so nothing it says can be relied on.",
    fix="Fix each error at the place named; convert Swagger 2.0 to OpenAPI 3; bundle external `$ref`s "
    "into the one document.",
)
MAX_ERRORS = 50
MAX_MESSAGE = 300
# Values that are data, not OpenAPI: a `$ref` key inside them is not a reference.
_DATA_KEYS = frozenset({"example", "default", "enum", "const"})
# Keywords whose value is a map from names to objects: a property may be called `default`.
_NAMED = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "paths", "webhooks", "responses", "headers"}
    | {"schemas", "parameters", "requestBodies", "securitySchemes", "examples", "links", "callbacks"}
    | {"content", "pathItems", "encoding", "variables", "mapping"}
)


class _V30(OpenAPIV30SpecValidator):
    resolver_handlers: dict[str, Any] = {}  # local `$ref`s only: no URL or file is ever read


class _V31(OpenAPIV31SpecValidator):
    resolver_handlers: dict[str, Any] = {}


_VALIDATORS: dict[str, type[SpecValidator]] = {"3.0": _V30, "3.1": _V31}


@dataclass(frozen=True)
class Validation:
    version: str | None  # the `openapi` version when it is 3.0.x or 3.1.x: the rules can read it
    findings: tuple[Finding, ...]


def validate(doc: Document) -> Validation:
    version = doc.get("openapi")
    if "swagger" in doc and version is None:
        return _refused(
            pointer("swagger"),
            f"Swagger {doc['swagger']} (OpenAPI 2.0) is not supported: convert it to OpenAPI 3.0 or 3.1",
        )
    if version is None:
        return _refused(pointer(), "no `openapi` field: the document must say its version (3.0.x or 3.1.x)")
    if not isinstance(version, str):
        return _refused(
            pointer("openapi"),
            f'`openapi` is {version!r}, not a string: quote it, e.g. "3.0.3" (YAML reads 3.0 as a number)',
        )
    validator = _VALIDATORS.get(".".join(version.split(".")[:2]))
    if validator is None:
        return _refused(
            pointer("openapi"), f"OpenAPI {version} is not supported: the review reads 3.0 and 3.1"
        )
    findings = list(_bad_refs(doc, doc, pointer()))
    for error in _errors(validator, doc, references_ok=not findings):
        found = _finding(error)
        if found not in findings:
            findings.append(found)
        if len(findings) > MAX_ERRORS:
            break
    if len(findings) > MAX_ERRORS:
        more = _finding_at(pointer(), f"more than {MAX_ERRORS} errors: the rest are not shown")
        findings[MAX_ERRORS:] = [more]
    return Validation(version, tuple(findings))


def _refused(at: str, message: str) -> Validation:
    return Validation(None, (_finding_at(at, message),))


def _errors(validator: type[SpecValidator], doc: Document, *, references_ok: bool) -> Iterator[Any]:
    """The validator's errors. Its second pass (operation ids, path parameters, defaults) follows
    `$ref`s and raises on one it cannot resolve, so with a bad `$ref` only the schema pass runs. It
    can also raise on shapes its schema pass already reported (a list where `paths` belongs); what
    it found until then is kept, and the stop is reported."""
    if not references_ok:
        yield from validator.schema_validator.iter_errors(doc)
        return
    try:
        yield from validator(doc).iter_errors()
    except Exception as exc:  # any crash of a third-party validator on a malformed document
        yield _Stopped(f"the validator stopped on this document ({type(exc).__name__}: {exc})")


class _Stopped:
    """A validator crash, dressed as an error at the document's root."""

    def __init__(self, message: str) -> None:
        self.message, self.context, self.absolute_path = message, None, ()


def _finding(error: Any) -> Finding:
    best = _closest(error)
    path = list(best.absolute_path)
    return _finding_at(pointer(*path) if path else _located(best.message), best.message)


def _closest(error: Any) -> Any:
    """For "not valid under any of the given schemas", the failure of the alternative that came
    closest, without the "'$ref' is a required property" every OpenAPI object's Reference branch adds."""
    if not error.context:
        return error
    branches = [e for e in error.context if not (e.validator == "required" and e.validator_value == ["$ref"])]
    return _closest(best_match(branches or error.context))


def _located(message: str) -> str:
    """The validator's cross-reference checks (duplicate operationId, unresolved path parameter) name
    the operation in their message, not as a path: `... for 'get' operation in '/v1/orders/{id}' ...`."""
    found = re.search(r"for '(\w+)'(?: operation)? in '([^']*)'", message)
    return pointer("paths", found.group(2), found.group(1)) if found else pointer()


def _finding_at(at: str, message: str) -> Finding:
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 3] + "..."
    return Finding(VALID_OPENAPI.id, VALID_OPENAPI.severity, at, message)


def _bad_refs(doc: Document, node: Any, at: str, *, names: bool = False) -> Iterator[Finding]:
    """Each `$ref` that leaves the document or points nowhere in it, where it is written. `names`:
    the keys of `node` are names (of properties, paths, responses), not keywords."""
    if isinstance(node, Mapping):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            yield _finding_at(at, f"`$ref` {ref!r} is outside this document: bundle the spec into one file")
        elif isinstance(ref, str) and points_nowhere(doc, ref):
            yield _finding_at(at, f"`$ref` {ref!r} points nowhere in this document")
        for key, value in node.items():
            key = str(key)
            if names or not (key in _DATA_KEYS or key.startswith("x-")):
                yield from _bad_refs(doc, value, child(at, key), names=not names and key in _NAMED)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _bad_refs(doc, value, child(at, index))
