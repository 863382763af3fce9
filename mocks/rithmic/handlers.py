"""Request handlers shared by every plant (system info, login, heartbeat, logout), the ticker plant
(market data) and the PnL plant. The order plant's are in order_plant.py.

Completion rule: a single answer carries rp_code ["0"]; a multi-row answer sends rows with
rq_handler_rp_code ["0"] and ends with a bare rp_code ["0"]; an error is rp_code [code, text].
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..common.credentials import CURRENT, PREVIOUS
from .protocol import Message, reply
from .session import PLANT_BY_INFRA, Session

if TYPE_CHECKING:
    from .gateway import RithmicGateway

Handler = Callable[["RithmicGateway", Session, Message], Awaitable[None]]

# Rithmic's real codes are not public; "13 permission denied" is what this mock answers a bad login with.
LOGIN_REJECTED = ["13", "permission denied"]
NOT_LOGGED_IN = ["13", "permission denied: log in first"]


def _now() -> tuple[int, int]:
    t = time.time()
    return int(t), int((t - int(t)) * 1_000_000)


async def system_info(gw: RithmicGateway, session: Session, m: Message) -> None:  # 16 -> 17
    session.send(
        reply(17, m, rp_code=["0"], system_name=gw.systems, has_aggregated_quotes=[False] * len(gw.systems))
    )


def check_password(gw: RithmicGateway, user: str, password: str) -> tuple[bool, dict[str, Any]]:
    """Whether the password is accepted, and for the rotated user which generation it was (the event's
    `credential` and `generation`); other users' passwords never rotate, so their events omit both."""
    if user != gw.ring_user:
        return gw.users.get(user) == password, {}
    label, generation = gw.passwords.classify(password)
    return label in (CURRENT, PREVIOUS), {"credential": label, "generation": generation}


async def login(gw: RithmicGateway, session: Session, m: Message) -> None:  # 10 -> 11
    slow = gw.faults.take("slow_login")
    if slow is not None:
        gw.events.add("fault_fired", fault="slow_login", session=session.id, delay_ms=slow.params["delay_ms"])
        await asyncio.sleep(slow.params["delay_ms"] / 1000)
    plant = PLANT_BY_INFRA.get(int(m.infra_type))
    if session.logged_in:
        session.send(reply(11, m, template_version="3.9", rp_code=["1", "already logged in"]))
        return
    accepted, credential = check_password(gw, m.user, m.password)
    if m.system_name not in gw.systems or not accepted or plant is None:
        # A revoked password gets the same answer as a wrong one; only the event tells them apart.
        gw.events.add(
            "login_rejected", session=session.id, user=m.user, system_name=m.system_name, **credential
        )
        session.send(reply(11, m, template_version="3.9", rp_code=LOGIN_REJECTED))
        return
    session.login(plant, m.user)
    gw.events.add("login", session=session.id, plant=plant, user=m.user, app=m.app_name, **credential)
    session.send(
        reply(
            11,
            m,
            template_version="3.9",
            rp_code=["0"],
            fcm_id=gw.fcm_id,
            ib_id=gw.ib_id,
            country_code="US",
            state_code="IL",
            unique_user_id=f"{m.user}-{session.id}",
            heartbeat_interval=gw.heartbeat_interval,
        )
    )
    await gw.enforce_session_limit(session)


async def logout(gw: RithmicGateway, session: Session, m: Message) -> None:  # 12 -> 13
    session.send(reply(13, m, rp_code=["0"]))
    gw.events.add("logout", session=session.id, plant=session.plant, user=session.user)
    gw.forget_subscriptions(session)
    session.plant = None


async def heartbeat(gw: RithmicGateway, session: Session, m: Message) -> None:  # 18 -> 19
    session.heartbeats += 1
    ssboe, usecs = _now()
    session.send(reply(19, m, rp_code=["0"], ssboe=ssboe, usecs=usecs))


async def market_data(gw: RithmicGateway, session: Session, m: Message) -> None:  # 100 -> 101
    key = (m.symbol, m.exchange)
    if gw.market.lookup(*key) is None:
        session.send(reply(101, m, rp_code=["7", f"no data for {m.symbol} on {m.exchange}"]))
        return
    if int(m.request) == 1:
        gw.feed.subscribe(session, key, int(m.update_bits))
    elif int(m.request) == 2:
        gw.feed.unsubscribe(session, key)
    else:
        session.send(reply(101, m, rp_code=["3", "request must be 1 (subscribe) or 2 (unsubscribe)"]))
        return
    session.send(reply(101, m, rp_code=["0"]))


async def pnl_updates(gw: RithmicGateway, session: Session, m: Message) -> None:  # 400 -> 401
    account = m.account_id
    if account not in gw.accounts_of(session.user):
        session.send(reply(401, m, rp_code=["13", f"no access to account {account!r}"]))
        return
    if int(m.request) == 2:
        session.pnl_accounts.discard(account)
        session.send(reply(401, m, rp_code=["0"]))
        return
    session.pnl_accounts.add(account)
    session.send(reply(401, m, rp_code=["0"]))
    for position in gw.pnl.for_account(account):
        session.send(gw.pnl.instrument_update(position, gw.fcm_id, gw.ib_id, snapshot=False))
    session.send(gw.pnl.account_update(account, gw.fcm_id, gw.ib_id, snapshot=False))


async def pnl_snapshot(gw: RithmicGateway, session: Session, m: Message) -> None:  # 402 -> 450/451*, 403
    account = m.account_id
    if account not in gw.accounts_of(session.user):
        session.send(reply(403, m, rp_code=["13", f"no access to account {account!r}"]))
        return
    for position in gw.pnl.for_account(account):
        session.send(gw.pnl.instrument_update(position, gw.fcm_id, gw.ib_id, snapshot=True))
    session.send(gw.pnl.account_update(account, gw.fcm_id, gw.ib_id, snapshot=True))
    session.send(reply(403, m, rp_code=["0"]))


SHARED: dict[int, Handler] = {
    16: system_info,
    10: login,
    12: logout,
    18: heartbeat,
    100: market_data,
    400: pnl_updates,
    402: pnl_snapshot,
}
PRE_LOGIN = frozenset({10, 12, 16, 18})
