"""Target files: how to start a middleware, know it is ready, wire it to the topology, talk to
it, and judge it. A bad field is refused with a message naming it (the CLI exits 2)."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .adapter import ADAPTERS

BUNDLED = Path(__file__).resolve().parent.parent / "targets"
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class TargetError(ValueError):
    """A target file that cannot be used; `field` is the dotted path of the bad field."""

    def __init__(self, source: str, field_name: str, message: str) -> None:
        super().__init__(f"{source}: {field_name}: {message}")
        self.source = source
        self.field = field_name


@dataclass(frozen=True)
class Slo:
    recovery_s: float = 15.0  # healthy again within this long after a fault clears
    fast_reject_ms: float = 1000.0  # an order while the venue is down is refused within this
    fill_visible_s: float = 15.0  # a venue fill shows in the middleware within this


@dataclass(frozen=True)
class Target:
    name: str
    source: str
    command: tuple[str, ...] = ()
    image: str | None = None
    cwd: Path | None = None
    ready_url: str = ""
    ready_timeout_s: float = 60.0
    env: dict[str, str] = field(default_factory=dict)
    passthrough_env: tuple[str, ...] = ()
    adapter: str = "default"
    base_url: str = ""
    slo: Slo = Slo()
    allowed_hosts: tuple[str, ...] = ()
    postgres_dsn: str | None = None  # an existing database instead of a throwaway cluster

    def render(self, values: dict[str, Any]) -> dict[str, str]:
        """The environment for the middleware: templates filled from the running topology."""
        rendered = {
            key: render_template(value, values, f"env.{key}", self.source) for key, value in self.env.items()
        }
        for name in self.passthrough_env:
            if name in os.environ:
                rendered[name] = os.environ[name]
        return rendered


def render_template(text: str, values: dict[str, Any], where: str, source: str) -> str:
    """Fill `{mocks.rithmic.url}`-style placeholders; an unknown name is the file's error."""

    def lookup(match: re.Match[str]) -> str:
        node: Any = values
        for part in match.group(1).split("."):
            if not isinstance(node, dict) or part not in node:
                raise TargetError(
                    source,
                    where,
                    f"unknown placeholder {{{match.group(1)}}}; known roots: {', '.join(sorted(values))}",
                )
            node = node[part]
        return str(node)

    return _PLACEHOLDER.sub(lookup, text)


ROOTS = ("port", "seed", "python", "toxiproxy", "mocks", "postgres")


def check_placeholders(text: str, where: str, source: str) -> None:
    """Catch a misspelt placeholder when the file is read, not minutes into a run."""
    from .mockstack import VENUES

    for match in _PLACEHOLDER.finditer(text):
        parts = match.group(1).split(".")
        if parts[0] not in ROOTS:
            raise TargetError(
                source, where, f"unknown placeholder {{{match.group(1)}}}; roots: {', '.join(ROOTS)}"
            )
        if parts[0] == "mocks" and (len(parts) < 3 or parts[1] not in VENUES):
            raise TargetError(
                source,
                where,
                f"unknown placeholder {{{match.group(1)}}}; "
                f"use {{mocks.VENUE.KEY}} with VENUE one of {', '.join(VENUES)}",
            )


def resolve(spec: str) -> Path:
    """`reference` (or any bundled name) or a path to a TOML file."""
    candidate = Path(spec)
    if candidate.suffix != ".toml" and (BUNDLED / f"{spec}.toml").exists():
        return BUNDLED / f"{spec}.toml"
    return candidate


def load(spec: str) -> Target:
    path = resolve(spec)
    source = str(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        bundled = ", ".join(sorted(p.stem for p in BUNDLED.glob("*.toml"))) or "none"
        raise TargetError(source, "target", f"no such file (bundled targets: {bundled})") from None
    except tomllib.TOMLDecodeError as exc:
        raise TargetError(source, "toml", str(exc)) from None
    return parse(data, source, base=path.parent)


class _Fields:
    """Typed access to one TOML table that reports the dotted name of whatever is wrong."""

    def __init__(self, data: Any, prefix: str, source: str) -> None:
        if not isinstance(data, dict):
            raise TargetError(source, prefix or "target", "must be a table")
        self.data = data
        self.prefix = prefix
        self.source = source
        self._seen: set[str] = set()

    def name(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def error(self, key: str, message: str) -> TargetError:
        return TargetError(self.source, self.name(key), message)

    def get(
        self, key: str, kind: type | tuple[type, ...], default: Any = None, *, required: bool = False
    ) -> Any:
        self._seen.add(key)
        if key not in self.data:
            if required:
                raise self.error(key, "is required")
            return default
        value = self.data[key]
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise self.error(key, f"must be {_kind_name(kind)}, got a boolean")
        if not isinstance(value, kind):
            raise self.error(key, f"must be {_kind_name(kind)}, got {type(value).__name__} {value!r}")
        return value

    def positive(self, key: str, default: float) -> float:
        value = float(self.get(key, (int, float), default))
        if value <= 0:
            raise self.error(key, f"must be a positive number, got {value:g}")
        return value

    def table(self, key: str) -> _Fields:
        return _Fields(self.get(key, dict, {}), self.name(key), self.source)

    def strings(self, key: str) -> tuple[str, ...]:
        values = self.get(key, list, [])
        for index, item in enumerate(values):
            if not isinstance(item, str) or not item:
                raise self.error(f"{key}[{index}]", f"must be a non-empty string, got {item!r}")
        return tuple(values)

    def no_unknown(self) -> None:
        unknown = sorted(set(self.data) - self._seen)
        if unknown:
            raise self.error(unknown[0], f"unknown field (known: {', '.join(sorted(self._seen))})")


def _check_dsn(table: _Fields, dsn: str, allowed: tuple[str, ...]) -> None:
    """A DSN is a target like any other: loopback or allowlisted hosts only."""
    from urllib.parse import urlsplit

    from .netguard import TargetRefused, check_host

    parts = urlsplit(dsn)
    if parts.scheme not in ("postgres", "postgresql") or not parts.hostname:
        raise table.error("dsn", "must be a postgresql://user@host:port/database URL")
    try:
        check_host(parts.hostname, allowed, what="database host")
    except TargetRefused as exc:
        raise table.error("dsn", str(exc)) from None


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
        bool: "true or false",
    }
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))


def parse(data: dict[str, Any], source: str, base: Path = Path(".")) -> Target:
    top = _Fields(data, "", source)
    name = top.get("name", str, required=True)
    start = top.table("start")
    command = start.strings("command")
    image = start.get("image", str)
    cwd = start.get("cwd", str)
    if bool(command) == bool(image):
        raise start.error("command", "give exactly one of start.command or start.image")
    start.no_unknown()
    ready = top.table("ready")
    ready_url = ready.get("url", str, required=True)
    ready_timeout = ready.positive("timeout_s", 60.0)
    ready.no_unknown()
    env_table = top.table("env")
    env = {key: env_table.get(key, str) for key in list(env_table.data)}
    passthrough = top.strings("passthrough_env")
    adapter_table = top.table("adapter")
    adapter = adapter_table.get("kind", str, "default")
    if adapter not in ADAPTERS:
        raise adapter_table.error("kind", f"unknown adapter {adapter!r} (known: {', '.join(ADAPTERS)})")
    base_url = adapter_table.get("base_url", str, required=True)
    adapter_table.no_unknown()
    slo_table = top.table("slo")
    slo = Slo(
        recovery_s=slo_table.positive("recovery_s", Slo.recovery_s),
        fast_reject_ms=slo_table.positive("fast_reject_ms", Slo.fast_reject_ms),
        fill_visible_s=slo_table.positive("fill_visible_s", Slo.fill_visible_s),
    )
    slo_table.no_unknown()
    network = top.table("network")
    allowed = network.strings("allowed_hosts")
    network.no_unknown()
    postgres = top.table("postgres")
    dsn = postgres.get("dsn", str)
    if dsn is not None:
        _check_dsn(postgres, dsn, allowed)
    postgres.no_unknown()
    top.no_unknown()
    templated = [(f"start.command[{i}]", part) for i, part in enumerate(command)]
    templated += [("ready.url", ready_url), ("adapter.base_url", base_url)]
    templated += [(f"env.{key}", value) for key, value in env.items()]
    for where, text in templated:
        check_placeholders(text, where, source)
    return Target(
        name=name,
        source=source,
        command=command,
        image=image,
        cwd=(base / cwd).resolve() if cwd else None,
        ready_url=ready_url,
        ready_timeout_s=ready_timeout,
        env=env,
        passthrough_env=passthrough,
        adapter=adapter,
        base_url=base_url,
        slo=slo,
        allowed_hosts=allowed,
        postgres_dsn=dsn,
    )
