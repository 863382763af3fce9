"""Deployments done to the middleware in the middle of a scenario, the way a release pipeline does
them: a graceful restart (the target's stop signal, a drain, a start), a crash (SIGKILL, a start),
and a bad release that must fail readiness and is then rolled back. Each reports what happened as
process events (for the diagnosis) and one Deployment (for the checks)."""

from __future__ import annotations

import signal
from collections.abc import Callable

from ..checks import Deployment
from ..diagnosis import ProcessEvent
from ..topology import TargetNotReady, Topology
from .result import MiddlewareFault

CRASH_GRACE_S = 5.0  # SIGKILL cannot be refused; this only bounds the wait for the kernel
LOG_LINES = 8


def redeploy(
    topo: Topology,
    how: str,
    *,
    env: dict[str, str],
    clock: Callable[[], float],
    record: Callable[[ProcessEvent], None],
) -> Deployment:
    """Stop the running middleware (`how`: graceful, crash or bad_release) and bring the same
    build back with `env` (the scenario's settings); MiddlewareFault if it does not come back."""
    spec = topo.target.deploy
    old = topo.process
    if old is None:
        raise RuntimeError("no middleware is running to redeploy")
    crash = how == "crash"
    sig = signal.SIGKILL if crash else spec.signal
    signalled_at = clock()
    record(ProcessEvent(signalled_at, "sigkill" if crash else "sigterm", f"{how}: {sig.name} sent", None, ()))
    code = old.stop(sig, CRASH_GRACE_S if crash else spec.drain_s)
    exited_at = clock()
    lines = tuple(old.log_tail(LOG_LINES).splitlines())
    record(ProcessEvent(exited_at, "exited", f"{how}: the old process exited with {code}", code, lines))
    bad_ready: bool | None = None
    if how == "bad_release":
        bad_ready = _try_bad_release(topo, env, clock, record)
    process = topo.spawn_target(env)
    record(ProcessEvent(clock(), "started", f"{how}: the release started again", None, ()))
    try:
        process.wait_ready()
    except TargetNotReady as exc:
        record(ProcessEvent(clock(), "not_ready", f"{how}: the release never became ready", None, ()))
        raise MiddlewareFault(
            "target_ready",
            f"after the {how} restart the middleware did not become ready again",
            [{"error": str(exc).splitlines()[0], "log_tail": str(exc)[-2000:], "exit_code": code}],
        ) from exc
    ready_at = clock()
    record(
        ProcessEvent(ready_at, "ready", f"{how}: ready again {ready_at - signalled_at:.1f} s after", None, ())
    )
    return Deployment(how, signalled_at, code, exited_at, ready_at, bad_ready, lines)


def _try_bad_release(
    topo: Topology,
    env: dict[str, str],
    clock: Callable[[], float],
    record: Callable[[ProcessEvent], None],
) -> bool:
    """Start the build with its bad-release switch; whether it (wrongly) passed readiness within the
    target's bound. It is stopped either way: the rollback follows."""
    spec = topo.target.deploy
    process = topo.spawn_target({**env, **spec.bad_release_env})
    record(ProcessEvent(clock(), "started", "bad_release: the bad release started", None, ()))
    try:
        process.wait_ready(spec.bad_release_ready_s)
        passed = True
        record(ProcessEvent(clock(), "ready", "bad_release: the bad release passed readiness", None, ()))
    except TargetNotReady as exc:
        passed = False
        lines = tuple(process.log_tail(LOG_LINES).splitlines())
        detail = (
            f"bad_release: not ready within {spec.bad_release_ready_s:g} s ({str(exc).splitlines()[0][:200]})"
        )
        record(ProcessEvent(clock(), "not_ready", detail, None, lines))
    code = process.stop(spec.signal, spec.drain_s)
    record(ProcessEvent(clock(), "rollback", f"bad_release: stopped (exit {code}); rolling back", code, ()))
    return passed
