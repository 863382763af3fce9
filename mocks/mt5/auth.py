"""The Manager Web API handshake: `auth/start` then `auth/answer`, both on one connection.

    hash            = MD5(MD5(UTF-16LE password) ‖ b"WebAPI")          (raw digests, not hex)
    srv_rand_answer = hex(MD5(hash ‖ srv_rand))   the client proves it knows the password
    cli_rand_answer = hex(MD5(hash ‖ cli_rand))   the server proves it does too

An unknown manager gets a `srv_rand` like any other and fails at auth/answer with the same
`3006 Invalid password` as a wrong password, so the answers never tell which logins exist.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import re

from .config import MT5Config
from .fields import Params, bad
from .retcodes import INVALID_PASSWORD, NO_PERMISSIONS, NOT_AUTHENTICATED, MT5Error
from .session import Session

_HEX16 = re.compile(r"[0-9a-fA-F]{32}")


def password_hash(password: str) -> bytes:
    inner = hashlib.md5(password.encode("utf-16-le")).digest()
    return hashlib.md5(inner + b"WebAPI").digest()


def proof(hashed: bytes, rand: bytes) -> str:
    return hashlib.md5(hashed + rand).hexdigest()


def start_params(params: Params) -> int:
    """auth/start: `type=manager` and a numeric `login`; `version` and `agent` are only recorded."""
    if params.text("type", max_len=16) != "manager":
        raise bad()
    params.text("version", required=False, max_len=32)
    params.text("agent", required=False, max_len=64)
    return params.login("login")


def check_answer(session: Session | None, params: Params, config: MT5Config) -> str:
    """auth/answer: the client's proof checked; the server's own proof (cli_rand_answer), or an MT5Error."""
    if session is None or session.srv_rand is None:
        raise MT5Error(NO_PERMISSIONS, status=403, text=NOT_AUTHENTICATED)
    srv_rand = session.srv_rand
    session.srv_rand = None  # one answer per start: a failed proof means a new handshake
    client_proof = params.text("srv_rand_answer", max_len=64)
    cli_rand = params.text("cli_rand", max_len=64)
    if not _HEX16.fullmatch(client_proof) or not _HEX16.fullmatch(cli_rand):
        raise bad()
    password = config.managers.get(session.manager)
    # An unknown manager is checked against a throwaway hash, so both failures cost the same.
    hashed = password_hash(password if password is not None else "\x00unknown")
    good = hmac.compare_digest(proof(hashed, srv_rand), client_proof.lower())
    if password is None or not good:
        raise MT5Error(INVALID_PASSWORD)
    return proof(hashed, bytes.fromhex(cli_rand))


def new_srv_rand(rng: random.Random) -> bytes:
    return rng.randbytes(16)
