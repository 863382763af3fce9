"""Access control against the real process: credentials, roles, object-level scoping, the admin
allowlist, rate limits, body limits, and the stream's handshake.

One build serves the whole file (restarted once, at its start): trader A holds a key for the house
account, trader B one for another account. Builds that need other settings, and the mutants, are
in test_auth_mutants.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from .authtools import (
    ADMIN_ADDRESS,
    MISSING_CREDENTIALS,
    OTHER,
    OUTSIDE,
    add_account,
    client,
    credentials,
    leaked,
    raw_log,
    resting_order,
)
from .conftest import Env, bearer


@dataclass(frozen=True)
class World:
    env: Env
    a: httpx.Client  # trader A: the house account
    b: httpx.Client  # trader B: OTHER
    a_key: str
    b_key: str


@pytest.fixture(scope="module")
def world(env: Env) -> Iterator[World]:
    env.restart()
    assert env.admin_key, "the target file gives the reference an admin key: authentication is on"
    add_account(env)
    a_key, b_key = env.issue_key()["key"], env.issue_key(OTHER)["key"]
    with client(env, a_key) as a, client(env, b_key) as b:
        yield World(env, a, b, a_key, b_key)


def _refused_401(answer: httpx.Response) -> None:
    assert answer.status_code == 401, answer.text
    assert answer.json() == MISSING_CREDENTIALS
    assert answer.headers["WWW-Authenticate"] == "Bearer"


# ---------------------------------------------------------------------- credentials
def test_health_says_auth_is_on_and_public_routes_need_no_credential(world: World) -> None:
    with client(world.env) as anonymous:
        assert anonymous.get("/health").json()["auth"] == "on"
        assert anonymous.get("/metrics").status_code == 200
        spec = anonymous.get("/openapi.json").json()
        # the webhook is public (its Stripe signature is its credential): an unsigned one is 400, not 401
        assert anonymous.post("/v1/webhooks/stripe", content=b"{}").status_code == 400
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    assert spec["security"] == [{"bearerAuth": []}]
    assert spec["paths"]["/health"]["get"]["security"] == []
    order = spec["paths"]["/v1/orders"]["post"]["responses"]
    assert {"401", "403", "409", "413", "429"} <= set(order)
    assert "Retry-After" in order["429"]["headers"]


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer not-a-key", "Bearer", "Basic dXNlcjpwYXNz", "bearer two tokens", "Token abc"],
)
def test_a_missing_malformed_or_unknown_credential_is_401(world: World, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    with client(world.env) as anonymous:
        for answer in (
            anonymous.get("/v1/orders/anything", headers=headers),
            anonymous.get(f"/v1/accounts/{world.env.account}", headers=headers),
            anonymous.post("/v1/orders", json={"account": world.env.account}, headers=headers),
            anonymous.get("/v1/no-such-route", headers=headers),
        ):
            _refused_401(answer)


def test_the_admin_key_with_a_suffix_or_prefix_is_not_the_admin_key(world: World) -> None:
    key = world.env.admin_key
    for wrong in (key + "x", key[:-1], "x" + key, key.upper() if key != key.upper() else key.lower()):
        with client(world.env, wrong) as caller:
            _refused_401(caller.get(f"/v1/accounts/{world.env.account}"))


def test_a_revoked_key_is_refused_at_once(world: World) -> None:
    env = world.env
    issued = env.issue_key()
    with client(env, issued["key"]) as trader:
        assert trader.get(f"/v1/accounts/{env.account}").status_code == 200  # now in the lookup cache
        assert env.http.delete(f"{env.base}/v1/admin/api-keys/{issued['key_id']}").status_code == 204
        _refused_401(trader.get(f"/v1/accounts/{env.account}"))
    assert env.http.delete(f"{env.base}/v1/admin/api-keys/{issued['key_id']}").status_code == 204
    missing = env.http.delete(f"{env.base}/v1/admin/api-keys/key_nope")
    assert missing.status_code == 404, missing.text


def test_an_expired_key_is_refused(world: World) -> None:
    env = world.env
    issued = env.issue_key(ttl_s=1)
    assert issued["expires_at"] is not None
    with client(env, issued["key"]) as trader:
        assert trader.get(f"/v1/accounts/{env.account}").status_code == 200
        time.sleep(1.3)
        _refused_401(trader.get(f"/v1/accounts/{env.account}"))


def test_issuing_a_key_validates_its_body_and_keeps_only_a_hash(world: World) -> None:
    env = world.env
    issued = env.issue_key()
    assert set(issued) == {"key_id", "key", "account", "expires_at"}
    assert issued["account"] == env.account and issued["expires_at"] is None and len(issued["key"]) >= 40
    stored = env.topo.postgres.psql(f"SELECT key_hash FROM api_keys WHERE id = '{issued['key_id']}'").strip()
    assert stored and issued["key"] not in stored and len(stored) == 64
    url = f"{env.base}/v1/admin/api-keys"
    assert env.http.post(url, json={"account": "ACC-NOBODY"}).status_code == 404
    for body, field in (
        ({}, "account"),
        ({"account": ""}, "account"),
        ({"account": env.account, "ttl_s": 0}, "ttl_s"),
        ({"account": env.account, "ttl_s": -5}, "ttl_s"),
        ({"account": env.account, "ttl_s": "soon"}, "ttl_s"),
        ({"account": env.account, "role": "admin"}, "role"),
        ([env.account], "body"),
    ):
        answer = env.http.post(url, json=body)
        assert answer.status_code == 400 and answer.json()["field"] == field, (body, answer.text)


# ---------------------------------------------------------------------- roles
def test_admin_only_routes_refuse_a_trader_key(world: World) -> None:
    env = world.env
    admin_only = {"error": "admin only"}
    for answer in (
        world.a.get("/v1/accounts"),
        world.a.get("/v1/accounts", params={"customer": "cus_x"}),
        world.a.patch(f"/v1/accounts/{env.account}", json={"max_order_qty": 1000}),
        world.a.post("/v1/admin/api-keys", json={"account": env.account}),
        world.a.delete("/v1/admin/api-keys/key_whatever"),
    ):
        assert answer.status_code == 403 and answer.json() == admin_only, answer.text
    assert env.http.get(f"{env.base}/v1/accounts").status_code == 200
    limits = env.http.get(f"{env.base}/v1/accounts/{env.account}").json()["risk_limits"]
    assert limits["max_order_qty"] != 1000, "a trader changed its own limits"


# ---------------------------------------------------------------------- object-level scoping
def test_a_trader_sees_and_cancels_only_its_own_accounts_orders(world: World) -> None:
    env = world.env
    resting_order(env, "scope-a-1")
    missing = world.b.get("/v1/orders/no-such-order")
    assert missing.status_code == 404
    theirs = world.b.get("/v1/orders/scope-a-1")
    assert (theirs.status_code, theirs.json()) == (404, missing.json()), theirs.text
    cancel_missing = world.b.delete("/v1/orders/no-such-order-either")
    cancel = world.b.delete("/v1/orders/scope-a-1")
    assert cancel.status_code == 404, cancel.text
    assert cancel.json() == {**cancel_missing.json(), "error": "no order 'scope-a-1'"}
    time.sleep(0.3)
    assert env.get_order("scope-a-1")["status"] == "working", "B's cancel reached A's order"
    assert [o["status"] for o in env.venue_orders("scope-a-1")] != ["cancelled"]
    mine = world.a.get("/v1/orders/scope-a-1")
    assert mine.status_code == 200 and mine.json()["account"] == env.account
    assert world.a.delete("/v1/orders/scope-a-1").status_code == 202


def test_a_trader_reads_only_its_own_account_positions_and_pnl(world: World) -> None:
    env = world.env
    a = env_account = env.account
    for path, missing_body in (
        (f"/v1/accounts/{a}", {"error": "no such account"}),
        (f"/v1/accounts/{a}/pnl", {"error": f"no account {a!r}", "field": "account_id"}),
    ):
        answer = world.b.get(path)
        assert (answer.status_code, answer.json()) == (404, missing_body), (path, answer.text)
        assert world.a.get(path).status_code == 200
    positions = world.b.get("/v1/positions", params={"account": env_account})
    assert positions.status_code == 404
    assert positions.json() == {"error": f"no account {env_account!r}", "field": "account"}
    # the same answer as for an account that does not exist at all
    nobody = world.b.get("/v1/positions", params={"account": "ACC-NOBODY"}).json()
    assert nobody == {"error": "no account 'ACC-NOBODY'", "field": "account"}
    assert world.b.get("/v1/positions", params={"account": OTHER}).status_code == 200
    assert world.b.get(f"/v1/accounts/{OTHER}/pnl").status_code == 200
    assert env.http.get(f"{env.base}/v1/accounts/{OTHER}").status_code == 200  # admin: any account


def test_a_trader_places_orders_only_on_its_own_account(world: World) -> None:
    env = world.env
    body = {"symbol": "ESZ6", "side": "BUY", "qty": 1, "type": "LIMIT", "limit_price": "5000.0"}
    theirs = world.b.post("/v1/orders", json={**body, "account": env.account, "client_order_id": "b-on-a"})
    assert theirs.status_code == 403, theirs.text
    assert env.venue_orders("b-on-a") == [] and env.get_order("b-on-a") == {"error": "no such order"}
    mine = world.b.post("/v1/orders", json={**body, "account": OTHER, "client_order_id": "b-on-b"})
    assert mine.status_code == 202 and mine.json()["account"] == OTHER, mine.text


def test_another_accounts_client_order_id_is_not_returned_through_idempotency(world: World) -> None:
    env = world.env
    resting_order(env, "taken-1")
    body = {"symbol": "ESZ6", "side": "BUY", "qty": 1, "type": "LIMIT", "limit_price": "5000.0"}
    reuse = world.b.post("/v1/orders", json={**body, "account": OTHER, "client_order_id": "taken-1"})
    assert reuse.status_code == 409 and reuse.json() == {"error": "client_order_id is taken"}, reuse.text
    assert len(env.venue_orders("taken-1")) == 1, "the re-use reached the venue"
    again = world.a.post("/v1/orders", json={**body, "account": env.account, "client_order_id": "taken-1"})
    assert again.status_code == 202 and again.json()["client_order_id"] == "taken-1"  # A's own repeat


# ---------------------------------------------------------------------- admin allowlist
def test_the_admin_key_is_refused_from_outside_the_allowlist_whatever_the_headers_say(world: World) -> None:
    env = world.env
    with client(env, env.admin_key, source=OUTSIDE) as outside:
        for headers in ({}, {"X-Forwarded-For": "127.0.0.1"}, {"Forwarded": "for=127.0.0.1"}):
            answer = outside.get(f"/v1/accounts/{env.account}", headers=headers)
            assert (answer.status_code, answer.json()) == (403, ADMIN_ADDRESS), (headers, answer.text)
        # authentication comes first: no credential from outside is still 401
        _refused_401(outside.get(f"/v1/accounts/{env.account}", headers={"Authorization": ""}))
    with client(env, world.a_key, source=OUTSIDE) as trader:  # trader keys work from anywhere
        assert trader.get(f"/v1/accounts/{env.account}").status_code == 200


# ---------------------------------------------------------------------- body size
def test_a_body_past_the_limit_is_413_declared_or_chunked(world: World) -> None:
    big = b'{"pad": "' + b"x" * 70_000 + b'"}'
    with client(world.env) as anonymous:
        for caller in (world.a, anonymous):  # the size is judged before the credential
            declared = caller.post("/v1/orders", content=big, headers={"Content-Type": "application/json"})
            assert declared.status_code == 413 and declared.json() == {"error": "request body too large"}
    chunked = world.a.post("/v1/orders", content=iter([big[:40_000], big[40_000:]]))
    assert chunked.status_code == 413, chunked.text
    small = world.a.post("/v1/orders", content=iter([b"{", b"}"]))  # chunked, and under the limit
    assert small.status_code == 400, small.text


def test_a_malformed_json_body_is_400_without_a_traceback(world: World) -> None:
    answer = world.a.post("/v1/orders", content=b'{"account": ', headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and "Traceback" not in answer.text and "detail" not in answer.json()


# ---------------------------------------------------------------------- stream
def _stream_close_code(env: Env, query: str, headers: dict[str, str]) -> int | None:
    """The close code the stream gave within a few seconds, or None if it stayed open sending."""
    url = env.base.replace("http://", "ws://") + "/v1/stream" + query
    with connect(url, open_timeout=5, additional_headers=headers) as ws:
        try:
            json.loads(ws.recv(timeout=5))
        except ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd is not None else -1
        return None


def test_the_stream_needs_a_credential_and_a_trader_its_own_account(world: World) -> None:
    env = world.env
    assert _stream_close_code(env, "", {}) == 1008
    assert _stream_close_code(env, "", bearer("nope")) == 1008
    assert _stream_close_code(env, "", bearer(world.a_key)) == 1008  # a trader must name its account
    assert _stream_close_code(env, f"?account={OTHER}", bearer(world.a_key)) == 1008
    assert _stream_close_code(env, f"?account={env.account}", bearer(world.a_key)) is None
    assert _stream_close_code(env, "", env.auth_headers()) is None  # admin: every account


# ---------------------------------------------------------------------- the log
def test_no_credential_reaches_the_log(world: World) -> None:
    env = world.env
    world.a.get("/v1/orders/x", headers={"X-Api-Key": world.a_key})
    world.b.get(f"/v1/accounts/{OTHER}")
    secrets = {**credentials(env), "trader A": world.a_key, "trader B": world.b_key}
    assert {"REFMW_ADMIN_KEY", "REFMW_RITHMIC_PASSWORD", "REFMW_TT_APP_SECRET"} <= set(secrets)
    log = raw_log(env)
    assert log, "no log to judge"
    assert leaked(log, secrets) == []
