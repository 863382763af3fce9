"""Users (add, 3004, 13, update) and balance deals (balance and credit, 10019, two calls = two deals)."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from tests.mocks.mt5.conftest import Manager, ledger, retcode

NEW_USER = {
    "Name": "Ann Trader",
    "Group": "real\\pro",
    "Leverage": 50,
    "PassMain": "Main#123",
    "PassInvestor": "Inv#123",
}


def test_seeded_users_hold_their_seed_deposits(
    manager: Manager, control: httpx.Client, seeded: list[int]
) -> None:
    assert seeded == [500000, 500001, 500002]
    book = ledger(control)
    for login in seeded:
        user = manager.get("/api/user/get", login=login).json()["answer"]
        deposits = [Decimal(d["amount"]) for d in book["deals"] if d["login"] == login]
        assert len(deposits) == 1 and Decimal(user["Balance"]) == deposits[0] > 0


def test_add_with_a_login_then_get(manager: Manager, control: httpx.Client) -> None:
    r = manager.post("/api/user/add", {**NEW_USER, "Login": 700001, "Email": "ann@example.com"})
    assert r.status_code == 200 and retcode(r) == "0 Done"
    added = r.json()["answer"]
    got = manager.get("/api/user/get", login=700001).json()["answer"]
    assert got == added
    assert got["Login"] == "700001" and got["Name"] == "Ann Trader" and got["Group"] == "real\\pro"
    assert got["Leverage"] == "50" and got["Balance"] == "0.00" and got["Credit"] == "0.00"
    assert got["Email"] == "ann@example.com" and int(got["Registration"]) > 1_700_000_000
    assert all(isinstance(v, str) for v in got.values())  # MT5's Web API sends every value as a string
    assert "PassMain" not in got and "PassInvestor" not in got
    assert next(u for u in ledger(control)["users"] if u["login"] == 700001)["balance"] == "0.00"


def test_add_assigns_the_next_free_login_from_the_range(manager: Manager, control: httpx.Client) -> None:
    manager.post("/api/user/add", {**NEW_USER, "Login": 500004})  # taken out of order
    logins = [int(manager.post("/api/user/add", NEW_USER).json()["answer"]["Login"]) for _ in range(3)]
    assert logins == [500003, 500005, 500006]


def test_add_through_query_parameters(manager: Manager) -> None:
    r = manager.get(
        "/api/user/add", login=700002, name="Query User", group="demo\\uat", leverage=100, pass_main="Main#1"
    )
    assert retcode(r) == "0 Done" and r.json()["answer"]["Name"] == "Query User"


def test_add_with_json_labelled_as_a_form(manager: Manager) -> None:
    """mt5-sdk posts its JSON with Content-Type application/x-www-form-urlencoded."""
    r = manager.http.post(
        "/api/user/add",
        content=json.dumps({**NEW_USER, "Login": "700003"}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert retcode(r) == "0 Done" and r.json()["answer"]["Login"] == "700003"


def test_duplicate_login_is_3004(manager: Manager, control: httpx.Client) -> None:
    assert retcode(manager.post("/api/user/add", {**NEW_USER, "Login": 700004})) == "0 Done"
    again = manager.post("/api/user/add", {**NEW_USER, "Login": 700004, "Name": "Someone Else"})
    assert again.status_code == 200 and again.json() == {"retcode": "3004 Login already exists"}
    assert manager.get("/api/user/get", login=700004).json()["answer"]["Name"] == "Ann Trader"
    assert len([u for u in ledger(control)["users"] if u["login"] == 700004]) == 1


def test_logins_exhausted_is_3002(manager: Manager, control: httpx.Client) -> None:
    assert control.post("/mt5/config", json={"login_last": 500004}).status_code == 200
    assert retcode(manager.post("/api/user/add", NEW_USER)) == "0 Done"
    assert retcode(manager.post("/api/user/add", NEW_USER)) == "0 Done"
    assert manager.post("/api/user/add", NEW_USER).json() == {"retcode": "3002 Logins exhausted"}
    assert (
        retcode(manager.post("/api/user/add", {**NEW_USER, "Login": 800000})) == "0 Done"
    )  # explicit is fine


@pytest.mark.parametrize(
    "change",
    [
        {"Name": ""},
        {"Leverage": 0},
        {"Leverage": "100x"},
        {"Leverage": 100.5},
        {"Group": None},
        {"Name": ["a"]},
        {"Login": "12ab"},
        {"Login": True},
        {"PassMain": None},
    ],
)
def test_bad_user_fields_are_3(manager: Manager, control: httpx.Client, change: dict[str, object]) -> None:
    users_before = len(ledger(control)["users"])
    r = manager.post("/api/user/add", {k: v for k, v in {**NEW_USER, **change}.items() if v is not None})
    assert r.json() == {"retcode": "3 Invalid parameters"}
    assert len(ledger(control)["users"]) == users_before


def test_get_unknown_is_13(manager: Manager) -> None:
    r = manager.get("/api/user/get", login=999999)
    assert r.status_code == 200 and r.json() == {"retcode": "13 Not found"}
    assert manager.get("/api/user/get", login="x").json() == {"retcode": "3 Invalid parameters"}


def test_update_is_partial_and_leaves_money_alone(manager: Manager, seeded: list[int]) -> None:
    before = manager.get("/api/user/get", login=seeded[0]).json()["answer"]
    r = manager.post(
        "/api/user/update", {"Login": seeded[0], "Leverage": 200, "Balance": "1000000", "Phone": "+1"}
    )
    after = r.json()["answer"]
    assert retcode(r) == "0 Done" and after == manager.get("/api/user/get", login=seeded[0]).json()["answer"]
    assert after["Leverage"] == "200" and after["Phone"] == "+1"
    assert {k: after[k] for k in ("Name", "Group", "Balance", "Credit")} == {
        k: before[k] for k in ("Name", "Group", "Balance", "Credit")
    }
    assert manager.post("/api/user/update", {"Login": 999999, "Name": "x"}).json() == {
        "retcode": "13 Not found"
    }
    assert manager.post("/api/user/update", {"Name": "x"}).json() == {"retcode": "3 Invalid parameters"}


# -- balance ------------------------------------------------------------------------------------


def _user(manager: Manager, login: int) -> dict[str, str]:
    answer: dict[str, str] = manager.get("/api/user/get", login=login).json()["answer"]
    return answer


def _deals(control: httpx.Client, login: int) -> list[dict[str, object]]:
    return [d for d in ledger(control)["deals"] if d["login"] == login]


def test_deposit_withdraw_and_credit_agree_with_the_ledger(
    manager: Manager, control: httpx.Client, seeded: list[int]
) -> None:
    login = seeded[1]
    start = Decimal(_user(manager, login)["Balance"])
    answers = [
        manager.balance(login, 2, "1000.10", "dep-1"),
        manager.balance(login, 2, "-250.05", "wd-1"),
        manager.balance(login, 3, "500", "credit-1"),
        manager.balance(login, 3, "-125.5", "credit-out-1"),
    ]
    assert [retcode(r) for r in answers] == ["0 Done"] * 4
    tickets = [int(r.json()["answer"]["ticket"]) for r in answers]
    assert tickets == sorted(tickets) and len(set(tickets)) == 4
    user = _user(manager, login)
    assert Decimal(user["Balance"]) == start + Decimal("750.05")
    assert Decimal(user["Credit"]) == Decimal("374.50")
    deals = _deals(control, login)
    assert [d["deal"] for d in deals[1:]] == tickets
    assert [(d["action"], d["amount"], d["comment"], d["dealer"]) for d in deals[1:]] == [
        (2, "1000.10", "dep-1", 1000),
        (2, "-250.05", "wd-1", 1000),
        (3, "500.00", "credit-1", 1000),
        (3, "-125.50", "credit-out-1", 1000),
    ]
    book_user = next(u for u in ledger(control)["users"] if u["login"] == login)
    assert Decimal(book_user["balance"]) == sum(Decimal(str(d["amount"])) for d in deals if d["action"] == 2)
    assert Decimal(book_user["credit"]) == sum(Decimal(str(d["amount"])) for d in deals if d["action"] == 3)


def test_withdrawal_beyond_the_balance_is_10019_and_books_nothing(
    manager: Manager, control: httpx.Client, seeded: list[int]
) -> None:
    login = seeded[0]
    balance = Decimal(_user(manager, login)["Balance"])
    r = manager.balance(login, 2, str(-(balance + Decimal("0.01"))), "too-much")
    assert r.status_code == 200 and r.json() == {"retcode": "10019 No money"}
    assert manager.balance(login, 3, "-1", "no-credit").json() == {"retcode": "10019 No money"}
    assert len(_deals(control, login)) == 1 and Decimal(_user(manager, login)["Balance"]) == balance
    assert retcode(manager.balance(login, 2, str(-balance), "all-of-it")) == "0 Done"  # exactly all is fine
    assert _user(manager, login)["Balance"] == "0.00"


def test_the_same_call_twice_books_two_deals(
    manager: Manager, control: httpx.Client, seeded: list[int]
) -> None:
    login = seeded[2]
    first = manager.balance(login, 2, "100", "same-comment")
    second = manager.balance(login, 2, "100", "same-comment")
    assert first.json()["answer"]["ticket"] != second.json()["answer"]["ticket"]
    same = [d for d in _deals(control, login) if d["comment"] == "same-comment"]
    assert len(same) == 2


def test_a_head_request_is_refused_and_books_nothing(
    manager: Manager, control: httpx.Client, seeded: list[int]
) -> None:
    """aiohttp would run the GET handler for a HEAD: a trade/balance then booked a deal whose ticket
    the client never saw (the fuzz suite found it)."""
    login = seeded[1]
    before = len(_deals(control, login))
    params: dict[str, str | int] = {"login": login, "type": 2, "balance": "5", "comment": "head"}
    r = manager.http.head("/api/trade/balance", params=params)
    assert r.status_code == 405 and not r.content
    assert len(_deals(control, login)) == before
    assert retcode(manager.get("/api/test/access")) == "0 Done"  # the session is still good


@pytest.mark.parametrize(
    "params",
    [
        {"type": 4, "balance": "10"},
        {"type": 2, "balance": "abc"},
        {"type": 2, "balance": "0"},
        {"type": 2, "balance": "0.004"},
        {"type": 2, "balance": "NaN"},
        {"type": 2, "balance": "1e13"},
        {"type": 2, "balance": "1e999999999"},  # once a 500: abs() overflowed the decimal context
        {"type": 3, "balance": "-1E+1000000"},
        {"type": 2},
        {"balance": "10"},
        {"type": "two", "balance": "10"},
        {"type": 2, "balance": "10", "check_margin": 5},
        {"type": 2, "balance": "10", "comment": "x" * 129},
        {"type": 2, "balance": "10", "login": "-5"},
    ],
)
def test_bad_balance_parameters_are_3(
    manager: Manager, control: httpx.Client, seeded: list[int], params: dict[str, object]
) -> None:
    r = manager.get("/api/trade/balance", **{"login": seeded[0], **params})
    assert r.json() == {"retcode": "3 Invalid parameters"}
    assert len(ledger(control)["deals"]) == 3


def test_balance_for_an_unknown_login_is_13(manager: Manager) -> None:
    assert manager.balance(999999, 2, "10", "x").json() == {"retcode": "13 Not found"}


def test_amounts_round_to_the_cent(manager: Manager, control: httpx.Client, seeded: list[int]) -> None:
    assert retcode(manager.balance(seeded[0], 2, "10.005", "round")) == "0 Done"
    assert _deals(control, seeded[0])[-1]["amount"] == "10.01"


def test_rights_disable_a_user_and_are_kept(manager: Manager, control: httpx.Client) -> None:
    added = manager.post("/api/user/add", {**NEW_USER, "Login": 700010}).json()["answer"]
    assert added["Rights"] == "1"  # USER_RIGHT_ENABLED by default
    r = manager.post("/api/user/update", {"Login": 700010, "Rights": 0})
    assert retcode(r) == "0 Done" and r.json()["answer"]["Rights"] == "0"
    row = next(u for u in ledger(control)["users"] if u["login"] == 700010)
    assert row["rights"] == 0 and row["enabled"] is False
    assert manager.post("/api/user/update", {"Login": 700010, "Rights": -1}).json() == {
        "retcode": "3 Invalid parameters"
    }
    assert (
        manager.post("/api/user/add", {**NEW_USER, "Login": 700011, "Rights": 0}).json()["answer"]["Rights"]
        == "0"
    )
