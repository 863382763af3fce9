"""The session messages: Logon (100) -> LogonResult, RestoreOrJoinSession (101) -> its result, Logoff,
and Ping (107) / Pong (108) in both directions.

A logon's token outlives its connection for `restore_window_s` when the logon allowed restore (session
setting 1); restore-or-join picks it up on a new connection. Joining a logon that is still live needs
session setting 2. After a restore the client must subscribe again: subscriptions are per connection.
"""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING

from . import protocol as p
from .proto import webapi_pb2 as pb
from .session import Logon, Session

if TYPE_CHECKING:
    from .gateway import CQGGateway


def _result(gw: CQGGateway, code: int, text: str = "", **extra: str | int) -> pb.ServerMsg:
    result = pb.LogonResult(
        result_code=code,
        base_time=gw.time.base_time,
        server_time=gw.now_ms(),
        protocol_version_major=p.PROTOCOL_MAJOR,
        protocol_version_minor=p.PROTOCOL_MINOR,
    )
    if text:
        result.text_message = text
    for name, value in extra.items():
        setattr(result, name, value)
    return p.server(logon_result=result)


def logon(gw: CQGGateway, session: Session, m: pb.Logon) -> None:
    """Answer a Logon; a refusal closes the connection after the result, as the real server does."""
    if session.logged_on:
        session.send(_result(gw, p.LOGON_FAILURE, "already logged on on this connection"))
        return
    refusal = _refusal(gw, session, m)
    if refusal is not None:
        code, text, url = refusal
        gw.events.add("logon_refused", session=session.id, user=m.user_name, code=code, text=text)
        session.send(_result(gw, code, text, **({"redirect_url": url} if url else {})))
        gw.spawn(session.close(1000, f"logon refused ({code})"))
        return
    if gw.config.on_concurrent == "kick":
        for other in list(gw.sessions):
            if other is not session and other.user == m.user_name and other.is_open:
                gw.kick(other, "concurrent session (105): the user logged on elsewhere")
    accounts = tuple(gw.user_accounts[m.user_name])
    token = secrets.token_hex(16)
    state = Logon(
        m.user_name, token, frozenset(m.session_settings), m.client_app_id, accounts, gw.user_ids[m.user_name]
    )
    gw.logons[token] = state
    attach(gw, session, state)
    gw.events.add("logon", session=session.id, user=m.user_name, app=m.client_app_id)
    session.send(
        _result(
            gw,
            p.LOGON_SUCCESS,
            session_token=token,
            user_id=state.user_id,
            inactivity_timeout=max(int(gw.config.pong_timeout_s // 60), 1),
        )
    )


def _refusal(gw: CQGGateway, session: Session, m: pb.Logon) -> tuple[int, str, str] | None:
    forced = gw.faults.take("logon_result")
    if forced is not None:
        gw.events.add("fault_fired", fault="logon_result", session=session.id, code=forced.params["code"])
        return forced.params["code"], forced.params["text"], forced.params["redirect_url"]
    redirect = gw.faults.take("redirect")
    if redirect is not None:
        gw.events.add("fault_fired", fault="redirect", session=session.id, url=redirect.params["url"])
        return p.LOGON_REDIRECTED, "redirected to another server", redirect.params["url"]
    if m.protocol_version_major != p.PROTOCOL_MAJOR:
        return p.LOGON_FAILURE, f"protocol_version_major: {m.protocol_version_major} is not supported (2)", ""
    if not m.user_name or gw.users.get(m.user_name) != m.password:
        return p.LOGON_FAILURE, "user_name/password: wrong user name or password", ""
    live = [s for s in gw.sessions if s is not session and s.user == m.user_name and s.is_open]
    if live and gw.config.on_concurrent == "reject":
        return p.LOGON_CONCURRENT, f"concurrent session: {m.user_name} is already logged on", ""
    return None


def attach(gw: CQGGateway, session: Session, state: Logon) -> None:
    session.logon = state
    state.connections.add(session.id)
    state.released_at = None


def detach(gw: CQGGateway, session: Session) -> None:
    """The connection is gone: its logon stays restorable for a while if it allowed restore."""
    state = session.logon
    if state is None:
        return
    state.connections.discard(session.id)
    if not state.connections:
        state.released_at = time.monotonic()
        if p.ALLOW_RESTORE not in state.settings:
            gw.logons.pop(state.token, None)
    session.logon = None


def restore_or_join(gw: CQGGateway, session: Session, m: pb.RestoreOrJoinSession) -> None:
    code, text = _restore_code(gw, session, m)
    result = pb.RestoreOrJoinSessionResult(
        result_code=code, base_time=gw.time.base_time, server_time=gw.now_ms()
    )
    if text:
        result.text_message = text
    gw.events.add("restore" if code == 0 else "restore_refused", session=session.id, code=code)
    session.send(p.server(restore_or_join_session_result=result))
    if code != p.RESTORE_SUCCESS:
        gw.spawn(session.close(1000, f"restore refused ({code})"))


def _restore_code(gw: CQGGateway, session: Session, m: pb.RestoreOrJoinSession) -> tuple[int, str]:
    forced = gw.faults.take("restore_failure")
    if forced is not None:
        gw.events.add("fault_fired", fault="restore_failure", session=session.id, code=forced.params["code"])
        return forced.params["code"], forced.params["text"]
    if session.logged_on:
        return p.RESTORE_INVALID, "already logged on on this connection"
    if not m.session_token or not m.client_app_id:
        return p.RESTORE_INVALID, "session_token and client_app_id are required"
    if m.protocol_version_major != p.PROTOCOL_MAJOR:
        return p.RESTORE_INVALID, f"protocol_version_major: {m.protocol_version_major} is not supported (2)"
    gw.expire_logons()
    state = gw.logons.get(m.session_token)
    if state is None:
        return p.RESTORE_UNKNOWN, "unknown or expired session: log on again"
    if m.client_app_id != state.app_id:
        return p.RESTORE_DENIED, "client_app_id: not the application that logged on"
    if state.connections and p.ALLOW_JOIN not in state.settings:
        return p.RESTORE_DENIED, "the session is live and its logon did not allow join (session setting 2)"
    if not state.connections and p.ALLOW_RESTORE not in state.settings:
        return p.RESTORE_DENIED, "the logon did not allow restore (session setting 1)"
    attach(gw, session, state)
    return p.RESTORE_SUCCESS, ""


def logoff(gw: CQGGateway, session: Session, m: pb.Logoff) -> None:
    """A logoff ends the logon for good (no restore), then the server closes the connection."""
    state = session.logon
    session.send(p.server(logged_off=pb.LoggedOff(logoff_reason=p.OFF_BY_REQUEST, text_message="logged off")))
    gw.events.add("logoff", session=session.id, user=session.user)
    session.forget_subscriptions()
    if state is not None:
        gw.logons.pop(state.token, None)
        state.connections.discard(session.id)
        session.logon = None
    gw.spawn(session.close(1000, "logged off"))


def ping(gw: CQGGateway, session: Session, m: pb.Ping) -> None:
    if gw.mode_for("no_pong", session):
        return
    session.pongs_sent += 1
    pong = pb.Pong(token=m.token, ping_utc_time=m.ping_utc_time, pong_utc_time=gw.now_ms())
    session.send(p.server(pong=pong))


def pong(gw: CQGGateway, session: Session, m: pb.Pong) -> None:
    """A pong for our ping clears it; a stray pong is ignored."""
    if session.pending_ping is not None and m.token == session.pending_ping[0]:
        session.pending_ping = None
