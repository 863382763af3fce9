"""What a security scenario gathered for its checkers: the probes and their answers, what could not
be probed and why, the venue's view of every order a probe touched, the secrets sweep, the flood."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..history import History
from .flood import FloodRecord
from .probes import Probe
from .sweep import Leak, log_lines, sweep

# The groups each checker judges (harness.checks.security), and so which probes a scenario sends.
CHECK_GROUPS: dict[str, tuple[str, ...]] = {
    "auth_required": ("authentication",),
    "object_access_scoped": ("roles", "object_access"),
    "admin_allowlist_holds": ("allowlist",),
    "errors_without_internals": ("errors",),
}


@dataclass
class SecurityEvidence:
    probes: list[Probe] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    # client_tag -> the venue's order, after the probes: for every tag a probe placed, and the
    # victim's resting order with its state before the probes (`victim_before`)
    venue_orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    victim_order: str = ""
    victim_before: dict[str, Any] | None = None
    leaks: list[Leak] = field(default_factory=list)
    searched: int = 0  # texts the sweep searched (answers, headers, log lines)
    secrets_known: int = 0  # secrets it searched for
    flood: FloodRecord | None = None
    declared_rate_rps: float | None = None  # the per-key rate limit the target file documents

    def group(self, *names: str) -> list[Probe]:
        return [p for p in self.probes if p.group in names]

    def sweep(
        self,
        secrets: Mapping[str, str],
        history: History | None,
        log_text: str,
        extra: Iterable[tuple[str, str]] = (),
    ) -> None:
        """Search every answer and log line of the run for every known secret."""
        self.secrets_known = len(secrets)
        self.leaks, self.searched = sweep(secrets, _texts(self.probes, history, log_text, extra))


def _texts(
    probes: list[Probe], history: History | None, log_text: str, extra: Iterable[tuple[str, str]]
) -> Iterable[tuple[str, str]]:
    for probe in probes:
        request = f"{probe.method} {probe.url}"
        if probe.body:
            yield f"the answer to {request} ({probe.name})", probe.body
        for name, value in probe.headers.items():
            yield f"the {name} header of the answer to {request}", value
    if history is not None:
        for invoked, done in history.completions():
            response = done.value.get("response")
            if response is not None:
                yield f"the answer to {invoked.f} by {invoked.process}", json.dumps(response, default=str)
            if done.error:
                yield f"the error of {invoked.f} by {invoked.process}", done.error
    yield from extra
    yield from log_lines(log_text)
