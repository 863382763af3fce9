"""Workers, pay items, seeded ids and the ledger: the venue-side truth Rippling's webhooks report.

Nothing here dedupes. Creating the same person twice makes two workers and posting the same payout
twice makes two pay items, as a real HR/payroll system would; a careful client looks a worker up by
`work_email` or its own `external_id`, and a pay item by its `reference`, before it retries a create.
"""

from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from mocks.common import Ledger

WORKER_TYPES = ("EMPLOYEE", "CONTRACTOR")
WORKER_STATUSES = ("ACTIVE", "TERMINATED")
PAY_ITEM_TYPES = ("PAYOUT", "BONUS", "REIMBURSEMENT", "COMMISSION")
EVENTS = ("employee.created", "employee.updated", "employee.terminated", "pay_item.created")


class Ids:
    """Seeded ids, one generator per purpose so one kind of draw never shifts another.

    Rippling's ids are 24 hex digits (Mongo ObjectIds); these look the same."""

    def __init__(self, seed: int, purpose: str) -> None:
        self._rng = random.Random(f"rippling-{purpose}-{seed}")

    def hex24(self) -> str:
        return f"{self._rng.getrandbits(96):024x}"

    def token(self, nbytes: int) -> str:
        return self._rng.randbytes(nbytes).hex()


@dataclass(frozen=True)
class Company:
    """The one company the API token belongs to; every webhook names it."""

    company_id: str
    name: str = "UAT Prop Firm LLC"
    primary_email: str = "payroll-admin@uat-firm.test"

    def to_json(self) -> dict[str, Any]:
        return {"id": self.company_id, "name": self.name, "primary_email": self.primary_email}


@dataclass
class Worker:
    id: str
    first_name: str
    last_name: str
    work_email: str
    worker_type: str  # EMPLOYEE | CONTRACTOR
    status: str = "ACTIVE"
    external_id: str | None = None
    title: str | None = None
    start_date: str | None = None
    termination_date: str | None = None
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)


@dataclass
class PayItem:
    """A one-off payment line on a worker's next pay run (a trader's payout, a bonus)."""

    id: str
    worker_id: str
    amount: str  # decimal text with two places: money is never a float here
    currency: str
    type: str
    reference: str | None = None
    memo: str | None = None
    status: str = "PENDING"
    created_at: float = field(default_factory=time.time)


class RipplingLedger(Ledger):
    """The shared ledger (webhook delivery attempts) plus every worker and pay item."""

    def __init__(self) -> None:
        super().__init__()
        self.workers: dict[str, Worker] = {}
        self.pay_items: dict[str, PayItem] = {}

    def clear(self) -> None:
        super().clear()
        self.workers.clear()
        self.pay_items.clear()

    def to_json(self) -> dict[str, Any]:
        return {
            **super().to_json(),
            "workers": [asdict(w) for w in self.workers.values()],
            "pay_items": [asdict(p) for p in self.pay_items.values()],
        }


# Workers a fresh company already has (no webhook is sent for them).
SEED_WORKERS = (
    ("Ada", "Admin", "ada.admin@uat-firm.test", "EMPLOYEE", "Head of Operations"),
    ("Rex", "Risk", "rex.risk@uat-firm.test", "EMPLOYEE", "Risk Officer"),
    ("Tia", "Trader", "tia.trader@uat-firm.test", "CONTRACTOR", "Funded Trader"),
)
