"""[adapter.auth]: the back office's credential on admin calls, each trader's own key (minted once
per account by issue_key) on its calls, and every mistake in the table named."""

from __future__ import annotations

import threading
import tomllib
from collections.abc import Callable
from typing import Any

import pytest

from harness.adapters import HttpAdapter, KeyRing
from harness.target import TargetError, parse

from .conftest import TARGET, StandIn

Make = Callable[..., HttpAdapter]

AUTH = """
[adapter.operations.issue_key]
method = "POST"
path = "/api/v2/keys"
body = { account = "{account}", ttl = "{ttl_s}" }
fields = { key = "data.secret", key_id = "data.id" }
[adapter.operations.revoke_key]
method = "DELETE"
path = "/api/v2/keys/{key_id}"
[adapter.auth]
admin = { X-Admin = "adm {env.API_KEY}" }
trader = { X-Trader = "trd {api_key}" }
"""
WITH_AUTH = TARGET.replace('headers = { Authorization = "Bearer {env.API_KEY}" }\n', "") + AUTH
ORDER: dict[str, Any] = dict(
    account="A-1", symbol="ESZ6", side="BUY", qty=1, order_type="MARKET", client_order_id="c1"
)


def _script(stand_in: StandIn) -> None:
    stand_in.script[("POST", "/api/v2/keys")] = (201, {"data": {"secret": "key-of-A-1", "id": "k1"}}, 0)
    stand_in.script[("POST", "/api/v2/trading/orders")] = (201, {"data": {"state": "NEW"}}, 0)
    stand_in.script[("GET", "/api/v2/trading/orders/c1")] = (200, {"data": {"state": "NEW"}}, 0)
    stand_in.script[("GET", "/api/v2/customers/cus_1/accounts")] = (200, {"data": [{"id": "A-1"}]}, 0)


def test_a_trader_call_carries_its_accounts_own_key_minted_once(stand_in: StandIn, declared: Make) -> None:
    _script(stand_in)
    minted: list[str] = []
    adapter = declared(WITH_AUTH)
    adapter.on_secret = minted.append
    assert adapter.place_order(**ORDER).ok and adapter.place_order(**ORDER).ok
    mint, first, second = stand_in.seen
    # the key is minted by the back office, for the account, once
    assert mint["path"] == "/api/v2/keys" and mint["json"] == {"account": "A-1"}
    assert mint["headers"]["X-Admin"] == "adm k-123456-secret" and "X-Trader" not in mint["headers"]
    for call in (first, second):
        assert call["headers"]["X-Trader"] == "trd key-of-A-1" and "X-Admin" not in call["headers"]
    assert minted == ["key-of-A-1"], "the reports learn the key as a secret"


def test_admin_calls_and_reads_for_no_account_carry_the_back_offices_credential(
    stand_in: StandIn, declared: Make
) -> None:
    _script(stand_in)
    adapter = declared(WITH_AUTH)
    assert adapter.accounts_for_customer("cus_1").accounts == ("A-1",)
    assert adapter.order_status("c1").ok  # a checker's lookup: no account, no trader key
    for call in stand_in.seen:
        assert call["headers"]["X-Admin"] == "adm k-123456-secret" and "X-Trader" not in call["headers"]
    assert all(call["path"] != "/api/v2/keys" for call in stand_in.seen), "no key minted for nobody"


def test_a_key_the_middleware_will_not_mint_fails_the_call_and_names_why(
    stand_in: StandIn, declared: Make
) -> None:
    _script(stand_in)
    stand_in.script[("POST", "/api/v2/keys")] = (500, {"error": "boom"}, 0)
    outcome = declared(WITH_AUTH).place_order(**ORDER)
    assert outcome.type == "fail" and "no trader key for account A-1" in outcome.error
    assert [c["path"] for c in stand_in.seen] == ["/api/v2/keys"], "the order was never sent"


def test_a_minted_key_never_reaches_a_history(stand_in: StandIn, declared: Make) -> None:
    from harness.adapters import view_json

    _script(stand_in)
    outcome = declared(WITH_AUTH).issue_key("A-1", ttl_s=5)
    assert outcome.key is not None and outcome.key.key == "key-of-A-1" and outcome.key.key_id == "k1"
    assert stand_in.seen[0]["json"] == {"account": "A-1", "ttl": 5}
    assert view_json(outcome.view)["key"] == "<secret>"


def test_roles_can_be_declared_per_operation(stand_in: StandIn, declared: Make) -> None:
    _script(stand_in)
    text = WITH_AUTH + 'roles = { order_status = "admin" }\n'
    assert declared(text).order_status("c1", "A-1").ok
    (call,) = stand_in.seen
    assert "X-Admin" in call["headers"] and "X-Trader" not in call["headers"]


def test_the_stream_handshake_carries_the_traders_key(stand_in: StandIn, declared: Make) -> None:
    _script(stand_in)
    adapter = declared(WITH_AUTH)
    assert adapter.stream_headers("A-1") == {"X-Trader": "trd key-of-A-1"}
    assert adapter.stream_headers(None) == {"X-Admin": "adm k-123456-secret"}


def test_one_mint_per_account_however_many_threads_ask() -> None:
    calls: list[str] = []
    gate = threading.Event()

    def mint(account: str) -> tuple[str | None, str]:
        calls.append(account)
        gate.wait(2)
        return f"k-{account}", ""

    ring = KeyRing(mint)
    found: list[tuple[str | None, str]] = []
    threads = [threading.Thread(target=lambda: found.append(ring.key("A"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join(5)
    assert calls == ["A"] and found == [("k-A", "")] * 8


def test_a_failed_mint_is_tried_again() -> None:
    answers = iter([(None, "HTTP 503"), ("k", "")])
    ring = KeyRing(lambda account: next(answers))
    assert ring.key("A") == (None, "HTTP 503") and ring.key("A") == ("k", "")


@pytest.mark.parametrize(
    ("edit", "field", "message"),
    [
        (lambda t: t.replace("trd {api_key}", "trd"), r"adapter\.auth\.trader", r"name \{api_key\}"),
        (
            lambda t: t.replace("[adapter.operations.issue_key]", "[adapter.operations.unused]"),
            r"adapter\.operations\.unused",
            "unknown operation",
        ),
        (
            lambda t: (
                t.split("[adapter.operations.issue_key]")[0]
                + "[adapter.auth]\ntrader = { X = '{api_key}' }\n"
            ),
            r"adapter\.auth\.trader",
            "issue_key operation",
        ),
        (lambda t: t + 'roles = { quote = "root" }\n', r"adapter\.auth\.roles\.quote", "must be one of"),
        (lambda t: t + 'roles = { fetch = "admin" }\n', r"adapter\.auth\.roles\.fetch", "unknown operation"),
        (
            lambda t: t.replace("adm {env.API_KEY}", "adm {env.ADMIN}"),
            r"adapter\.auth\.admin\.X-Admin",
            "ADMIN",
        ),
        (
            lambda t: t.replace('admin = { X-Admin = "adm {env.API_KEY}" }\n', ""),
            r"adapter\.auth\.admin",
            "admin headers are required",
        ),
    ],
)
def test_each_bad_auth_key_is_named(edit: Callable[[str], str], field: str, message: str) -> None:
    with pytest.raises(TargetError, match=rf"agency\.toml: {field}: .*{message}"):
        parse(tomllib.loads(edit(WITH_AUTH)), "agency.toml")
