"""The MT5 ledger: users and balance deals as the server booked them, the truth the gate reconciles.

It extends the shared `Ledger` (whose orders, fills and positions stay empty until the mock trades)
with `users` and `deals`. Money is Decimal here and a decimal string on the wire and in `GET /ledger`,
so nothing is ever rounded through a float; a user's Balance and Credit always equal the sums of
their balance and credit deals, seeded deposits included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from mocks.common import Ledger

BALANCE = 2  # deal action of a deposit or withdrawal
CREDIT = 3  # deal action of a credit in or out
ZERO = Decimal("0.00")
USER_RIGHT_ENABLED = 1  # MT5's rights bit: clear, the account is disabled (it may not connect or trade)


def money(value: Decimal) -> str:
    return f"{value:.2f}"


@dataclass
class MT5User:
    login: int
    name: str
    group: str
    leverage: int
    registration: int  # unix seconds
    balance: Decimal = ZERO
    credit: Decimal = ZERO
    extra: dict[str, str] = field(default_factory=dict)  # Email, Phone, Country … as given
    has_investor_password: bool = False
    rights: int = USER_RIGHT_ENABLED  # a bit mask; the mock models only USER_RIGHT_ENABLED

    @property
    def enabled(self) -> bool:
        return bool(self.rights & USER_RIGHT_ENABLED)

    def to_wire(self) -> dict[str, str]:
        """The user as user/get answers it: every value a string, as MT5's Web API sends them."""
        return {
            "Login": str(self.login),
            "Name": self.name,
            "Group": self.group,
            "Leverage": str(self.leverage),
            "Balance": money(self.balance),
            "Credit": money(self.credit),
            "Registration": str(self.registration),
            "Rights": str(self.rights),
            **self.extra,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "login": self.login,
            "name": self.name,
            "group": self.group,
            "leverage": self.leverage,
            "balance": money(self.balance),
            "credit": money(self.credit),
            "registration": self.registration,
            "email": self.extra.get("Email"),  # how the lifecycle's checkers find a trader's login
            "extra": dict(self.extra),
            "rights": self.rights,
            "enabled": self.enabled,
        }


@dataclass
class MT5Deal:
    deal: int
    login: int
    action: int  # BALANCE or CREDIT
    amount: Decimal
    comment: str
    time_msc: int  # unix milliseconds
    dealer: int  # the manager login that booked it, 0 for seeded deposits

    @property
    def time(self) -> int:
        return self.time_msc // 1000

    def to_wire(self) -> dict[str, str]:
        """A deal as deal/get_batch lists it; the amount of a balance deal is its Profit."""
        return {
            "Deal": str(self.deal),
            "Login": str(self.login),
            "Action": str(self.action),
            "Entry": "0",
            "Dealer": str(self.dealer),
            "Order": "0",
            "Symbol": "",
            "Volume": "0",
            "Price": "0.00",
            "Profit": money(self.amount),
            "Comment": self.comment,
            "Time": str(self.time),
            "TimeMsc": str(self.time_msc),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "deal": self.deal,
            "login": self.login,
            "action": self.action,
            "amount": money(self.amount),
            "comment": self.comment,
            "time_msc": self.time_msc,
            "dealer": self.dealer,
        }


class MT5Ledger(Ledger):
    def __init__(self) -> None:
        super().__init__()
        self.users: dict[int, MT5User] = {}
        self.deals: list[MT5Deal] = []

    def clear(self) -> None:
        super().clear()
        self.users.clear()
        self.deals.clear()

    def to_json(self) -> dict[str, Any]:
        return {
            **super().to_json(),
            "users": [u.to_json() for u in self.users.values()],
            "deals": [d.to_json() for d in self.deals],
        }
