"""The Zaps, read from a TOML file: each a catch hook and ordered HTTP steps, checked field by field.

A bad file is refused with a ConfigError naming the field the way a reader finds it
(`zaps[2].steps[0].url: missing`), never with a traceback. `{{env.NAME}}` values come from
`--set NAME=value` and must all be given; URLs that use only env values are checked against the
delivery allowlist at load time, the rest when they are rendered.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from mocks.common import FaultError, RetryPolicy
from mocks.common.urls import check_delivery_url

from . import template

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ENCODINGS = ("json", "form")
ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
HEADER = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}")
MAX_ZAPS = 200
MAX_STEPS = 20


class ConfigError(ValueError):
    """A refused config: `field` is the dotted path of the offending value."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


@dataclass(frozen=True)
class Step:
    """One HTTP call. `url`, `headers` and `body` are templates rendered per run."""

    name: str
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    encoding: str = "json"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "method": self.method,
            "url": self.url,
            "headers": self.headers,
            "body": self.body,
            "encoding": self.encoding,
        }


@dataclass(frozen=True)
class Zap:
    id: str
    name: str
    enabled: bool
    hook: str
    steps: tuple[Step, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "enabled": self.enabled,
            "hook": self.hook,
            "steps": [s.to_json() for s in self.steps],
        }


@dataclass(frozen=True)
class Limits:
    """Per-hook token bucket (Zapier answers 429 past its rate), the run queue, and run jitter."""

    burst: int = 100  # bucket size: triggers a hook takes back to back
    refill_per_s: float = 66.0  # about 20,000 per 5 minutes, Zapier's documented ceiling
    queue_size: int = 1000  # runs accepted but not finished; past it, 429
    workers: int = 4  # runs executing at once
    jitter_ms: float = 20.0  # each run starts after a seeded 0..jitter_ms pause: no order promised

    def to_json(self) -> dict[str, Any]:
        return {
            "burst": self.burst,
            "refill_per_s": self.refill_per_s,
            "queue_size": self.queue_size,
            "workers": self.workers,
            "jitter_ms": self.jitter_ms,
        }


LIMIT_BOUNDS: dict[str, tuple[type, float, float]] = {
    "burst": (int, 1, 1_000_000),
    "refill_per_s": (float, 0, 1_000_000),
    "queue_size": (int, 1, 100_000),
    "workers": (int, 1, 64),
    "jitter_ms": (float, 0, 600_000),
}

# Zapier retries a failing step on its own schedule; the mock's default is seconds-scale.
DEFAULT_RETRY = RetryPolicy(
    max_attempts=3, base_delay_s=1.0, max_delay_s=30.0, timeout_s=10.0, deadline_s=600.0
)


@dataclass(frozen=True)
class ZapConfig:
    zaps: tuple[Zap, ...]
    account_id: str | None = None
    limits: Limits = Limits()
    retry: RetryPolicy = DEFAULT_RETRY


def parse_limits(raw: Any, default: Limits, where: str = "limits") -> Limits:
    """A partial limits table over `default`; shared by the config file and the control API."""
    if not isinstance(raw, dict):
        raise ConfigError(where, "must be a table")
    values = default.to_json()
    for name, value in raw.items():
        if name not in LIMIT_BOUNDS:
            raise ConfigError(f"{where}.{name}", f"unknown field; one of {', '.join(LIMIT_BOUNDS)}")
        kind, low, high = LIMIT_BOUNDS[name]
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if not numeric or (kind is int and not isinstance(value, int)) or not low <= value <= high:
            raise ConfigError(f"{where}.{name}", f"must be {kind.__name__} in [{low:g}, {high:g}]")
        values[name] = kind(value)
    return Limits(**values)


def load(path: str | Path, env: Mapping[str, str], allowed_hosts: Iterable[str] = ()) -> ZapConfig:
    """Read and check a config file; ConfigError (field `file`) when it is not readable TOML."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError("file", f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError("file", f"not UTF-8: {exc}") from None
    return loads(text, env, allowed_hosts)


def loads(text: str, env: Mapping[str, str], allowed_hosts: Iterable[str] = ()) -> ZapConfig:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("file", f"not valid TOML: {exc}") from None
    return parse(raw, env, allowed_hosts)


def example_text() -> str:
    """The shipped onboarding chain (zaps.example.toml), read as package data."""
    return resources.files(__package__).joinpath("zaps.example.toml").read_text(encoding="utf-8")


def parse(raw: Mapping[str, Any], env: Mapping[str, str], allowed_hosts: Iterable[str] = ()) -> ZapConfig:
    allowed = tuple(allowed_hosts)
    for name in env:
        if not ENV_NAME.fullmatch(name):
            raise ConfigError(f"env.{name}", "a --set name is letters, digits and _, not led by a digit")
    _known(raw, {"account_id", "limits", "retry", "zaps"}, "")
    account = raw.get("account_id")
    if account is not None and not (isinstance(account, str) and ID.fullmatch(account)):
        raise ConfigError("account_id", "must be 1-64 letters, digits, _ or -")
    limits = parse_limits(raw.get("limits", {}), Limits())
    try:
        retry = RetryPolicy.from_json(raw.get("retry"), DEFAULT_RETRY)
    except FaultError as exc:
        raise ConfigError(exc.field, exc.message) from None
    zaps_raw = raw.get("zaps")
    if not isinstance(zaps_raw, list) or not 1 <= len(zaps_raw) <= MAX_ZAPS:
        raise ConfigError("zaps", f"missing: declare 1 to {MAX_ZAPS} [[zaps]] tables")
    zaps = [_zap(z, f"zaps[{n}]", env, allowed) for n, z in enumerate(zaps_raw)]
    for kind in ("id", "hook"):
        seen: set[str] = set()
        for n, zap in enumerate(zaps):
            value = getattr(zap, kind)
            if value in seen:
                raise ConfigError(f"zaps[{n}].{kind}", f"{value!r} is used by an earlier Zap")
            seen.add(value)
    return ZapConfig(tuple(zaps), account, limits, retry)


def _known(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(f"{where}{key}", f"unknown field; one of {', '.join(sorted(allowed))}")


def _required(table: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in table:
        raise ConfigError(f"{where}.{key}", "missing")
    return table[key]


def _ident(table: Mapping[str, Any], key: str, where: str) -> str:
    value = _required(table, key, where)
    if not isinstance(value, str) or not ID.fullmatch(value):
        raise ConfigError(f"{where}.{key}", "must be 1-64 letters, digits, _ or -")
    return value


def _zap(raw: Any, where: str, env: Mapping[str, str], allowed: tuple[str, ...]) -> Zap:
    if not isinstance(raw, dict):
        raise ConfigError(where, "must be a table")
    _known(raw, {"id", "name", "enabled", "hook", "steps"}, f"{where}.")
    zap_id = _ident(raw, "id", where)
    name = raw.get("name", zap_id)
    if not isinstance(name, str) or not 1 <= len(name) <= 200:
        raise ConfigError(f"{where}.name", "must be a string of 1 to 200 characters")
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where}.enabled", "must be true or false")
    hook = _ident(raw, "hook", where)
    steps_raw = _required(raw, "steps", where)
    if not isinstance(steps_raw, list) or not 1 <= len(steps_raw) <= MAX_STEPS:
        raise ConfigError(f"{where}.steps", f"must be 1 to {MAX_STEPS} [[zaps.steps]] tables")
    steps: list[Step] = []
    for n, step_raw in enumerate(steps_raw):
        steps.append(_step(step_raw, f"{where}.steps[{n}]", [s.name for s in steps], env, allowed))
    return Zap(zap_id, name, enabled, hook, tuple(steps))


def _json_only(value: Any, where: str) -> None:
    """TOML has dates and times; a JSON body does not."""
    if isinstance(value, dict):
        for key, item in value.items():
            _json_only(item, f"{where}.{key}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            _json_only(item, f"{where}[{n}]")
    elif isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(where, "inf and nan have no JSON form")
    elif not isinstance(value, str | int | float | bool):
        raise ConfigError(where, f"a {type(value).__name__} has no JSON form; quote it as a string")


def _step(raw: Any, where: str, earlier: list[str], env: Mapping[str, str], allowed: tuple[str, ...]) -> Step:
    if not isinstance(raw, dict):
        raise ConfigError(where, "must be a table")
    _known(raw, {"name", "method", "url", "headers", "body", "encoding"}, f"{where}.")
    name = _ident(raw, "name", where)
    if name in earlier:
        raise ConfigError(f"{where}.name", f"{name!r} is already a step of this Zap")
    method = raw.get("method", "POST")
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise ConfigError(f"{where}.method", f"must be one of {', '.join(METHODS)}")
    url = _required(raw, "url", where)
    if not isinstance(url, str) or not url:
        raise ConfigError(f"{where}.url", "must be a non-empty string")
    headers = raw.get("headers", {})
    if not isinstance(headers, dict) or len(headers) > 50:
        raise ConfigError(f"{where}.headers", "must be a table of at most 50 string values")
    for key, value in headers.items():
        if not HEADER.fullmatch(key):
            raise ConfigError(f"{where}.headers.{key}", "is not a valid header name")
        if not isinstance(value, str) or any(c in value for c in "\r\n\x00"):
            raise ConfigError(f"{where}.headers.{key}", "must be a string without line breaks")
    encoding = raw.get("encoding", "json")
    if encoding not in ENCODINGS:
        raise ConfigError(f"{where}.encoding", 'must be "json" or "form"')
    body = raw.get("body")
    if body is not None and not isinstance(body, dict | list):
        raise ConfigError(f"{where}.body", "must be a table or an array (a JSON template)")
    if body is not None:
        _json_only(body, f"{where}.body")
    if encoding == "form" and body is not None and not isinstance(body, dict):
        raise ConfigError(f"{where}.body", 'must be a table when encoding is "form"')
    for part, value in (("url", url), ("headers", headers), ("body", body)):
        for expression in template.placeholders(value):
            try:
                template.check(expression, earlier, env)
            except template.TemplateError as exc:
                raise ConfigError(f"{where}.{part}", str(exc)) from None
    if not any(not e.startswith("env.") for e in template.placeholders(url)):
        try:
            check_delivery_url(template.render_text(url, {"env": dict(env)}), allowed, what="Zap step URL")
        except FaultError as exc:
            raise ConfigError(f"{where}.url", exc.message) from None
    return Step(name, method.upper(), url, dict(headers), body, encoding)
