"""What a target file says about breaking its own state: the rows and table the database faults
lock (`[database]`), and how a deployment is done to it (`[deploy]`). Each is optional; a scenario
that needs a part the target does not declare is skipped with the reason, never passed."""

from __future__ import annotations

import re
import signal
from dataclasses import dataclass, field

from .targetfields import Fields

# The lock statements' parameter: the scenario's account ids, as $1 (a text[]).
LOCK_NAMES = {
    "accounts": "locks the rows of the scenario's accounts ($1: their ids, text[])",
    "orders": "locks the rows of the scenario's accounts' orders ($1: the account ids, text[])",
}
# Every scenario need a target's state declarations can meet (Target.offers), for checking scenarios.
STATE_NEEDS = frozenset(
    {"postgres", "db_sql", "db_restart", "db_table", "deploy", "deploy:bad_release", "metrics"}
    | {f"db_lock:{name}" for name in LOCK_NAMES}
)
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
SIGNALS = ("SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2")


@dataclass(frozen=True)
class DatabaseSpec:
    """`[database]`: `locks.NAME` statements (see LOCK_NAMES) and the `lock_table` a table lock takes."""

    locks: dict[str, str] = field(default_factory=dict)
    lock_table: str | None = None

    def offers(self) -> tuple[str, ...]:
        """Scenario needs this declaration meets: `db_lock:NAME`, `db_table`."""
        found = [f"db_lock:{name}" for name in self.locks]
        if self.lock_table:
            found.append("db_table")
        return tuple(found)


@dataclass(frozen=True)
class DeploySpec:
    """`[deploy]`: how the harness restarts the middleware (it stops and starts its process or
    container): the graceful stop signal, how long a drain may take, and the environment that
    turns a build into a bad release (one that must fail readiness)."""

    stop_signal: str = "SIGTERM"
    drain_s: float = 15.0
    bad_release_env: dict[str, str] = field(default_factory=dict)
    bad_release_ready_s: float = 10.0  # a bad release that is still not ready after this is rolled back

    @property
    def signal(self) -> signal.Signals:
        return signal.Signals[self.stop_signal]

    def offers(self) -> tuple[str, ...]:
        return ("deploy:bad_release",) if self.bad_release_env else ()


def parse_database(table: Fields) -> DatabaseSpec:
    locks_table = table.table("locks")
    locks = {}
    for name in list(locks_table.data):
        if name not in LOCK_NAMES:
            known = "; ".join(f"{k}: {v}" for k, v in LOCK_NAMES.items())
            raise locks_table.error(name, f"unknown lock (known: {known})")
        sql = locks_table.get(name, str).strip()
        if "$1" not in sql:
            raise locks_table.error(name, "must use $1 (the scenario's account ids, text[])")
        locks[name] = sql
    locks_table.no_unknown()
    lock_table = table.get("lock_table", str)
    if lock_table is not None and not _IDENT.match(lock_table):
        raise table.error(
            "lock_table", f"must be a table name such as orders or public.orders, got {lock_table!r}"
        )
    table.no_unknown()
    return DatabaseSpec(locks, lock_table)


def parse_deploy(table: Fields) -> DeploySpec:
    stop_signal = table.get("stop_signal", str, "SIGTERM")
    if stop_signal not in SIGNALS:
        raise table.error("stop_signal", f"must be one of {', '.join(SIGNALS)}, got {stop_signal!r}")
    drain = table.positive("drain_s", DeploySpec.drain_s)
    env_table = table.table("bad_release_env")
    bad_env = {key: env_table.get(key, str) for key in list(env_table.data)}
    env_table.no_unknown()
    ready_s = table.positive("bad_release_ready_s", DeploySpec.bad_release_ready_s)
    table.no_unknown()
    return DeploySpec(stop_signal, drain, bad_env, ready_s)
