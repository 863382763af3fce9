"""One contract run: the spec and the live target's base URL into Schemathesis 4's engine, bounded
by example count and time and derandomised by the seed, and its events into a ContractRun.

Configured as a `schemathesis.toml` would be (SchemathesisConfig.from_dict), so nothing is read from
a config file in the working directory. One worker and no example database: the same seed sends
the same cases. Only the checks in model.CHECKS run; link inference is off, so the stateful phase
follows the spec's own links only. The time budget stops the engine between cases (it does not
re-run phases to fill the budget, as Schemathesis's own `max-time` does).
"""

from __future__ import annotations

import copy
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from ..exitcodes import UsageFailure
from ..spec.model import Document
from .applicable import http_operations, not_applicable
from .collect import Collector
from .model import CHECK_NAMES, Budget, ContractRun

REQUEST_TIMEOUT_S = 10.0  # one request; a hang past this is the case's error, not the run's
MAX_STATEFUL_STEPS = 6


class ContractFieldError(UsageFailure):
    """A usage error that one field of the target's `[contract]` table explains (`field`): the caller
    that knows where the spec came from decides whose mistake it is."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def engine_config(budget: Budget, base_url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """The engine's configuration, in schemathesis.toml's terms. `headers` go on every request: the
    back office's credential, so that every operation is reachable (ignored_auth drops it)."""
    return {
        **({"headers": dict(headers)} if headers else {}),
        "seed": budget.seed,
        "suppress-health-check": ["all"],  # a slow target must not make the run's cases differ
        "base-url": base_url,
        "workers": 1,
        "request-timeout": REQUEST_TIMEOUT_S,
        "generation": {"max-examples": budget.max_examples, "database": "none"},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECK_NAMES}},
        "phases": {"stateful": {"inference": {"algorithms": []}, "max-steps": MAX_STATEFUL_STEPS}},
    }


def reach_directly(base_url: str) -> None:
    """Schemathesis sends through `requests`, which honours HTTP(S)_PROXY from the environment: the
    target (loopback, or a host its file allowlists) is named in NO_PROXY so it is reached directly."""
    host = urlsplit(base_url).hostname
    if not host:
        return
    for key in ("NO_PROXY", "no_proxy"):
        hosts = [h.strip() for h in os.environ.get(key, "").split(",") if h.strip()]
        if host not in hosts:
            os.environ[key] = ",".join([*hosts, host])


def run_contract(
    document: Document,
    *,
    target: str,
    spec: str,
    base_url: str,
    budget: Budget,
    exclude: Sequence[str] = (),
    redact: Callable[[str], str] = lambda text: text,
    headers: dict[str, str] | None = None,
) -> ContractRun:
    """Run every check on every operation of `document` but those in `exclude` (`METHOD /path`, each
    named in the spec, or a UsageFailure naming `contract.exclude[i]`)."""
    import schemathesis
    from schemathesis.config import SchemathesisConfig
    from schemathesis.core.errors import LoaderError
    from schemathesis.engine import from_schema

    ops = http_operations(document)
    for index, name in enumerate(exclude):
        if name not in ops:
            known = ", ".join(ops) or "none"
            raise ContractFieldError(
                f"contract.exclude[{index}]",
                f"contract.exclude[{index}]: no operation {name!r} in {spec} (operations: {known})",
            )
    labels = [name for name in ops if name not in exclude]
    reach_directly(base_url)
    started = time.monotonic()
    try:
        config = SchemathesisConfig.from_dict(engine_config(budget, base_url, headers))
        loaded = schemathesis.openapi.from_dict(copy.deepcopy(dict(document)), config=config)
    except LoaderError as exc:
        raise ContractFieldError(
            "contract.spec", f"contract.spec: {spec}: Schemathesis cannot load it: {exc}"
        ) from None
    schema = loaded.exclude(name=list(exclude)) if exclude else loaded
    collector = Collector(labels, redact)
    out_of_time = threading.Event()
    stream = from_schema(schema).execute()

    def spent() -> None:
        out_of_time.set()
        stream.stop()

    timer = threading.Timer(budget.time_budget_s, spent)
    timer.daemon = True
    timer.start()
    try:
        for event in stream:
            collector.feed(event)
    except BaseException:
        stream.stop()
        raise
    finally:
        timer.cancel()
    operations = collector.results(
        lambda label: not_applicable(document, ops[label]), out_of_time=out_of_time.is_set()
    )
    return ContractRun(
        target=target,
        spec=spec,
        base_url=base_url,
        budget=budget,
        operations=operations,
        wall_s=time.monotonic() - started,
        stopped="time_budget" if out_of_time.is_set() else collector.stop_reason,
        errors=tuple(collector.run_errors),
        excluded=tuple(exclude),
    )
