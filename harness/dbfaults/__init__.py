"""Database faults the harness drives with SQL on its own connections (the direct DSN, never the
proxied one): row locks held by an active or an idle transaction, a table lock, every connection
slot taken, a server-wide statement_timeout, a restart. `apply` returns once the fault is in force
and `clear` once it is over, so a timeline window spans exactly the fault.

Every harness session sets `application_name = 'uat-fault:<kind>'`, so a diagnosis sampling
pg_stat_activity can tell the harness's own sessions from the middleware's.

`kinds` says what a fault is and checks its params without a database (schedule-parse time);
`faults` does the SQL, with asyncpg on a private LoopThread so a synchronous caller can use it.

Example usage::

    faults = DatabaseFaults(pg.dsn, restart=pg.restart).start()
    handle = faults.apply("row_lock", {"sql": LOCK_ACCOUNTS, "args": [["A1", "A2"]]})
    ...
    faults.clear(handle)  # {"kind": "row_lock", "rows_locked": 2, "held_s": 4.0, "ended": "rolled back"}
    faults.close()
"""

from .faults import DatabaseFaults
from .kinds import APP_PREFIX, KINDS, LOCK_MODES, DatabaseFaultError, FaultHandle, quote_table, validate

__all__ = [
    "APP_PREFIX",
    "KINDS",
    "LOCK_MODES",
    "DatabaseFaultError",
    "DatabaseFaults",
    "FaultHandle",
    "quote_table",
    "validate",
]
