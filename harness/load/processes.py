"""The Locust processes of a load run: one local process, or a master with N local workers and
room for M more from other machines. The master binds the interface it is given (loopback by
default) and waits, bounded, for all N+M workers; the command each other machine runs is printed
and kept in the report dir. Nothing here outlives `stop()`."""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..ports import free_port

LOCUSTFILE = str(Path(__file__).with_name("users.py"))
STOP_TIMEOUT_S = 5  # Locust's --stop-timeout: how long a user may finish its task when stopped
WORKER_WAIT_S = 120  # default bound on the master's wait for its workers


class LocustFailed(RuntimeError):
    """Locust itself could not run the load (workers never came, a process died): a harness or
    infrastructure error, never the middleware's."""


@dataclass
class LocustPlan:
    host: str  # the middleware's base URL
    report_dir: Path
    env: dict[str, str]  # the master's (or the one process's) environment, UAT_* settings included
    workers: int = 0  # local worker processes
    remote_workers: int = 0  # workers from other machines
    master_bind: str = "127.0.0.1"
    worker_wait_s: int = WORKER_WAIT_S

    @property
    def distributed(self) -> bool:
        return self.workers + self.remote_workers > 0

    @property
    def expected_workers(self) -> int:
        return self.workers + self.remote_workers


@dataclass
class LocustProcesses:
    plan: LocustPlan
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    port: int = 0

    @property
    def master(self) -> subprocess.Popen[bytes]:
        return self.procs[0]

    def remote_command(self) -> str:
        """What each other machine runs: a worker that takes every setting from the master."""
        return shlex.join(["locust", "-f", LOCUSTFILE, *self._worker_args()])

    def _worker_args(self) -> list[str]:
        """A worker's whole configuration: where its master is. The rest comes from the master."""
        return ["--worker", "--master-host", self.plan.master_bind, "--master-port", str(self.port)]

    def start(self) -> None:
        plan = self.plan
        base = [sys.executable, "-m", "locust", "-f", LOCUSTFILE, "--host", plan.host]
        common = [
            "--headless",
            "--csv",
            str(plan.report_dir / "locust"),
            "--csv-full-history",  # a history row per request name: HTTP rates apart from our events
            "--only-summary",
            "--stop-timeout",
            str(STOP_TIMEOUT_S),
        ]
        if not plan.distributed:
            self._spawn("locust", [*base, *common], plan.env, "locust.log")
            return
        self.port = free_port(plan.master_bind)
        master = [
            "--master",
            "--master-bind-host",
            plan.master_bind,
            "--master-bind-port",
            str(self.port),
            "--expect-workers",
            str(plan.expected_workers),
            "--expect-workers-max-wait",
            str(plan.worker_wait_s),
        ]
        self._spawn("locust-master", [*base, *common, *master], plan.env, "locust-master.log")
        if plan.remote_workers:
            (plan.report_dir / "remote-worker.txt").write_text(self.remote_instructions())
        # Local workers get the settings from the master, as remote ones do; only the journal
        # directory is theirs.
        worker_env = {k: v for k, v in plan.env.items() if not k.startswith("UAT_")}
        worker_env["UAT_JOURNAL"] = plan.env["UAT_JOURNAL"]
        for index in range(plan.workers):
            self._spawn(
                f"locust-worker-{index}",
                [*base, *self._worker_args()],
                worker_env,
                f"locust-worker-{index}.log",
            )

    def remote_instructions(self) -> str:
        return (
            f"# On each of the {self.plan.remote_workers} other machine(s), from a stack-uat checkout\n"
            "# with its venv active (the locustfile path is this machine's: use your checkout's)\n"
            "# and without UAT_JOURNAL set: the worker ships its journal to the master.\n"
            f"{self.remote_command()}\n"
        )

    def _spawn(self, name: str, argv: list[str], env: dict[str, str], log_name: str) -> None:
        with (self.plan.report_dir / log_name).open("wb") as log:
            self.procs.append(subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT))
        self.names.append(name)

    def groups(self) -> dict[str, int]:
        return {name: proc.pid for name, proc in zip(self.names, self.procs, strict=True)}

    def stop(self, grace_s: float = STOP_TIMEOUT_S + 5) -> None:
        """Let each worker finish on its own (it quits once the master tells it to), then
        terminate what is left, then kill. A master still running is told to stop first."""
        if self.procs and self.master.poll() is None:
            self.master.terminate()
        deadline = time.monotonic() + grace_s
        for proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
