"""The MT5 mock's fault catalogue, and how a fault is fired (used up, and logged as `fault_fired`).

`path` narrows a fault to request paths starting with it (`/api/trade/balance`, `/api/user/`);
unset, it hits every path the fault applies to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from mocks.common import ArmedFault, EventLog, FaultBook, FaultKind

from .retcodes import TEXTS

PATH_PARAM = ("path", (str, None))
ERROR_CODES = tuple(code for code in TEXTS if code != 0)

FAULTS = [
    FaultKind(
        "handshake_failure",
        "auth/start or auth/answer answers an error retcode (`stage`), or auth/answer answers 0 Done "
        "with a wrong cli_rand_answer, as an impostor server would (`stage: server_proof`)",
        {"stage": (str, "answer"), "code": (int, 3006)},
        choices={"stage": ("start", "answer", "server_proof"), "code": ERROR_CODES},
    ),
    FaultKind(
        "session_lost",
        "close the keep-alive connection right after answering a session's `after`-th request; "
        "the client must do the handshake again on a new connection",
        {"after": (int, 1)},
        bounds={"after": (1, 1_000_000)},
    ),
    FaultKind(
        "no_rights",
        "answer HTTP 403 `8 Not enough permissions`, as to a manager without the right for the endpoint",
        dict([PATH_PARAM]),
    ),
    FaultKind(
        "retcode_error",
        "answer this error retcode instead of executing the request",
        dict([("code", (int, 3)), PATH_PARAM]),
        choices={"code": (3, 8, 13, 3002, 3004, 10019)},
    ),
    FaultKind(
        "slow_answer",
        "wait `delay_ms` before handling the request (the handshake included)",
        dict([("delay_ms", (int, 2000)), PATH_PARAM]),
        bounds={"delay_ms": (0, 600_000)},
    ),
    FaultKind(
        "answer_lost",
        "execute the request (book the deal), then drop the connection without answering: the retry "
        "trap; with `execute: false` the request is dropped unexecuted, as if lost on the way in",
        {"path": (str, "/api/trade/balance"), "execute": (bool, True)},
    ),
]


class FaultContext(Protocol):
    faults: FaultBook
    events: EventLog


def fire(
    venue: FaultContext, name: str, path: str, when: Callable[[ArmedFault], bool] | None = None
) -> ArmedFault | None:
    """Use up one firing of fault `name` if it is armed for this path (and `when` agrees)."""
    fault = venue.faults.active(name)
    if fault is None:
        return None
    prefix = fault.params.get("path")
    if prefix and not path.startswith(prefix):
        return None
    if when is not None and not when(fault):
        return None
    venue.faults.take(name)
    venue.events.add("fault_fired", fault=name, id=fault.id, path=path)
    return fault
