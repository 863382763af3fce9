"""Deal and position reads, and the answers for unknown paths and methods."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.mocks.mt5.conftest import Manager, ledger, retcode


def test_deal_batch_lists_a_logins_deals_by_time(
    manager: Manager, control: httpx.Client, seeded: list[int]
) -> None:
    tickets = [manager.balance(seeded[0], 2, str(n), f"c{n}").json()["answer"]["ticket"] for n in (1, 2)]
    manager.balance(seeded[1], 3, "7", "other-user")
    r = manager.get("/api/deal/get_batch", login=seeded[0], **{"from": 0, "to": int(time.time()) + 60})
    assert retcode(r) == "0 Done"
    deals = r.json()["answer"]
    assert [d["Comment"] for d in deals] == ["seed deposit", "c1", "c2"]
    assert [d["Deal"] for d in deals[1:]] == tickets
    first = deals[1]
    assert first["Login"] == str(seeded[0]) and first["Action"] == "2" and first["Profit"] == "1.00"
    assert all(isinstance(v, str) for d in deals for v in d.values())
    book = {d["deal"]: d for d in ledger(control)["deals"]}
    assert all(book[int(d["Deal"])]["amount"] == d["Profit"] for d in deals)
    # several logins at once, and an empty window
    both = manager.get("/api/deal/get_batch", login=f"{seeded[0]},{seeded[1]}").json()["answer"]
    assert len(both) == 5
    assert manager.get("/api/deal/get_batch", login=seeded[0], **{"from": 0, "to": 1}).json()["answer"] == []
    future = int(time.time()) + 3600
    assert manager.get("/api/deal/get_batch", login=seeded[0], **{"from": future}).json()["answer"] == []


@pytest.mark.parametrize(
    "params", [{}, {"login": "a,b"}, {"login": "1", "from": "x"}, {"login": "1", "from": 10, "to": 5}]
)
def test_deal_batch_bad_parameters(manager: Manager, params: dict[str, object]) -> None:
    assert manager.get("/api/deal/get_batch", **params).json() == {"retcode": "3 Invalid parameters"}


def test_deal_get_by_ticket(manager: Manager, seeded: list[int]) -> None:
    ticket = manager.balance(seeded[0], 2, "5", "one").json()["answer"]["ticket"]
    deal = manager.get("/api/deal/get", ticket=ticket).json()["answer"]
    assert deal["Deal"] == ticket and deal["Comment"] == "one"
    assert manager.get("/api/deal/get", ticket=1).json() == {"retcode": "13 Not found"}


def test_position_batch_is_empty_while_the_mock_does_not_trade(manager: Manager, seeded: list[int]) -> None:
    assert manager.get("/api/position/get_batch", login=seeded[0]).json() == {
        "retcode": "0 Done",
        "answer": [],
    }
    assert manager.get("/api/position/get_batch").json() == {"retcode": "3 Invalid parameters"}


def test_unknown_path_and_method(manager: Manager) -> None:
    r = manager.get("/api/user/nope")
    assert r.status_code == 404 and r.json() == {"retcode": "13 Not found"}
    r = manager.http.delete("/api/user/get")
    assert r.status_code == 405 and r.json() == {"retcode": "3 Invalid parameters"}
    assert manager.get("/api/test/access").status_code == 200  # the session survives both


def test_reads_work_through_post_too(manager: Manager, seeded: list[int]) -> None:
    r = manager.http.post("/api/user/get", params={"login": seeded[0]})
    assert retcode(r) == "0 Done" and r.json()["answer"]["Login"] == str(seeded[0])
