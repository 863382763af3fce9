"""The Zapier mock's faults, armed through the shared fault book (`POST /faults`).

Each fires on the next trigger at any catch hook, or the next one at the hook named by `params.hook`,
and is logged as a `fault_fired` event. `status` and `slow` shape the catch hook's answer; `duplicate`,
`delay` and `drop` shape what happens to a trigger after its 200.
"""

from __future__ import annotations

from mocks.common import ArmedFault, FaultKind
from mocks.common.faults import FaultContext

HOOK_PARAM = ("hook", (str, None))

FAULTS = [
    FaultKind(
        "status",
        "answer the catch hook with HTTP `status` (429 carries Retry-After `retry_after_s`); no run",
        dict([("status", (int, 503)), ("retry_after_s", (int, 1)), HOOK_PARAM]),
        bounds={"status": (400, 599), "retry_after_s": (0, 3600)},
    ),
    FaultKind(
        "slow",
        "answer the catch hook only after `delay_ms` (the run is queued as usual)",
        dict([("delay_ms", (int, 2000)), HOOK_PARAM]),
        bounds={"delay_ms": (0, 600_000)},
    ),
    FaultKind(
        "duplicate",
        "acknowledge once, run the trigger twice: two runs, the second `duplicate_of` the first",
        dict([HOOK_PARAM]),
    ),
    FaultKind(
        "delay",
        "hold the run back `hold_ms` before it starts: later triggers overtake it (reordering)",
        dict([("hold_ms", (int, 2000)), HOOK_PARAM]),
        bounds={"hold_ms": (0, 600_000)},
    ),
    FaultKind(
        "drop",
        "acknowledge with 200 and lose the run: recorded `dropped`, it runs only if replayed",
        dict([HOOK_PARAM]),
    ),
]


def take(context: FaultContext, name: str, hook: str, **detail: object) -> ArmedFault | None:
    """Use up one firing of `name` if it is armed for this hook, and log it."""
    taken = context.faults.take(name, lambda fault: fault.params.get("hook") in (None, hook))
    if taken is not None:
        context.events.add("fault_fired", fault=name, id=taken.id, hook=hook, **detail)
    return taken
