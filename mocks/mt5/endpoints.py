"""The Manager Web API endpoints the mock serves; the gateway has checked the session first.

Every answer is `{"retcode": "<code> <text>", "answer"?: …}` and every value in it a string, as
MT5's Web API sends them. Parameters come from the query; user/add and user/update also take a
JSON body (its fields win over the query's).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from .auth import check_answer, new_srv_rand, proof, start_params
from .faults import fire
from .fields import Params, bad
from .gateway import SESSION
from .retcodes import MT5Error, answer

if TYPE_CHECKING:
    from .venue import MT5Mock

MAX_TIME = 2**40  # unix seconds: far beyond any deal


def _peer(request: web.Request) -> str:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else "?"


class MT5Services:
    def __init__(self, venue: MT5Mock) -> None:
        self.venue = venue

    def routes(self) -> list[web.RouteDef]:
        table = [
            ("/api/auth/start", self.auth_start),
            ("/api/auth/answer", self.auth_answer),
            ("/api/test/access", self.test_access),
            ("/api/user/add", self.user_add),
            ("/api/user/get", self.user_get),
            ("/api/user/update", self.user_update),
            ("/api/trade/balance", self.trade_balance),
            ("/api/deal/get", self.deal_get),
            ("/api/deal/get_batch", self.deal_batch),
            ("/api/position/get_batch", self.position_batch),
        ]
        return [web.route(method, path, handler) for path, handler in table for method in ("GET", "POST")]

    # -- handshake ------------------------------------------------------------------------------

    async def auth_start(self, request: web.Request) -> web.Response:
        venue = self.venue
        params = await Params.of(request)
        manager = start_params(params)
        venue.sessions.forget(request.transport)  # a new handshake ends any session on this connection
        failed = fire(venue, "handshake_failure", request.path, lambda f: f.params["stage"] == "start")
        if failed is not None:
            raise MT5Error(failed.params["code"])
        assert request.transport is not None  # a request being served has its connection
        srv_rand = new_srv_rand(venue.rng)
        venue.sessions.start(request.transport, manager, srv_rand, _peer(request))
        venue.events.add("auth_start", manager=manager, agent=params.text("agent", required=False))
        return answer(srv_rand=srv_rand.hex())

    async def auth_answer(self, request: web.Request) -> web.Response:
        venue = self.venue
        params = await Params.of(request)
        session = venue.sessions.get(request.transport)
        try:
            server_proof = check_answer(session, params, venue.config)
        except MT5Error as exc:
            venue.events.add("auth_failed", manager=session.manager if session else None, retcode=exc.retcode)
            raise
        assert session is not None
        failed = fire(venue, "handshake_failure", request.path, lambda f: f.params["stage"] != "start")
        if failed is not None and failed.params["stage"] == "answer":
            venue.events.add("auth_failed", manager=session.manager, retcode="fault")
            raise MT5Error(failed.params["code"])
        if failed is not None:  # server_proof: let the client in, but answer like an impostor
            server_proof = proof(b"impostor", bytes.fromhex(params.text("cli_rand")))
        session.authenticated = True
        venue.events.add("auth_ok", manager=session.manager, peer=session.peer)
        return answer(cli_rand_answer=server_proof)

    async def test_access(self, request: web.Request) -> web.Response:
        return answer()

    # -- users ----------------------------------------------------------------------------------

    async def user_add(self, request: web.Request) -> web.Response:
        user = self.venue.accounts.add(await Params.of(request, with_body=True))
        self.venue.events.add("user_added", login=user.login)
        return answer(user.to_wire())

    async def user_get(self, request: web.Request) -> web.Response:
        params = await Params.of(request)
        return answer(self.venue.accounts.get(params.login("login")).to_wire())

    async def user_update(self, request: web.Request) -> web.Response:
        user = self.venue.accounts.update(await Params.of(request, with_body=True))
        self.venue.events.add("user_updated", login=user.login)
        return answer(user.to_wire())

    # -- money ----------------------------------------------------------------------------------

    async def trade_balance(self, request: web.Request) -> web.Response:
        session = request[SESSION]
        deal = self.venue.accounts.balance(await Params.of(request), session.manager)
        self.venue.events.add(
            "deal_booked", deal=deal.deal, login=deal.login, action=deal.action, amount=str(deal.amount)
        )
        return answer({"ticket": str(deal.deal)})

    async def deal_get(self, request: web.Request) -> web.Response:
        params = await Params.of(request)
        return answer(self.venue.accounts.deal(params.login("ticket")).to_wire())

    async def deal_batch(self, request: web.Request) -> web.Response:
        """deal/get_batch?login=L[,L…][&from=&to=]: deals by time (unix seconds, inclusive), by ticket."""
        params = await Params.of(request)
        logins = params.logins("login")
        since = params.integer("from", high=MAX_TIME, default=0)
        until = params.integer("to", high=MAX_TIME, default=MAX_TIME)
        if since > until:
            raise bad()
        return answer([d.to_wire() for d in self.venue.accounts.deals(logins, since, until)])

    async def position_batch(self, request: web.Request) -> web.Response:
        """position/get_batch?login=L[,L…]: open positions; none while the mock does not trade."""
        params = await Params.of(request)
        params.logins("login")
        return answer([])
