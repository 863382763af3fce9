"""The faults a scenario does to the middleware's own state (its database and its process), and the
evidence sampled while they are active, from which every failed check gets its diagnosis."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..adapters import Adapter
from ..checks import Deployment, Verdict
from ..dbfaults import DatabaseFaultError, DatabaseFaults, FaultHandle
from ..diagnosis import HealthSample, ProcessEvent, Sampler, diagnose, span_of
from ..postgres import ThrowawayPostgres
from ..targetfields import TargetError
from ..timeline import Timeline
from ..topology import Topology
from .deploys import redeploy
from .faults import FaultStep
from .result import HarnessError

IN_FLIGHT_WAIT_S = 3.0  # how long a graceful restart waits for a request to be in flight at its signal


class StateFaultHooks:
    """The fault player's database and deployment hooks (FaultContext), for whatever plays a schedule
    (the scenario runner, a load run): each delegates to the run's StateFaults, set while it runs."""

    state: StateFaults | None = None

    def database(self, step: FaultStep) -> None:
        self._state().database(step)

    def release(self, step: FaultStep) -> None:
        self._state().release(step)

    def deploy(self, step: FaultStep) -> None:
        self._state().deploy(step)

    def _state(self) -> StateFaults:
        if self.state is None:
            raise HarnessError("a database or deployment fault outside a run")
        return self.state


class StateFaults:
    """One per scenario run: `start()` begins sampling, `close()` releases every database session
    and stops the sampler (nothing is left, whatever happened in between)."""

    def __init__(
        self,
        topo: Topology,
        timeline: Timeline,
        adapter: Adapter,
        *,
        accounts: list[str],
        env: dict[str, str],
        in_flight: Callable[[], int] | None = None,
    ) -> None:
        self.topo = topo
        self.in_flight = in_flight  # the run's operations awaiting an answer (History.in_flight)
        self.timeline = timeline
        self.adapter = adapter
        self.accounts = list(accounts)
        self.env = env  # the scenario's settings: a redeployed middleware runs with them too
        self.deployments: list[Deployment] = []
        self.sampler = Sampler(topo.postgres.dsn, health=self._health, clock=timeline.now)
        self._db: DatabaseFaults | None = None
        self._handles: dict[int, FaultHandle] = {}

    def start(self) -> StateFaults:
        self.sampler.start()
        return self

    def close(self) -> None:
        try:
            if self._db is not None:
                self._db.close()
                self._db = None
        finally:
            self.sampler.stop()

    # -- the fault player's hooks (FaultContext) ------------------------------------------
    def database(self, step: FaultStep) -> None:
        params = self._params(step)
        try:
            self._handles[id(step)] = self._faults().apply(step.fault, params)
        except DatabaseFaultError as exc:
            if "lock" in step.params:  # the target's statement: its file is what is wrong
                raise TargetError(
                    self.topo.target.source, f"database.locks.{step.params['lock']}", str(exc)
                ) from exc
            raise HarnessError(f"the database fault {step.label} could not be applied: {exc}") from exc

    def release(self, step: FaultStep) -> None:
        handle = self._handles.pop(id(step), None)
        if handle is not None and self._db is not None:
            self._db.clear(handle)

    def deploy(self, step: FaultStep) -> None:
        if step.fault == "graceful":
            self._await_in_flight()
        deployment = redeploy(
            self.topo, step.fault, env=self.env, clock=self.timeline.now, record=self.sampler.record
        )
        self.deployments.append(deployment)

    # -- diagnosis ---------------------------------------------------------------------------
    def diagnose(self, verdicts: list[Verdict], span: tuple[float, float] | None) -> None:
        """Give every failed verdict the likely cause of its failure, from what was sampled in the
        span its evidence points at (else `span`, the fault and recovery phases)."""
        db, health = self.sampler.db_samples, self.sampler.health_samples
        events = self.sampler.process_events
        for verdict in verdicts:
            if verdict.status != "failed":
                continue
            found = diagnose(
                span_of(verdict.evidence, default=span),
                faults=list(self.timeline.windows),
                db=db,
                health=health,
                process=events,
            )
            verdict.diagnosis = found.to_json()

    # -- helpers -------------------------------------------------------------------------------
    def _await_in_flight(self) -> None:
        """A graceful stop is a test of the drain only with a request in flight at the signal: wait
        (at most IN_FLIGHT_WAIT_S) for one, rather than leave it to the traders' timing."""
        if self.in_flight is None:
            return
        deadline = time.monotonic() + IN_FLIGHT_WAIT_S
        while self.in_flight() == 0 and time.monotonic() < deadline:
            time.sleep(0.005)

    def _faults(self) -> DatabaseFaults:
        if self._db is None:
            postgres = self.topo.postgres
            restart = postgres.restart if isinstance(postgres, ThrowawayPostgres) else None
            self._db = DatabaseFaults(postgres.dsn, restart=restart).start()
        return self._db

    def _params(self, step: FaultStep) -> dict[str, Any]:
        """The step's parameters, with the target's declared statement and table filled in."""
        params = {k: v for k, v in step.params.items() if k != "lock"}
        database = self.topo.target.database
        if "lock" in step.params:
            params.update(sql=database.locks[str(step.params["lock"])], args=[self.accounts])
        if step.fault == "table_lock":
            params.setdefault("table", database.lock_table)
        return params

    def _health(self) -> HealthSample:
        t = self.timeline.now()
        outcome = self.adapter.health()
        view = outcome.health
        return HealthSample(
            t,
            ok=view.healthy if view is not None else (False if outcome.status is not None else None),
            database_ok=view.database_ok if view is not None else None,
            status=outcome.status,
            error=outcome.error,
            raw=outcome.body if isinstance(outcome.body, (dict, list, str)) else None,
        )


__all__ = ["ProcessEvent", "StateFaultHooks", "StateFaults"]
