"""Where a spec comes from: a file (JSON or YAML, told apart by its content), a loopback http(s)
URL, or `reference`, the bundled reference middleware's published spec.

Anything that cannot be read as one JSON or YAML mapping is refused with SpecUnreadable (exit 2),
naming the source and the problem, with the line and column of a syntax error.
"""

from __future__ import annotations

import datetime
import importlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml

from ..exitcodes import UsageFailure
from ..netguard import TargetRefused, check_host

REFERENCE = "reference"
URL_TIMEOUT_S = 10.0


class SpecUnreadable(UsageFailure):
    """The spec could not be read as an OpenAPI document: a usage error (exit 2), not a failed review."""


@dataclass(frozen=True)
class LoadedSpec:
    source: str  # what the architect named: the path, the URL, or `reference`
    document: dict[str, Any]


def load(source: str) -> LoadedSpec:
    if source == REFERENCE:
        return LoadedSpec(source, _reference())
    if source.startswith(("http://", "https://")):
        return LoadedSpec(source, _parse(_fetch(source), source))
    return LoadedSpec(source, _parse(_read(Path(source)), source))


def _reference() -> dict[str, Any]:
    """The reference's spec is data it publishes (the one it serves at /openapi.json): the harness
    reads that module alone, never the middleware itself, and gets a copy it may not change."""
    module = importlib.import_module("reference_middleware.openapi")
    return json.loads(json.dumps(module.SPEC))  # type: ignore[no-any-return]


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise SpecUnreadable(f"SPEC: {path}: no such file") from None
    except IsADirectoryError:
        raise SpecUnreadable(f"SPEC: {path}: is a directory, not a spec file") from None
    except UnicodeDecodeError as exc:
        raise SpecUnreadable(f"SPEC: {path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise SpecUnreadable(f"SPEC: {path}: cannot read it: {exc.strerror or exc}") from None


def _fetch(url: str) -> str:
    """GET a spec from a loopback URL only (the harness's network rule), without following redirects:
    a redirect could lead anywhere."""
    try:
        check_host(urlsplit(url).hostname or "", what="spec URL")
    except TargetRefused as exc:
        raise SpecUnreadable(f"SPEC: {exc}") from None
    try:
        answer = httpx.get(url, timeout=URL_TIMEOUT_S, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise SpecUnreadable(f"SPEC: {url}: cannot fetch it: {exc}") from None
    if answer.status_code != 200:
        raise SpecUnreadable(f"SPEC: {url}: answered HTTP {answer.status_code}, not 200 with the spec")
    return answer.text


def _parse(text: str, source: str) -> dict[str, Any]:
    """One JSON or YAML document as a mapping. JSON is tried first when the text looks like it (for
    JSON's own error positions), then YAML, which also reads JSON."""
    json_error: json.JSONDecodeError | None = None
    if text.lstrip().startswith(("{", "[")):
        try:
            return _mapping(json.loads(text), source)
        except json.JSONDecodeError as exc:
            json_error = exc
    try:
        parsed = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        if json_error is not None:
            where = f"line {json_error.lineno} column {json_error.colno}"
            raise SpecUnreadable(f"SPEC: {source}: not valid JSON at {where}: {json_error.msg}") from None
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        raise SpecUnreadable(f"SPEC: {source}: not valid YAML{where}: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise SpecUnreadable(f"SPEC: {source}: not valid YAML: {exc}") from None
    try:
        return _mapping(_as_json(parsed, set()), source)
    except _Recursive:
        raise SpecUnreadable(
            f"SPEC: {source}: a YAML alias contains itself: the document never ends"
        ) from None


def _mapping(document: Any, source: str) -> dict[str, Any]:
    if not isinstance(document, dict):
        kind = "empty" if document is None else f"a {type(document).__name__}"
        raise SpecUnreadable(f"SPEC: {source}: the document is {kind}, not a mapping (an OpenAPI object)")
    return document


class _Recursive(Exception):
    pass


def _as_json(value: Any, inside: set[int]) -> Any:
    """OpenAPI's data model is JSON's: YAML's own scalars become what JSON would hold, an unquoted
    `200:` key the string "200", a date its ISO text. A YAML alias may name the node it is in;
    JSON cannot hold that."""
    if isinstance(value, Mapping | list):
        if id(value) in inside:
            raise _Recursive
        inside.add(id(value))
        if isinstance(value, Mapping):
            converted: Any = {_scalar(k): _as_json(v, inside) for k, v in value.items()}
        else:
            converted = [_as_json(v, inside) for v in value]
        inside.discard(id(value))
        return converted
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _scalar(key: Any) -> str:
    if key is None or isinstance(key, bool):
        return json.dumps(key)
    if isinstance(key, datetime.date):
        return key.isoformat()
    return str(key)
