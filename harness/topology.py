"""One object that brings up Postgres, the fault plane, the mocks and the middleware under
test, in that order, and tears them all down in reverse, Ctrl-C included."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import httpx

from .adapters import Adapter, HttpApi
from .adapters import build as build_adapter
from .faults.plane import BackendName
from .lifecycle import wire
from .mockstack import build_stack
from .ports import free_port
from .postgres import ExternalPostgres, ThrowawayPostgres
from .report import Redactor
from .security.secretfile import SecretFile
from .target import Target, render_template

# What the middleware inherits from our own environment; everything else comes from the target.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "PYTHONPATH", "VIRTUAL_ENV", "SSL_CERT_FILE")


POSTGRES_PROXY = "postgres"  # the fault plane's proxy on the middleware's database link


def proxied_dsn(dsn: str, host: str, port: int) -> str:
    """The same DSN (user, password, database, options) aimed at host:port instead."""
    parts = urlsplit(dsn)
    userinfo, _, _ = parts.netloc.rpartition("@")
    netloc = f"{userinfo}@{host}:{port}" if userinfo else f"{host}:{port}"
    return urlunsplit(parts._replace(netloc=netloc))


class TargetNotReady(RuntimeError):
    """The middleware exited or never answered its readiness URL; carries its log tail."""


class RunningTarget(Protocol):
    """What Topology needs of the middleware, whether a process (TargetProcess) or a container
    (harness.containers.target.TargetContainer)."""

    def start(self) -> None: ...
    def wait_ready(self, timeout_s: float | None = None) -> float: ...
    def stop(self, sig: int = signal.SIGTERM, grace_s: float = 10.0) -> int | None:
        """Stop it with `sig`, SIGKILL after grace_s; its exit code (None if it never ran)."""
        ...

    def alive(self) -> bool: ...
    def log_tail(self, lines: int = 60) -> str: ...
    @property
    def logfile(self) -> Path:
        """Everything it printed since it last started, unredacted (the secrets sweep reads it)."""
        ...

    @property
    def pid(self) -> int | None: ...


def wait_until_ready(
    what: str,
    target: Target,
    ready_url: str,
    exit_code: Callable[[], int | None],
    tail: Callable[[], str],
    timeout_s: float | None = None,
) -> float:
    """Seconds until ready_url answers 200; TargetNotReady (with the log tail) if `what` exits
    first (exit_code() is not None) or timeout_s (default ready.timeout_s) passes. One loop for
    processes and containers."""
    started = time.monotonic()
    timeout_s = target.ready_timeout_s if timeout_s is None else timeout_s
    deadline = started + timeout_s
    with httpx.Client(timeout=1.0, trust_env=False) as http:
        while time.monotonic() < deadline:
            code = exit_code()
            if code is not None:
                raise TargetNotReady(
                    f"{what} exited with code {code} before it was ready; last output:\n{tail()}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if http.get(ready_url).status_code == 200:
                    return time.monotonic() - started
            time.sleep(0.1)
    raise TargetNotReady(
        f"{what} did not answer {ready_url} with 200 within {timeout_s:g} s; last output:\n{tail()}"
    )


def read_log_tail(logfile: Path, redact: Redactor, lines: int) -> str:
    """The last lines of a captured log, secrets redacted ("" if there is none yet)."""
    try:
        text = logfile.read_text(errors="replace")
    except OSError:
        return ""
    return redact("\n".join(text.splitlines()[-lines:]))


class TargetProcess:
    """The system under test as a separate process group, its output captured to a file."""

    def __init__(
        self,
        target: Target,
        command: list[str],
        env: dict[str, str],
        ready_url: str,
        logdir: Path,
        redact: Redactor,
    ) -> None:
        self.target = target
        self.command = command
        self.env = env
        self.ready_url = ready_url
        self.logfile = logdir / "target.log"
        self.redact = redact
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {k: os.environ[k] for k in _INHERITED if k in os.environ}
        env.update(self.env)
        with self.logfile.open("wb") as log:
            self._proc = subprocess.Popen(
                self.command,
                cwd=self.target.cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout_s: float | None = None) -> float:
        proc = self._proc
        assert proc is not None
        return wait_until_ready(
            self.target.name, self.target, self.ready_url, proc.poll, self.log_tail, timeout_s
        )

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_tail(self, lines: int = 60) -> str:
        """The last lines the middleware printed, secrets redacted."""
        return read_log_tail(self.logfile, self.redact, lines)

    def stop(self, sig: int = signal.SIGTERM, grace_s: float = 10.0) -> int | None:
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        if proc.poll() is not None:
            return proc.returncode
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        # the group may hold children that outlive its leader (a shell, npm): none may linger
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        return proc.returncode


class Topology:
    """Postgres, fault plane, mocks, then the target; `timings` records each start-up phase."""

    def __init__(
        self,
        target: Target,
        *,
        seed: int = 0,
        backend: BackendName = "auto",
        workdir: Path | None = None,
        venues: tuple[str, ...] | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        """`progress` hears about slow, one-off set-up (building container images)."""
        self.target = target
        self.seed = seed
        self.redact = Redactor()
        self.timings: dict[str, float] = {}
        self.postgres: ThrowawayPostgres | ExternalPostgres = (
            ExternalPostgres(target.postgres_dsn) if target.postgres_dsn else ThrowawayPostgres()
        )
        # only the venues the target declares, is wired to or takes webhooks from (each mock costs a
        # listener, a proxy and a reset per scenario); every venue when it names none
        if venues is None:
            venues = tuple(dict.fromkeys((*target.venues, *target.wired, *target.webhooks))) or None
        self.stack = build_stack(seed=seed, backend=backend, venues=venues, progress=progress)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.workdir = workdir
        self.process: RunningTarget | None = None  # a TargetContainer when the target names an image
        self.port = 0
        self.values: dict[str, Any] = {}
        self.postgres_dsn = ""  # the middleware's DSN: through the fault plane's `postgres` proxy
        self.secret_file: SecretFile | None = None  # the target's `[secrets]` source, if it reads one
        self.untouched = False  # just started: no scenario has run on it yet (claim_untouched)
        self._started_env: dict[str, str] = {}  # the environment the middleware was first started with
        # the mocks' facts as they were before each rotation: the retired credentials stay secrets
        self.retired: dict[str, Any] = {}

    @property
    def base_url(self) -> str:
        return render_template(self.target.base_url, self.values, "adapter.base_url", self.target.source)

    def adapter_values(self) -> dict[str, Any]:
        """What an adapter's placeholders are filled from: the topology, and the target's [env]."""
        return {**self.values, "env": self.target.render(self.values)}

    def adapter(self) -> Adapter:
        """The target's declared adapter, bound to this topology; its header values are secrets."""
        adapter = build_adapter(
            self.target.adapter,
            self.adapter_values(),
            self.target.allowed_hosts,
            on_secret=lambda secret: self.redact.add((secret,)),
        )
        self.redact.add(getattr(getattr(adapter, "api", None), "secrets", ()))
        return adapter

    def admin_headers(self) -> dict[str, str]:
        """What the back office sends on every call: the target file's static headers and its
        admin credential ([adapter.auth]); empty for a coded adapter, which keeps its own."""
        if self.target.adapter.kind != "http":
            return {}
        api = HttpApi(self.target.adapter, self.adapter_values(), self.target.allowed_hosts)
        return {**api.headers, **api.admin_headers}

    def metrics_url(self) -> str | None:
        """Where the target serves its metrics, or None if its file declares none."""
        spec = self.target.metrics
        if spec is None:
            return None
        return render_template(spec.url, self.adapter_values(), "metrics.url", self.target.source)

    def webhook_url(self, provider: str) -> str | None:
        """Where the target takes `provider`'s webhooks, or None if it declares none."""
        url = self.target.webhooks.get(provider)
        if url is None:
            return None
        return render_template(url, self.adapter_values(), f"webhooks.{provider}", self.target.source)

    def start(self) -> Topology:
        try:
            if self.workdir is None:
                self._tmp = tempfile.TemporaryDirectory(prefix="uat-run-")
                self.workdir = Path(self._tmp.name)
            if self.target.image:  # before anything starts: a missing image is not worth a minute
                from .containers.target import require_image

                self._phase("target_image", lambda: require_image(self.target))
            self._phase("postgres", self.postgres.start)
            self._phase("mocks", self.stack.start)
            self._phase("postgres_proxy", self._proxy_postgres)
            self.port = free_port()
            described = self.stack.describe()
            self.values = {
                "port": self.port,
                "seed": self.seed,
                "python": sys.executable,
                "toxiproxy": described["toxiproxy"],
                "mocks": described["mocks"],
                "postgres": {"dsn": self.postgres_dsn, "direct_dsn": self.postgres.dsn},
                # credentials minted for this run only: never in a file, redacted from every report
                "secrets": {"admin_key": secrets.token_urlsafe(24)},
            }
            self.redact.add_from_mapping(self.values)
            self._write_secrets()
            self._phase("lifecycle", self.wire_lifecycle)
            env = self._started_env = self.target.render(self.values)
            self.redact.add_from_mapping(env)
            self.process = self._new_process(env)
            self._phase("target_spawn", self.process.start)
            self.timings["target_ready"] = self.process.wait_ready()
        except BaseException:
            self.stop()
            raise
        self.untouched = True
        return self

    def claim_untouched(self, extra_env: dict[str, str]) -> bool:
        """True once, for the first scenario on a topology just started, when that scenario would start
        the middleware exactly as it was started (no settings of its own, the same passed-through
        environment): its world is the clean one a reset would give and its middleware is fresh, so
        it need not reset and restart (about 1.5 s of every gate, and of every `uat reproduce`)."""
        untouched, self.untouched = self.untouched, False
        return untouched and not extra_env and self.target.render(self.values) == self._started_env

    def _write_secrets(self) -> None:
        """The target's secret source, written before it starts; its path is `{secrets.file}`."""
        spec = self.target.secrets
        if spec is None:
            return
        assert self.workdir is not None
        self.secret_file = SecretFile(spec, self.workdir / spec.file, self.target.source)
        self.values["secrets"]["file"] = str(self.secret_file.path)
        self.secret_file.write(self.values)
        self.redact.add(tuple(self.secret_file.render(self.values).values()))

    def refresh_secrets(self) -> bool:
        """Rewrite the secret source from the mocks' current credentials (after a rotation, or a
        reset that undid one), signalling the middleware where its file says so; whether it changed."""
        if self.secret_file is None:
            return False
        mocks = self.stack.describe()["mocks"]
        if mocks != self.values["mocks"]:
            self.retired[f"before {len(self.retired) + 1}"] = self.values["mocks"]
        self.values["mocks"] = mocks
        self.redact.add(tuple(self.secret_file.render(self.values).values()))
        if not self.secret_file.write(self.values):
            return False
        spec = self.secret_file.spec
        pid = self.process.pid if self.process is not None else None
        if spec.reload == "signal" and pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, spec.signum)
        return True

    def _proxy_postgres(self) -> None:
        """The middleware reaches Postgres through the fault plane (`{postgres.dsn}`), so every toxic
        applies to its database link; the harness's own SQL goes direct (`{postgres.direct_dsn}`)."""
        parts = urlsplit(self.postgres.dsn)
        upstream = f"{parts.hostname}:{parts.port or 5432}"
        proxy = self.stack.plane.client.create_proxy(POSTGRES_PROXY, upstream=upstream)
        self.postgres_dsn = proxied_dsn(self.postgres.dsn, proxy.host, proxy.port)

    def _new_process(self, env: dict[str, str]) -> RunningTarget:
        source = self.target.source
        command = [
            render_template(part, self.values, f"start.command[{i}]", source)
            for i, part in enumerate(self.target.command)
        ]
        ready_url = render_template(self.target.ready_url, self.values, "ready.url", source)
        assert self.workdir is not None
        if self.target.image:
            from .containers.target import TargetContainer

            return TargetContainer(self.target, command, env, ready_url, self.workdir, self.redact)
        return TargetProcess(self.target, command, env, ready_url, self.workdir, self.redact)

    def reset_world(self) -> None:
        """Every proxy enabled with no toxic, every mock back to its seed, and (for a throwaway
        cluster only) an empty database: each scenario starts from the same place."""
        self.stack.plane.client.reset()
        for name in self.stack.venues:
            self.stack.reset_venue(name)
        if isinstance(self.postgres, ThrowawayPostgres):
            self.postgres.psql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        self.wire_lifecycle()
        if self.refresh_secrets():  # a rotation the reset undid: the middleware must hear of it first
            assert self.secret_file is not None
            time.sleep(self.secret_file.spec.settle_s)

    def wire_lifecycle(self) -> None:
        """The target's Zaps on the bus and its DocuSign listener (harness.lifecycle.wiring)."""
        controls = {name: str(facts["control"]) for name, facts in self.values["mocks"].items()}
        values = self.adapter_values()
        wire(
            self.target.lifecycle,
            controls,
            lambda text, where: render_template(text, values, where, self.target.source),
            self.webhook_url("docusign"),
            self.target.source,
        )

    def stop_target(self) -> None:
        """Stop the middleware, if one runs (its graceful stop: the stop signal, then a kill)."""
        if self.process is not None:
            self.process.stop()

    def restart_target(self, extra_env: dict[str, str] | None = None) -> float:
        """A fresh middleware process (over whatever state the world is in); seconds to ready."""
        self.stop_target()
        self.spawn_target(extra_env)
        assert self.process is not None
        return self.process.wait_ready()

    def spawn_target(self, extra_env: dict[str, str] | None = None) -> RunningTarget:
        """Start a middleware process (the last one must be stopped); readiness is the caller's wait."""
        env = self.target.render(self.values)
        env.update(extra_env or {})
        self.redact.add_from_mapping(env)
        self.process = self._new_process(env)
        self.process.start()
        return self.process

    def _phase(self, name: str, action: Any) -> None:
        started = time.monotonic()
        action()
        self.timings[name] = time.monotonic() - started

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
        self.stack.stop()
        self.postgres.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Topology:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
