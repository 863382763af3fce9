"""Parameter parsing: one name in query and body, strict integers and logins, money to the cent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mocks.mt5.fields import Params
from mocks.mt5.retcodes import MT5Error


def test_query_and_body_names_are_one_field() -> None:
    params = Params({"pass_main": "q", "login": "5"}, {"passmain": "b"})
    assert params.text("PassMain") == "b" and params.login("Login") == 5


@pytest.mark.parametrize("raw", ["", "+5", " 5", "5_000", "٣", "0", "-1", "99999999999999999999", "1.0"])
def test_logins_are_plain_positive_digits(raw: str) -> None:
    with pytest.raises(MT5Error) as info:
        Params({"login": raw}).login()
    assert info.value.code == 3


def test_login_lists() -> None:
    assert Params({"login": "1, 2,3"}).logins() == {1, 2, 3}
    for raw in ("", "1,,2", "1,a", ",".join(["1"] * 1001)):
        with pytest.raises(MT5Error):
            Params({"login": raw}).logins()


@pytest.mark.parametrize(
    ("raw", "cents"), [("100", "100.00"), ("-0.015", "-0.02"), ("1e3", "1000.00"), (" 2.5 ", "2.50")]
)
def test_amounts(raw: str, cents: str) -> None:
    assert Params({"balance": raw}).amount("balance") == Decimal(cents)


@pytest.mark.parametrize(
    "raw",
    # 1e999999999 and the like once overflowed the decimal context in abs(): a 500 (found by the fuzz suite)
    ["0", "0.004", "abc", "inf", "-nan", "1e12", "1" * 41, "", "1e999999999", "-1E+1000000", "1e1000000"],
)
def test_bad_amounts(raw: str) -> None:
    with pytest.raises(MT5Error):
        Params({"balance": raw}).amount("balance")


def test_text_refuses_control_characters_and_length() -> None:
    with pytest.raises(MT5Error):
        Params({"name": "a\x00b"}).text("name")
    with pytest.raises(MT5Error):
        Params({"name": "a" * 129}).text("name")
    assert Params({}).text("comment", required=False) == ""
