"""MT5 operations the lifecycle needs done exactly once: a user per trader, a balance deal per purpose.

- A login is reserved in Postgres before user/add is sent. After an unknown outcome (or a restart)
  that login is looked up first: a user there carrying our customer id in its Comment is ours; one
  that is someone else's (a login taken outside this service) makes us reserve the next login.
- A balance deal carries a comment unique to its purpose. Once a deal may have been sent, every
  later attempt looks the comment up before sending again (MT5Client.balance does the same within
  one call); `blind` is the balance_retry_blind mutant, which just sends again.
"""

from __future__ import annotations

import logging
import secrets
from decimal import Decimal
from typing import Any

from ..venues.mt5 import BALANCE, NOT_FOUND, MT5Client, MT5Error, MT5OutcomeUnknown

log = logging.getLogger("refmw.lifecycle.mt5")
LOGIN_EXISTS = 3004
BLIND_ATTEMPTS = 3
RESERVE_ATTEMPTS = 50


async def reserve_login(pool: Any, first: int, customer: str, round_: int) -> int:
    """The next login no one here has reserved, recorded as this trader's. Two traders provisioned at
    once may pick the same one: the primary key refuses the second, which takes the next."""
    for _ in range(RESERVE_ATTEMPTS):
        login: int | None = await pool.fetchval(
            "INSERT INTO mt5_logins (login, customer_id, round) "
            "SELECT GREATEST($1, COALESCE(max(login) + 1, $1)), "
            "$2, $3 FROM mt5_logins ON CONFLICT (login) DO NOTHING RETURNING login",
            first,
            customer,
            round_,
        )
        if login is not None:
            return login
    raise MT5Error(f"no MT5 login could be reserved in {RESERVE_ATTEMPTS} attempts")


async def owner_of(client: MT5Client, login: int) -> str | None:
    """The Comment (our customer id) of the user at `login`; None when there is no user there."""
    try:
        body = await client.call("/api/user/get", {"login": login})
    except MT5Error as exc:
        if exc.code == NOT_FOUND:
            return None
        raise
    return str(body.get("answer", {}).get("Comment", ""))


async def ensure_user(
    client: MT5Client, login: int, customer: str, name: str, email: str, group: str
) -> bool:
    """Make sure `login` is this trader's MT5 user. True: it is (created now or found); False: the
    login belongs to someone else (reserve another)."""
    owner = await owner_of(client, login)
    if owner is None:
        try:
            await client.user_add(
                name[:128] or customer,
                group,
                100,
                "Pw#" + secrets.token_urlsafe(12),  # the trader sets their own through MT5's password reset
                login=login,
                Email=email[:128],
                Comment=customer,
            )
            return True
        except MT5OutcomeUnknown:
            log.warning("MT5 user/add %s: answer lost, looking the login up", login)
        except MT5Error as exc:
            if exc.code != LOGIN_EXISTS:
                raise
        owner = await owner_of(client, login)
        if owner is None:
            raise MT5Error(f"user/add {login}: outcome unknown and the user is not there yet")
    return owner == customer


async def book_once(
    client: MT5Client, login: int, amount: Decimal, comment: str, *, sent_before: bool, blind: bool
) -> int:
    """The deal id of the balance operation `comment` names, booked at most once (see module doc)."""
    if blind:
        last: Exception | None = None
        for _ in range(BLIND_ATTEMPTS):
            params = {"login": login, "type": BALANCE, "balance": f"{amount:f}", "comment": comment}
            try:
                body = await client.call("/api/trade/balance", params, safe=False)
                return int(body["answer"]["ticket"])
            except MT5OutcomeUnknown as exc:
                last = exc
        raise MT5OutcomeUnknown(f"trade/balance {comment}: {last}")
    if sent_before:
        for deal in await client.deals(login):
            if deal.comment == comment:
                return deal.deal
    outcome = await client.balance(login, amount, BALANCE, comment)
    return outcome.deal
