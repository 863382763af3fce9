"""Fault schedule steps: network toxics through the fault plane, protocol faults through a
mock's control API. Each step opens a window on the timeline when applied and closes it when
cleared, so every verdict can name the fault that was active."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from ..faults import Proxy
from ..timeline import FaultWindow, Timeline


class FaultContext(Protocol):
    timeline: Timeline

    def proxy(self, venue: str) -> Proxy: ...

    def control(self, venue: str) -> str: ...

    def act(self, step: FaultStep) -> None: ...


@dataclass(frozen=True)
class FaultStep:
    """`at` seconds into the fault phase, for `for_s` seconds (None: until the phase ends)."""

    venue: str
    kind: str  # "down" | "toxic" | "protocol" | "action" (a workload event) | "expect" (a marker)
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
        if self.kind == "action":
            detail = ",".join(str(f) for f in self.params.get("faults", ())) or self.action
            return f"{self.venue} {detail}"
        if self.kind == "expect":
            return f"{self.venue} {self.note}"
        if self.kind == "down":
            return f"{self.venue} down"
        if self.kind == "toxic":
            attrs = ", ".join(f"{k}={v}" for k, v in self.attributes.items())
            return f"{self.venue} {self.toxic} {self.stream} ({attrs})"
        extra = f" x{self.count}" if self.count else ""
        return f"{self.venue} {self.fault}{extra}"

    @property
    def takes_venue_down(self) -> bool:
        return self.kind == "down" or (self.kind == "toxic" and self.toxic in ("timeout", "reset_peer"))

    def apply(self, ctx: FaultContext) -> FaultWindow:
        kind = "network" if self.kind in ("down", "toxic") else "protocol"
        venue_down = self.kind == "down" or (self.kind == "expect" and bool(self.params.get("venue_down")))
        window = ctx.timeline.begin(self.label, kind=kind, target=self.venue, venue_down=venue_down)
        if self.kind == "expect":
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
                **self.attributes,
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
        with contextlib.suppress(Exception):  # clearing must never hide the verdict; reset follows anyway
            if self.kind in ("action", "expect"):
                pass
            elif self.kind == "down":
                ctx.proxy(self.venue).enable()
            elif self.kind == "toxic":
                ctx.proxy(self.venue).remove_toxic(self._toxic_name)
            else:
                httpx.delete(
                    f"{ctx.control(self.venue)}/faults",
                    params={"fault": self.fault},
                    timeout=5,
                    trust_env=False,
                )
        ctx.timeline.end(window)

    @property
    def _toxic_name(self) -> str:
        return f"uat_{self.toxic}_{self.stream}"


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
