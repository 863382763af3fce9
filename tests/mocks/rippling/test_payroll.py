"""Pay items: one-off lines on the next pay run, not idempotent, found again by the client's reference."""

from __future__ import annotations

import httpx

from tests.mocks.rippling.conftest import hire, mock_of
from tests.mocks.venue_thread import VenueThread


def test_a_payout_line_is_created_and_read_back(rest: httpx.Client, control: httpx.Client) -> None:
    worker = hire(rest)
    body = {"worker_id": worker["id"], "amount": "1250.5", "currency": "USD", "reference": "payout-1"}
    r = rest.post("/pay-items", json=body)
    assert r.status_code == 201, r.text
    item = r.json()
    assert item["amount"] == {"value": "1250.50", "currency": "USD"}
    assert (item["type"], item["status"], item["reference"]) == ("PAYOUT", "PENDING", "payout-1")
    assert rest.get(f"/pay-items/{item['id']}").json() == item
    assert [p["id"] for p in control.get("/ledger").json()["pay_items"]] == [item["id"]]


def test_the_same_payout_twice_is_two_items_found_by_reference(rest: httpx.Client) -> None:
    worker = hire(rest)
    body = {"worker_id": worker["id"], "amount": 99, "reference": "payout-2"}
    ids = {rest.post("/pay-items", json=body).json()["id"] for _ in range(2)}
    assert len(ids) == 2
    found = rest.get("/pay-items", params={"reference": "payout-2"}).json()["results"]
    assert {p["id"] for p in found} == ids
    by_worker = rest.get("/pay-items", params={"worker_id": worker["id"]}).json()["results"]
    assert len(by_worker) == 2
    assert rest.get("/pay-items", params={"reference": "other"}).json()["results"] == []


def test_bad_pay_items_name_the_field_and_pay_nothing(rest: httpx.Client, rippling: VenueThread) -> None:
    worker_id = hire(rest)["id"]
    cases = [
        ({"amount": "10"}, "worker_id"),
        ({"worker_id": "0" * 24, "amount": "10"}, "worker_id"),
        ({"worker_id": worker_id}, "amount"),
        ({"worker_id": worker_id, "amount": "-5"}, "amount"),
        ({"worker_id": worker_id, "amount": "1.001"}, "amount"),
        ({"worker_id": worker_id, "amount": "NaN"}, "amount"),
        ({"worker_id": worker_id, "amount": True}, "amount"),
        ({"worker_id": worker_id, "amount": "1e99"}, "amount"),
        ({"worker_id": worker_id, "amount": "10", "currency": "usd"}, "currency"),
        ({"worker_id": worker_id, "amount": "10", "type": "GIFT"}, "type"),
        ({"worker_id": worker_id, "amount": "10", "iban": "x"}, "iban"),
    ]
    for body, field in cases:
        r = rest.post("/pay-items", json=body)
        assert (r.status_code, r.json()["field"]) == (400, field), (body, r.text)
    assert mock_of(rippling).ledger.pay_items == {}
    assert rest.get("/pay-items/" + "f" * 24).status_code == 404


def test_a_terminated_worker_can_still_get_a_final_payout(rest: httpx.Client) -> None:
    worker_id = hire(rest)["id"]
    assert rest.patch(f"/workers/{worker_id}", json={"status": "TERMINATED"}).status_code == 200
    r = rest.post("/pay-items", json={"worker_id": worker_id, "amount": "10.00", "type": "bonus"})
    assert r.status_code == 201 and r.json()["type"] == "BONUS"
