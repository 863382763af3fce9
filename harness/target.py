"""Target files: how to start a middleware, know it is ready, wire it to the topology, talk to
it, and judge it. A bad field is refused with a message naming it (the CLI exits 2)."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import resources
from .adapters import AdapterSpec, parse_adapter
from .adapters.spec import ARGUMENTS
from .contract.targetspec import CONTRACT_NEED, ContractSpec, parse_contract
from .metrics import MetricsSpec, parse_metrics
from .security.secretspec import SecretsSpec, parse_secrets
from .security.spec import SecuritySpec, parse_security
from .targetfaults import DatabaseSpec, DeploySpec, parse_database, parse_deploy
from .targetfields import Fields, TargetError
from .targetlifecycle import LifecycleSpec, parse_lifecycle
from .targetslo import Slo, parse_slo

__all__ = ["Slo", "Target", "TargetError", "load", "parse", "render_template", "resolve"]

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


# Settings a scenario may ask the middleware to run with, and what each one means.
SETTINGS = {
    "order_timeout_s": "how long the middleware waits for the venue to acknowledge an order",
}


@dataclass(frozen=True)
class Setting:
    """How a target takes one setting: the environment variable, and its unit."""

    env: str
    unit: str = "s"  # "s" or "ms"

    def format(self, seconds: float) -> str:
        value = seconds * 1000 if self.unit == "ms" else seconds
        return f"{value:g}"


@dataclass(frozen=True)
class Target:
    name: str
    source: str
    command: tuple[str, ...] = ()
    image: str | None = None  # run from this local image; `command` then overrides its CMD
    cwd: Path | None = None
    ready_url: str = ""
    ready_timeout_s: float = 60.0
    env: dict[str, str] = field(default_factory=dict)
    passthrough_env: tuple[str, ...] = ()
    adapter: AdapterSpec = field(default_factory=lambda: AdapterSpec("http", ""))
    adapter_table: dict[str, Any] = field(default_factory=dict)  # as written, for Locust workers
    webhooks: dict[str, str] = field(default_factory=dict)  # provider -> URL the mock delivers to
    checks_sql: Path | None = None  # the target's reconciliation SQL
    venues: tuple[str, ...] = ()  # the venues the target trades on or takes webhooks from
    wired: tuple[str, ...] = ()  # the mocks its `{mocks.VENUE...}` placeholders name (started for it)
    settings: dict[str, Setting] = field(default_factory=dict)  # harness setting -> how the target takes it
    slo: Slo = field(default_factory=Slo)
    allowed_hosts: tuple[str, ...] = ()
    postgres_dsn: str | None = None  # an existing database instead of a throwaway cluster
    database: DatabaseSpec = field(default_factory=DatabaseSpec)  # what the database faults lock
    deploy: DeploySpec = field(default_factory=DeploySpec)  # how a deployment is done to it
    metrics: MetricsSpec | None = None  # its own metrics (`[metrics]`), judged like its health
    contract: ContractSpec | None = None  # its OpenAPI spec for `uat contract` (`[contract]`)
    security: SecuritySpec = field(default_factory=SecuritySpec)  # `[security]`: what its suite may assume
    secrets: SecretsSpec | None = None  # `[secrets]`: a source it re-reads, for rotation
    lifecycle: LifecycleSpec | None = None  # `[lifecycle]`: its Zaps on the bus, the provisioning bound

    def offers(self) -> tuple[str, ...]:
        """Scenario needs met by the file itself: its venues; the database link (always proxied); SQL
        faults and restarts on a throwaway cluster only; its lock statements; its deploy switches
        (the harness starts every target, so it can always stop and start it); its OpenAPI contract."""
        own = ("db_sql", "db_restart") if self.postgres_dsn is None else ()
        metrics = ("metrics",) if self.metrics is not None else ()
        contract = (CONTRACT_NEED,) if self.contract is not None else ()
        return (
            *self.venues,
            "postgres",
            *own,
            *self.database.offers(),
            "deploy",
            *self.deploy.offers(),
            *metrics,
            *contract,
            *self.security.offers(),
            *(self.secrets.offers() if self.secrets is not None else ()),
            *(self.lifecycle.offers() if self.lifecycle is not None else ()),
        )

    @property
    def base_url(self) -> str:
        """The adapter's base URL (a template): one value, read where the adapter keeps it."""
        return self.adapter.base_url

    def setting_env(self, wanted: dict[str, float]) -> dict[str, str]:
        """The environment that gives the middleware these settings (each mapped by [settings])."""
        return {self.settings[name].env: self.settings[name].format(value) for name, value in wanted.items()}

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
            if isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]  # `{mocks.docusign.templates.0.templateId}`
                continue
            if not isinstance(node, dict) or part not in node:
                raise TargetError(
                    source,
                    where,
                    f"unknown placeholder {{{match.group(1)}}}; known roots: {', '.join(sorted(values))}",
                )
            node = node[part]
        if isinstance(node, list) and all(isinstance(item, str | int) for item in node):
            return ",".join(str(item) for item in node)  # `{mocks.docusign.hmac_keys}`: comma-separated
        return str(node)

    return _PLACEHOLDER.sub(lookup, text)


ROOTS = ("port", "seed", "python", "toxiproxy", "mocks", "postgres", "secrets", "env")


def check_placeholders(
    text: str, where: str, source: str, *, env: tuple[str, ...] = (), args: tuple[str, ...] = ()
) -> None:
    """Catch a misspelt placeholder when the file is read, not minutes into a run. `args` are an
    adapter operation's own placeholders; `{env.NAME}` must name a key of [env]."""
    from .mockstack import VENUES

    for match in _PLACEHOLDER.finditer(text):
        parts = match.group(1).split(".")
        if match.group(1).partition("|")[0] in args:
            continue  # an operation's argument (a format, `|decimal`, is checked with the adapter)
        if parts[0] == "env" and (len(parts) != 2 or parts[1] not in env):
            raise TargetError(
                source,
                where,
                f"unknown placeholder {{{match.group(1)}}}; [env] has {', '.join(env) or 'no keys'}",
            )
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


def bundled() -> list[str]:
    """The names of the target files shipped in the `targets` package (package data)."""
    return resources.stems(resources.TARGETS, ".toml")


def resolve(spec: str) -> Path:
    """`reference` (or any bundled name, read through importlib.resources, so an installed
    stack-uat finds it from any directory) or a path to a TOML file."""
    candidate = Path(spec)
    if candidate.suffix != ".toml" and candidate.name == spec and spec in bundled():
        # a real path, whatever the install: the files it names (`checks.sql`) are beside it
        return resources.real_path(resources.TARGETS, f"{spec}.toml")
    return candidate


def load(spec: str) -> Target:
    path = resolve(spec)
    source = str(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        names = ", ".join(bundled()) or "none"
        raise TargetError(source, "target", f"no such file (bundled targets: {names})") from None
    except tomllib.TOMLDecodeError as exc:
        raise TargetError(source, "toml", str(exc)) from None
    return parse(data, source, base=path.parent)


def _check_dsn(table: Fields, dsn: str, allowed: tuple[str, ...]) -> None:
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


def parse(data: dict[str, Any], source: str, base: Path = Path(".")) -> Target:
    top = Fields(data, "", source)
    name = top.get("name", str, required=True)
    start = top.table("start")
    command = start.strings("command")
    image = start.get("image", str)
    cwd = start.get("cwd", str)
    if image is not None and (not image or any(c.isspace() for c in image)):
        raise start.error("image", f"must be an image reference such as name:tag, got {image!r}")
    if not command and not image:
        raise start.error("command", "give start.command (a process) or start.image (a container)")
    if image and cwd is not None:
        raise start.error("cwd", "cannot be used with start.image (the image's WORKDIR applies)")
    start.no_unknown()
    ready = top.table("ready")
    ready_url = ready.get("url", str, required=True)
    ready_timeout = ready.positive("timeout_s", 60.0)
    ready.no_unknown()
    env_table = top.table("env")
    env = {key: env_table.get(key, str) for key in list(env_table.data)}
    passthrough = top.strings("passthrough_env")
    adapter = parse_adapter(top.table("adapter"))
    hooks = top.table("webhooks")
    webhooks = {key: hooks.get(key, str) for key in list(hooks.data)}
    for key in webhooks:
        if key not in WEBHOOK_PROVIDERS:
            raise hooks.error(key, f"unknown webhook provider (known: {', '.join(WEBHOOK_PROVIDERS)})")
    hooks.no_unknown()
    checks = top.table("checks")
    sql_name = checks.get("sql", str)
    checks_sql = (base / sql_name).resolve() if sql_name else None
    if checks_sql is not None and not checks_sql.is_file():
        raise checks.error("sql", f"no such file: {checks_sql}")
    checks.no_unknown()
    venues = _venues(top, command, env)
    settings = _settings(top.table("settings"))
    slo = parse_slo(top.table("slo"))
    network = top.table("network")
    allowed = network.strings("allowed_hosts")
    network.no_unknown()
    postgres = top.table("postgres")
    dsn = postgres.get("dsn", str)
    if dsn is not None:
        _check_dsn(postgres, dsn, allowed)
    postgres.no_unknown()
    database = parse_database(top.table("database"))
    deploy = parse_deploy(top.table("deploy"))
    metrics = parse_metrics(top.table("metrics"))
    contract = parse_contract(top.table("contract"), base)
    security = parse_security(top.table("security"))
    secrets = parse_secrets(top.table("secrets"), image=image is not None)
    lifecycle = parse_lifecycle(top.table("lifecycle"), base)
    named = {**env, **(secrets.values if secrets else {})}
    named.update({f"lifecycle.{k}": v for k, v in (lifecycle.values if lifecycle else {}).items()})
    # the bus carries the lifecycle's Zaps, so a [lifecycle] needs it whatever the env names
    wired = _wired(command, named) + (("zapier",) if lifecycle else ())
    wired = tuple(dict.fromkeys(wired))  # what the source names too
    top.no_unknown()
    templated = [(f"start.command[{i}]", part) for i, part in enumerate(command)]
    templated += [(f"env.{key}", value) for key, value in env.items()]
    secret_values = secrets.values if secrets else {}
    templated += [(f"secrets.values.{key}", value) for key, value in secret_values.items()]
    lifecycle_values = lifecycle.values if lifecycle else {}
    templated += [(f"lifecycle.set.{key}", value) for key, value in lifecycle_values.items()]
    for where, text in templated:
        check_placeholders(text, where, source)
        if image and "{python}" in text:
            raise TargetError(source, where, "{python} is the harness's interpreter, absent from start.image")
    keys = tuple(env)
    urls = [("ready.url", ready_url), ("adapter.base_url", adapter.base_url)]
    urls += [(f"webhooks.{key}", url) for key, url in webhooks.items()]
    urls += [(f"adapter.operations.{n}.path", op.path) for n, op in adapter.operations.items()]
    if adapter.stream is not None:
        urls.append(("adapter.stream.url", adapter.stream.url))
    if metrics is not None:
        urls.append(("metrics.url", metrics.url))
    if contract is not None and contract.url:
        urls.append(("contract.spec", contract.spec))
    for where, url in urls:
        args = ARGUMENTS.get(where.split(".")[2], ()) if ".operations." in where else ("account", "symbols")
        check_placeholders(url, where, source, env=keys, args=args)
        if url.startswith("/"):
            continue  # a path under base_url, which is checked itself
        _check_url(source, where, url, allowed)
    for where, text in _adapter_templates(adapter):
        args = (
            ("api_key",)
            if where.startswith("adapter.auth.trader.")
            else ARGUMENTS.get(where.split(".")[2], ())
        )
        check_placeholders(text, where, source, env=keys, args=args)
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
        adapter_table=dict(data.get("adapter") or {}),
        webhooks=webhooks,
        checks_sql=checks_sql,
        venues=venues,
        wired=wired,
        settings=settings,
        slo=slo,
        allowed_hosts=allowed,
        postgres_dsn=dsn,
        database=database,
        deploy=deploy,
        metrics=metrics,
        contract=contract,
        security=security,
        secrets=secrets,
        lifecycle=lifecycle,
    )


WEBHOOK_PROVIDERS = ("stripe", "docusign", "rippling", "zapier")


def _venues(top: Fields, command: tuple[str, ...], env: dict[str, str]) -> tuple[str, ...]:
    """Declared, or else every venue a `{mocks.VENUE...}` placeholder wires the target to."""
    from .mockstack import VENUES

    declared = top.strings("venues")
    for index, venue in enumerate(declared):
        if venue not in VENUES:
            raise top.error(f"venues[{index}]", f"unknown venue {venue!r} (known: {', '.join(VENUES)})")
    if declared:
        return declared
    return _wired(command, env)


def _wired(command: tuple[str, ...], env: dict[str, str]) -> tuple[str, ...]:
    """Every venue a `{mocks.VENUE...}` placeholder in the start command or environment names."""
    from .mockstack import VENUES

    used = {
        m.group(1).split(".")[1]
        for t in (*command, *env.values())
        for m in _PLACEHOLDER.finditer(t)
        if m.group(1).startswith("mocks.") and m.group(1).count(".") >= 2
    }
    return tuple(v for v in VENUES if v in used)


def _check_url(source: str, where: str, url: str, allowed: tuple[str, ...]) -> None:
    """Every URL in a target file is a target: loopback or allowlisted, refused before anything
    starts. A placeholder in the host is checked again once it is filled."""
    from urllib.parse import urlsplit

    from .netguard import TargetRefused, check_host

    parts = urlsplit(_PLACEHOLDER.sub("0", url))
    if parts.scheme not in ("http", "https", "ws", "wss") or not parts.hostname:
        raise TargetError(source, where, f"must be an absolute http(s):// or ws(s):// URL, got {url!r}")
    if "{" in urlsplit(url).netloc.rsplit(":", 1)[0]:
        return
    try:
        check_host(parts.hostname, allowed, what=where)
    except TargetRefused as exc:
        raise TargetError(source, where, str(exc)) from None


def _adapter_templates(adapter: AdapterSpec) -> list[tuple[str, str]]:
    out = [(f"adapter.headers.{k}", v) for k, v in adapter.headers.items()]
    for name, op in adapter.operations.items():
        prefix = f"adapter.operations.{name}"
        out += [(f"{prefix}.query.{k}", v) for k, v in op.query.items()]
        out += [(f"{prefix}.headers.{k}", v) for k, v in op.headers.items()]
        out += [(f"{prefix}.body", v) for v in _strings(op.body)]
    out += [(f"adapter.options.{k}", v) for k, v in adapter.options.items() if isinstance(v, str)]
    if adapter.auth is not None:
        out += [(f"adapter.auth.admin.{k}", v) for k, v in adapter.auth.admin.items()]
        out += [(f"adapter.auth.trader.{k}", v) for k, v in adapter.auth.trader.items()]
    return out


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


def _settings(table: Fields) -> dict[str, Setting]:
    """`name = "ENV_VAR"` (in seconds) or `name = { env = "ENV_VAR", unit = "ms" }`."""
    out = {}
    for name in list(table.data):
        if name not in SETTINGS:
            known = ", ".join(f"{k} ({v})" for k, v in SETTINGS.items())
            raise table.error(name, f"unknown setting (known: {known})")
        if isinstance(table.data[name], str):
            out[name] = Setting(table.get(name, str))
            continue
        sub = table.table(name)
        env, unit = sub.get("env", str, required=True), sub.get("unit", str, "s")
        if unit not in ("s", "ms"):
            raise sub.error("unit", f"must be s or ms, got {unit!r}")
        sub.no_unknown()
        out[name] = Setting(env, unit)
    table.no_unknown()
    return out
