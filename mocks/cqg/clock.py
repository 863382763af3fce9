"""The gateway's clock: each step fires the push faults, sends the server's pings and drops clients whose
pong is late, forgets expired logons, then every contract's path steps (shaped by the market regimes, and
recorded in the price history; a halted one does nothing), resting orders match, and the new quotes go to
the subscribers (one encode per level; `stale_quotes` freezes the touch)."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from mocks.rithmic.market import Quote

from . import faults as cfaults
from . import market_data as md
from . import protocol as p
from . import statuses as order_statuses
from .proto import webapi_pb2 as pb

if TYPE_CHECKING:
    from .gateway import CQGGateway
    from .session import Session


class GatewayClock:
    def __init__(self, gateway: CQGGateway) -> None:
        self.gw = gateway
        self.steps = 0
        self._frozen: dict[int, Quote] = {}  # stale_quotes: contract_id -> the touch clients keep seeing

    def reset(self) -> None:
        self.steps = 0
        self._frozen.clear()

    async def run(self) -> None:
        gw = self.gw
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        while True:
            try:
                self.step()
            except Exception:
                gw.log.exception("market step failed")
            deadline += 1.0 / gw.ticks_per_second
            delay = deadline - loop.time()
            if delay < 0:
                deadline = loop.time()
            await asyncio.sleep(max(delay, 0.0))

    def step(self) -> None:
        """One market step: push faults, heartbeats, then every contract ticks, matches and publishes."""
        gw = self.gw
        self.steps += 1
        for name in cfaults.PUSH_FAULTS:
            fault = gw.faults.take(name)
            if fault is not None:
                hit = self._fire_push(name, fault.params)
                gw.events.add("fault_fired", fault=name, sessions=[s.id for s in hit])
        self._heartbeats()
        gw.expire_logons()
        stale = gw.faults.active("stale_quotes")
        when = gw.now_ms()
        contracts = list(gw.contracts.by_id.values())
        gw.regimes.period([(c.instrument.symbol, c.instrument.exchange) for c in contracts])
        for contract in contracts:
            path = gw.contracts.path(contract)
            key = (contract.instrument.symbol, contract.instrument.exchange)
            shift = gw.regimes.shape(key, path.quote.bid_ticks)
            quote = path.step(shift)
            if shift.halted:  # no trade, no quote, no matching: subscribers see silence on it
                continue
            gw.history.record(key, quote, shift.name)
            fills = gw.engine.on_step(contract.instrument.symbol, contract.instrument.exchange)
            if fills:
                order_statuses.deliver_fills(gw, fills)
            shown = quote
            if stale is not None and stale.params["symbol"] in ("", contract.instrument.symbol):
                if not stale.fired:
                    stale.fired = 1
                    gw.events.add("fault_fired", fault="stale_quotes", symbol=contract.instrument.symbol)
                frozen = self._frozen.setdefault(contract.contract_id, quote)
                shown = type(quote)(
                    **{
                        **quote.__dict__,
                        "bid_ticks": frozen.bid_ticks,
                        "ask_ticks": frozen.ask_ticks,
                        "bid_size": frozen.bid_size,
                        "ask_size": frozen.ask_size,
                    }
                )
            else:
                self._frozen.pop(contract.contract_id, None)
            self._publish(contract, shown, when)

    def _publish(self, contract: md.Contract, quote: Any, when: int) -> None:
        gw = self.gw
        encoded: dict[int, bytes] = {}
        for session in list(gw.sessions):
            level = session.market_data.get(contract.contract_id)
            if not level or gw.is_silenced(session):
                continue
            data = encoded.get(level)
            if data is None:
                data = encoded[level] = md.market_data(
                    contract, quote, level, when, snapshot=False
                ).SerializeToString()
            session.send_market_data(data)

    def _heartbeats(self) -> None:
        """Ping logged-on clients each `ping_interval_s`; drop one whose pong is `pong_timeout_s` late."""
        gw = self.gw
        now = time.monotonic()
        for session in list(gw.sessions):
            if not session.logged_on or not session.is_open or gw.mode_for("no_pong", session):
                continue
            if session.pending_ping is not None:
                if now - session.pending_ping[1] > gw.config.pong_timeout_s:
                    gw.events.add("pong_timeout", session=session.id, user=session.user)
                    gw.user_message(session, "no pong in time; closing the connection", p.USER_CRITICAL)
                    gw.spawn(session.close(p.POLICY_VIOLATION, "pong timeout"))
                continue
            if now - session.last_pinged >= gw.config.ping_interval_s:
                token = f"p{self.steps}-{session.id}"
                session.pending_ping, session.last_pinged = (token, now), now
                session.send(p.server(ping=pb.Ping(token=token, ping_utc_time=gw.now_ms())))

    def _fire_push(self, name: str, params: dict[str, Any]) -> list[Session]:
        gw = self.gw
        hit = [s for s in gw.sessions if s.is_open and s.logged_on and params["user"] in ("", s.user)]
        for session in hit:
            if name == "concurrent_session":
                gw.kick(session, "concurrent session (105): the user logged on elsewhere")
            elif name == "rate_limit_close":
                gw.rate_limit_close(session)
            elif name == "user_message":
                gw.user_message(session, params["text"], params["message_type"])
            else:
                session.send_raw(cfaults.bad_payload(name, params, gw.rng))
        return hit
