"""Fault schedule steps: network toxics through the fault plane, protocol faults through a
mock's control API. Each step opens a window on the timeline when applied and closes it when
cleared, so every verdict can name the fault that was active."""

from __future__ import annotations

import contextlib
import zlib
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from ..faults import Proxy
from ..faults.embedded.extensions import EXTENSION_TYPES
from ..security.secretspec import ROTATION_NEED
from ..targetlifecycle import LIFECYCLE_NEED
from ..timeline import FaultWindow, Timeline


class FaultContext(Protocol):
    timeline: Timeline

    @property
    def seed(self) -> int:
        """The run's seed: extension toxics draw from it (with the step's label)."""
        ...

    def proxy(self, venue: str) -> Proxy: ...

    def control(self, venue: str) -> str: ...

    def act(self, step: FaultStep) -> None: ...

    def database(self, step: FaultStep) -> None:
        """Put a database fault in force (harness SQL, a Postgres restart), until `release(step)`."""
        ...

    def release(self, step: FaultStep) -> None: ...

    def deploy(self, step: FaultStep) -> None:
        """Redeploy the middleware (graceful, crash, bad release then rollback); returns when done."""
        ...


@dataclass(frozen=True)
class FaultStep:
    """`at` seconds into the fault phase, for `for_s` seconds (None: until the phase ends)."""

    venue: str
    # "down" | "toxic" | "protocol" | "action" (a workload event) | "expect" (a marker)
    # | "database" (harness SQL or a restart: `fault` names it) | "deploy" (the middleware: `fault`)
    kind: str
    at: float = 0.0
    for_s: float | None = None
    toxic: str = ""
    stream: str = "downstream"
    toxicity: float = 1.0
    attributes: dict[str, int] = field(default_factory=dict)
    fault: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    count: int | None = None
    action: str = ""  # for "action": the runner's handler (stripe_send, tt_fills, ...)
    note: str = ""  # for "expect": what the marker window means

    @property
    def label(self) -> str:
        if self.kind == "action" and self.action.startswith("lifecycle"):
            return self.action.replace("_", " ")
        if self.kind == "action":
            detail = ",".join(str(f) for f in self.params.get("faults", ())) or self.action
            return f"{self.venue} {detail}"
        if self.kind == "expect":
            return f"{self.venue} {self.note}"
        if self.kind in ("database", "deploy"):
            detail = ", ".join(f"{k}={v}" for k, v in self.params.items() if k != "sql")
            return f"{self.venue} {self.fault}" + (f" ({detail})" if detail else "")
        if self.kind == "down":
            return f"{self.venue} down"
        if self.kind == "toxic":
            attrs = ", ".join(f"{k}={v}" for k, v in self.attributes.items())
            return f"{self.venue} {self.toxic} {self.stream} ({attrs})"
        extra = f" x{self.count}" if self.count else ""
        return f"{self.venue} {self.fault}{extra}"

    @property
    def takes_venue_down(self) -> bool:
        if self.venue in NOT_VENUES:
            return False
        return self.kind == "down" or (self.kind == "toxic" and self.toxic in ("timeout", "reset_peer"))

    @property
    def needs(self) -> tuple[str, ...]:
        """What the target must offer for this step (Target.offers): its venue, or the database or
        deployment parts it uses."""
        if self.kind == "deploy":
            return ("deploy:bad_release",) if self.fault == "bad_release" else ("deploy",)
        if self.kind == "database":
            found = ["db_restart" if self.fault == "restart" else "db_sql"]
            if "lock" in self.params:
                found.append(f"db_lock:{self.params['lock']}")
            if self.fault == "table_lock":
                found.append("db_table")
            return tuple(found)
        if self.kind == "toxic" and self.toxic in EXTENSION_TYPES:
            return (self.venue, PLANE_EXTENSIONS)
        if self.kind == "action" and self.action.startswith("lifecycle"):
            return LIFECYCLE_NEEDS
        if self.kind == "action" and self.venue == MIDDLEWARE:
            # a flood of the middleware's own API: every target has one; a rotation, a secret source
            return (ROTATION_NEED,) if self.action == "rotate_secrets" else ()
        return (self.venue,)

    @property
    def window_kind(self) -> str:
        if self.kind in ("database", "deploy"):
            return "database" if self.kind == "database" else "deployment"
        return "network" if self.kind in ("down", "toxic") else "protocol"

    def apply(self, ctx: FaultContext) -> FaultWindow:
        venue_down = (self.kind == "down" and self.venue not in NOT_VENUES) or (
            self.kind == "expect" and bool(self.params.get("venue_down"))
        )
        if self.kind == "database" and self.fault == "restart":  # the window spans the restart
            window = ctx.timeline.begin(
                self.label, kind=self.window_kind, target=self.venue, unreachable=True
            )
            ctx.database(self)
            return window
        if self.kind == "database":  # the window opens once the fault is in force (a lock held)
            ctx.database(self)
            return ctx.timeline.begin(self.label, kind=self.window_kind, target=self.venue)
        window = ctx.timeline.begin(
            self.label,
            kind=self.window_kind,
            target=self.venue,
            venue_down=venue_down,
            unreachable=self.kind == "down"
            or (self.kind == "toxic" and self.toxic in ("timeout", "reset_peer")),
            venue_up=self.kind == "expect" and bool(self.params.get("venue_up")),
        )
        if self.kind == "deploy":
            ctx.deploy(self)
        elif self.kind == "expect":
            pass
        elif self.kind == "action":
            ctx.act(self)
        elif self.kind == "down":
            ctx.proxy(self.venue).disable()
        elif self.kind == "toxic":
            ctx.proxy(self.venue).add_toxic(
                self.toxic,
                name=self._toxic_name,
                stream=self.stream,  # type: ignore[arg-type]
                toxicity=self.toxicity,
                **self._seeded(ctx.seed),
            )
        else:
            body: dict[str, Any] = {"fault": self.fault, "params": self.params}
            if self.count is not None:
                body["count"] = self.count
            httpx.post(
                f"{ctx.control(self.venue)}/faults", json=body, timeout=5, trust_env=False
            ).raise_for_status()
        return window

    def clear(self, ctx: FaultContext, window: FaultWindow) -> None:
        ctx.timeline.lifting(window)
        with contextlib.suppress(Exception):  # clearing must never hide the verdict; reset follows anyway
            if self.kind in ("action", "expect", "deploy"):
                pass
            elif self.kind == "database":
                ctx.release(self)
            elif self.kind == "down":
                ctx.proxy(self.venue).enable()
            elif self.kind == "toxic":
                proxy = ctx.proxy(self.venue)
                if self.toxic in EXTENSION_TYPES:  # its proof of effect, read before it goes
                    with contextlib.suppress(Exception):
                        window.effects = proxy.get_toxic(self._toxic_name).effects
                proxy.remove_toxic(self._toxic_name)
            else:
                httpx.delete(
                    f"{ctx.control(self.venue)}/faults",
                    params={"fault": self.fault},
                    timeout=5,
                    trust_env=False,
                )
        ctx.timeline.end(window)

    def _seeded(self, seed: int) -> dict[str, Any]:
        """The toxic's attributes; an extension toxic's draws (losses, flipped bits) also get a seed
        of their own from the run's seed and this step, so the same seed replays the same faults."""
        if self.toxic not in EXTENSION_TYPES or self.attributes.get("seed"):
            return dict(self.attributes)
        return {**self.attributes, "seed": zlib.crc32(f"{seed}:{self.label}".encode()) or 1}

    @property
    def _toxic_name(self) -> str:
        return f"uat_{self.toxic}_{self.stream}"


# Fault targets that are not execution venues: their outages are not "venue down" (admin need not
# stay up while its own database is down), and each has its own step kinds.
POSTGRES = "postgres"  # the middleware's database: its link (a proxy) and harness SQL
MIDDLEWARE = "middleware"  # the system under test's own process: deployments
NOT_VENUES = frozenset({POSTGRES, MIDDLEWARE})
# What the `lifecycle` action needs: the target's [lifecycle] (its Zaps) and every system of the chain.
LIFECYCLE_NEEDS = (LIFECYCLE_NEED, "stripe", "docusign", "mt5", "rippling", "zapier")
# A need of a step using stack-uat's own toxics (packet_loss, corrupt), met by the embedded server only.
PLANE_EXTENSIONS = "plane:extensions"

# Database faults the harness drives on its own connections (harness/dbfaults.py does the SQL).
DB_FAULTS = (
    "row_lock",
    "idle_in_transaction",
    "table_lock",
    "exhaust_connections",
    "statement_timeout",
    "restart",
)
DEPLOYS = ("graceful", "crash", "bad_release")


def db_fault(fault: str, *, at: float = 0.0, for_s: float | None = 4.0, **params: Any) -> FaultStep:
    """A database fault: `row_lock`/`idle_in_transaction` (params: lock=NAME, a [database.locks]
    statement of the target), `table_lock` (its [database] lock_table; mode=...),
    `exhaust_connections` (leave=K), `statement_timeout` (ms=N), `restart` (pg_ctl restart -m fast)."""
    if fault not in DB_FAULTS:
        raise ValueError(f"unknown database fault {fault!r}; known: {', '.join(DB_FAULTS)}")
    if fault == "restart":
        for_s = 0.0  # its window is the restart itself
    return FaultStep(POSTGRES, "database", at, for_s, fault=fault, params=params)


def deploy(how: str, *, at: float = 0.0) -> FaultStep:
    """A deployment of the middleware: `graceful` (stop signal, drain, start), `crash` (SIGKILL,
    start), `bad_release` (start a release that must fail readiness, then roll back)."""
    if how not in DEPLOYS:
        raise ValueError(f"unknown deployment {how!r}; known: {', '.join(DEPLOYS)}")
    return FaultStep(MIDDLEWARE, "deploy", at, None, fault=how)


def down(venue: str, *, at: float = 0.0, for_s: float = 5.0) -> FaultStep:
    """The venue unreachable: its proxy disabled (listener and live connections closed)."""
    return FaultStep(venue, "down", at, for_s)


def toxic(
    venue: str,
    toxic_type: str,
    *,
    at: float = 0.0,
    for_s: float | None = 5.0,
    stream: str = "downstream",
    toxicity: float = 1.0,
    **attributes: int,
) -> FaultStep:
    """A Toxiproxy toxic on the venue's proxy."""
    return FaultStep(
        venue, "toxic", at, for_s, toxic=toxic_type, stream=stream, toxicity=toxicity, attributes=attributes
    )


def protocol(
    venue: str,
    fault: str,
    *,
    at: float = 0.0,
    for_s: float | None = None,
    count: int | None = None,
    **params: Any,
) -> FaultStep:
    """A protocol fault armed on the venue mock's control API."""
    return FaultStep(venue, "protocol", at, for_s, fault=fault, params=params, count=count)


def action(venue: str, name: str, *, at: float = 0.0, for_s: float = 0.0, **params: Any) -> FaultStep:
    """A workload event the runner performs at `at` (a Stripe send with delivery faults, TT fills seeded
    at the venue, ...); its window spans the call, or `for_s` if longer."""
    return FaultStep(venue, "action", at, for_s, params=params, action=name)


def expect_down(venue: str, note: str, *, at: float, for_s: float) -> FaultStep:
    """A marker window, no fault of its own: from `at` the middleware must treat the venue as down
    (e.g. a silent gateway, once its watchdog has had time to notice). Fast-fail and admin separation
    are judged inside it."""
    return FaultStep(venue, "expect", at, for_s, params={"venue_down": True}, note=note)


def expect_up(venue: str, note: str, *, at: float, for_s: float) -> FaultStep:
    """A marker window, no fault of its own: from `at` the middleware must be trading on the venue
    again although another fault still holds (e.g. logons refused, which a restored session does not
    need). trading_resumes is judged inside it."""
    return FaultStep(venue, "expect", at, for_s, params={"venue_up": True}, note=note)
