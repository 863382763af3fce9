"""The Rippling mock's faults: two on the REST surface, three on webhook deliveries.

Armed through the shared fault book (`POST /faults {"fault", "params", "count", "duration_ms"}`).
A REST fault fires on the next request, or the next whose path starts with `path` (and whose method is
`method`, when given: a slow create without a slow lookup); a webhook fault
on the next event produced, or the next named by its `event` param. Every firing is logged as a
`fault_fired` event.
"""

from __future__ import annotations

from mocks.common import FaultKind

from .records import EVENTS

EVENT_PARAM = ("event", (str, None))
PATH_PARAM = ("path", (str, None))
METHOD_PARAM = ("method", (str, None))
METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")

FAULTS = [
    FaultKind(
        "status",
        "answer a REST request with HTTP `status` (429 carries Retry-After: `retry_after_s`)",
        dict([("status", (int, 503)), ("retry_after_s", (int, 1)), PATH_PARAM, METHOD_PARAM]),
        bounds={"status": (400, 599), "retry_after_s": (0, 3600)},
        choices={"method": METHODS},
    ),
    FaultKind(
        "slow",
        "answer a REST request only after `delay_ms`",
        dict([("delay_ms", (int, 2000)), PATH_PARAM, METHOD_PARAM]),
        bounds={"delay_ms": (0, 600_000)},
        choices={"method": METHODS},
    ),
    FaultKind(
        "duplicate",
        "deliver the webhook twice: two deliveries of the same form body",
        dict([EVENT_PARAM]),
        choices={"event": EVENTS},
    ),
    FaultKind(
        "delay",
        "deliver the webhook `delay_ms` late; later events overtake it (Rippling can lag minutes)",
        dict([EVENT_PARAM, ("delay_ms", (int, 1000))]),
        bounds={"delay_ms": (1, 600_000)},
        choices={"event": EVENTS},
    ),
    FaultKind(
        "drop_then_retry",
        "drop the first attempt without sending it; it is retried per the retry schedule",
        dict([EVENT_PARAM]),
        choices={"event": EVENTS},
    ),
]
WEBHOOK_FAULTS = ("duplicate", "delay", "drop_then_retry")
