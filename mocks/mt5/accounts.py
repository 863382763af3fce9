"""Users and balance operations on the MT5 ledger, with the retcodes MT5 answers them with.

`trade/balance` is deliberately not idempotent: every accepted call books a new deal, however
alike two calls are. That is the trap a middleware must handle, by looking its deal up (by its
comment) before it retries an operation whose answer it never got.
"""

from __future__ import annotations

import random
import time
from decimal import Decimal

from .config import MT5Config
from .fields import Params, bad
from .ledger import BALANCE, CREDIT, MT5Deal, MT5Ledger, MT5User
from .retcodes import LOGIN_EXISTS, LOGINS_EXHAUSTED, NO_MONEY, NOT_FOUND, MT5Error

# Optional user fields kept as given and returned by user/get; other unknown fields are ignored.
EXTRA_FIELDS = ("Email", "Phone", "Country", "City", "State", "ZipCode", "Address", "Company", "Comment")
MAX_LEVERAGE = 10_000
MAX_COMMENT = 128
MAX_RIGHTS = 2**32 - 1
SEED_DEPOSITS = (Decimal("10000.00"), Decimal("25000.00"), Decimal("50000.00"), Decimal("100000.00"))


class Accounts:
    """The users and deals of one mock run, fixed by the seed: seeded users, deal ids."""

    def __init__(self, seed: int, ledger: MT5Ledger, config: MT5Config) -> None:
        self.rng = random.Random(f"mt5-accounts-{seed}")
        self.ledger = ledger
        self.config = config
        self.next_deal = self.rng.randrange(100_000, 1_000_000)
        self._next_login = config.login_first
        for n in range(1, config.seeded_users + 1):
            user = self._create(self._assign_login(), f"UAT Trader {n}", "demo\\uat", 100)
            self.book(user.login, BALANCE, self.rng.choice(SEED_DEPOSITS), "seed deposit", dealer=0)

    # -- users ----------------------------------------------------------------------------------

    def get(self, login: int) -> MT5User:
        user = self.ledger.users.get(login)
        if user is None:
            raise MT5Error(NOT_FOUND)
        return user

    def add(self, params: Params) -> MT5User:
        """user/add: Name, Group, Leverage and PassMain required; Login assigned when absent."""
        name = params.text("Name")
        group = params.text("Group", max_len=64)
        leverage = params.integer("Leverage", low=1, high=MAX_LEVERAGE)
        params.text("PassMain", max_len=64)
        investor = params.text("PassInvestor", required=False, max_len=64)
        extra = {f: params.text(f, required=False) for f in EXTRA_FIELDS if params.has(f)}
        if params.has("Login"):
            login = params.login("Login")
            if login in self.ledger.users:
                raise MT5Error(LOGIN_EXISTS)
        else:
            login = self._assign_login()
        user = self._create(login, name, group, leverage)
        user.extra = extra
        user.has_investor_password = bool(investor)
        if params.has("Rights"):
            user.rights = params.integer("Rights", high=MAX_RIGHTS)
        return user

    def update(self, params: Params) -> MT5User:
        """user/update: Login required; Name, Group, Leverage, Rights and the extra fields change when given.

        Rights is MT5's bit mask: clearing USER_RIGHT_ENABLED (1) disables the account.

        Balance, Credit and Registration are read-only here (only trade/balance moves money), and
        are ignored like any field the mock does not model.
        """
        user = self.get(params.login("Login"))
        name = params.text("Name") if params.has("Name") else user.name
        group = params.text("Group", max_len=64) if params.has("Group") else user.group
        leverage = (
            params.integer("Leverage", low=1, high=MAX_LEVERAGE) if params.has("Leverage") else user.leverage
        )
        extra = {f: params.text(f, required=False) for f in EXTRA_FIELDS if params.has(f)}
        rights = params.integer("Rights", high=MAX_RIGHTS) if params.has("Rights") else user.rights
        user.name, user.group, user.leverage, user.rights = name, group, leverage, rights
        user.extra.update(extra)
        return user

    def _assign_login(self) -> int:
        while self._next_login in self.ledger.users:
            self._next_login += 1
        if self._next_login > self.config.login_last:
            raise MT5Error(LOGINS_EXHAUSTED)
        login = self._next_login
        self._next_login += 1
        return login

    def _create(self, login: int, name: str, group: str, leverage: int) -> MT5User:
        user = MT5User(login, name, group, leverage, int(time.time()))
        self.ledger.users[login] = user
        return user

    # -- balance operations ---------------------------------------------------------------------

    def balance(self, params: Params, dealer: int) -> MT5Deal:
        """trade/balance: type 2 (balance, a negative amount withdraws) or 3 (credit)."""
        login = params.login("login")
        action = params.integer("type", low=0, high=100)
        if action not in (BALANCE, CREDIT):
            raise bad()
        amount = params.amount("balance")
        comment = params.text("comment", required=False, max_len=MAX_COMMENT)
        params.integer("check_margin", low=0, high=1, default=0)  # accepted; no positions to margin yet
        user = self.get(login)
        held = user.balance if action == BALANCE else user.credit
        if held + amount < 0:
            raise MT5Error(NO_MONEY)
        return self.book(login, action, amount, comment, dealer)

    def book(self, login: int, action: int, amount: Decimal, comment: str, dealer: int) -> MT5Deal:
        user = self.ledger.users[login]
        deal = MT5Deal(self.next_deal, login, action, amount, comment, time.time_ns() // 1_000_000, dealer)
        self.next_deal += 1
        if action == BALANCE:
            user.balance += amount
        else:
            user.credit += amount
        self.ledger.deals.append(deal)
        return deal

    def deals(self, logins: set[int], since: int, until: int) -> list[MT5Deal]:
        return [d for d in self.ledger.deals if d.login in logins and since <= d.time <= until]

    def deal(self, ticket: int) -> MT5Deal:
        for deal in self.ledger.deals:
            if deal.deal == ticket:
                return deal
        raise MT5Error(NOT_FOUND)
