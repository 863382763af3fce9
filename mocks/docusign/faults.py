"""The DocuSign mock's faults: five on Connect deliveries, two on the REST surface.

Armed through the shared fault book (`POST /faults {"fault", "params", "count", "duration_ms"}`).
A Connect fault fires on the next event produced, or the next one named by its `event` param;
a REST fault on the next request, or the next whose path starts with `path`. Every firing is
logged as a `fault_fired` event.
"""

from __future__ import annotations

from mocks.common import FaultKind

from .envelopes import EVENTS

EVENT_PARAM = ("event", (str, None))
PATH_PARAM = ("path", (str, None))

FAULTS = [
    FaultKind(
        "duplicate",
        "deliver the event twice: two deliveries of the same body",
        dict([EVENT_PARAM]),
        choices={"event": EVENTS},
    ),
    FaultKind(
        "reorder",
        "hold the event and deliver it right after the next event for the same listener "
        "(or after `hold_ms` if none comes)",
        dict([EVENT_PARAM, ("hold_ms", (int, 5000))]),
        bounds={"hold_ms": (1, 600_000)},
        choices={"event": EVENTS},
    ),
    FaultKind(
        "bad_signature",
        "sign the first `attempts` attempts with a wrong HMAC; later retries are signed right",
        dict([EVENT_PARAM, ("attempts", (int, 1))]),
        bounds={"attempts": (1, 20)},
        choices={"event": EVENTS},
    ),
    FaultKind(
        "lost_then_retried",
        "drop the first attempt without sending it; it is retried per the schedule (retryCount 1)",
        dict([EVENT_PARAM]),
        choices={"event": EVENTS},
    ),
    FaultKind(
        "never_delivered",
        "the status changes but its event is never sent: the middleware must poll to learn it",
        {"event": (str, "envelope-completed")},
        choices={"event": EVENTS},
    ),
    FaultKind(
        "slow",
        "answer a REST request only after `delay_ms`",
        dict([("delay_ms", (int, 2000)), PATH_PARAM]),
        bounds={"delay_ms": (0, 600_000)},
    ),
    FaultKind(
        "status",
        "answer a REST request with HTTP `status` and a DocuSign error body (`error_code` or a default)",
        dict([("status", (int, 503)), ("error_code", (str, None)), PATH_PARAM]),
        bounds={"status": (400, 599)},
    ),
]
CONNECT_FAULTS = ("never_delivered", "duplicate", "reorder", "bad_signature", "lost_then_retried")
