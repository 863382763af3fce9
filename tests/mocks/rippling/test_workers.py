"""Workers: hire, read, look up, page, terminate; nothing dedupes, and a reset gives the same ids."""

from __future__ import annotations

import httpx

from tests.mocks.rippling.conftest import hire, mock_of
from tests.mocks.venue_thread import VenueThread


def test_hire_then_get_and_the_ledger_holds_it(rest: httpx.Client, control: httpx.Client) -> None:
    made = hire(rest, external_id="trader-7", title="Funded Trader", start_date="2026-01-05")
    assert made["status"] == "ACTIVE" and made["worker_type"] == "EMPLOYEE"
    assert len(made["id"]) == 24 and int(made["id"], 16) >= 0
    got = rest.get(f"/workers/{made['id']}").json()
    assert got == made
    ledger = control.get("/ledger").json()
    assert [w["external_id"] for w in ledger["workers"] if w["id"] == made["id"]] == ["trader-7"]


def test_hiring_the_same_person_twice_makes_two_workers(rest: httpx.Client) -> None:
    first = hire(rest, email="Dup@Firm.test", external_id="t-1")
    second = hire(rest, email="dup@firm.test", external_id="t-1")
    assert first["id"] != second["id"]
    by_email = rest.get("/workers", params={"work_email": "DUP@firm.test"}).json()["results"]
    assert sorted(w["id"] for w in by_email) == sorted([first["id"], second["id"]])
    by_external = rest.get("/workers", params={"external_id": "t-1"}).json()["results"]
    assert len(by_external) == 2


def test_a_careful_client_looks_up_before_hiring(rest: httpx.Client) -> None:
    assert rest.get("/workers", params={"external_id": "t-9"}).json() == {"results": [], "next_link": None}
    hire(rest, email="nine@firm.test", external_id="t-9")
    [found] = rest.get("/workers", params={"external_id": "t-9"}).json()["results"]
    assert found["work_email"] == "nine@firm.test"


def test_pages_follow_next_link_to_the_end(rest: httpx.Client) -> None:
    for n in range(4):
        hire(rest, email=f"p{n}@firm.test")
    seen: list[str] = []
    link: str | None = "/workers?limit=3"
    pages = 0
    while link is not None and pages < 10:
        body = rest.get(link).json()
        assert len(body["results"]) <= 3
        seen += [w["id"] for w in body["results"]]
        link = body["next_link"]
        pages += 1
    assert pages == 3 and len(seen) == len(set(seen)) == 7  # three seeded workers and four hired
    assert rest.get("/workers", params={"cursor": "bogus"}).json()["field"] == "cursor"
    assert rest.get("/workers", params={"limit": "0"}).json()["field"] == "limit"


def test_terminate_then_no_reactivation(rest: httpx.Client) -> None:
    worker = hire(rest)
    r = rest.patch(f"/workers/{worker['id']}", json={"status": "terminated"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "TERMINATED" and r.json()["termination_date"]
    again = rest.patch(f"/workers/{worker['id']}", json={"status": "ACTIVE"})
    assert again.status_code == 409 and again.json()["field"] == "status"
    listed = rest.get("/workers", params={"status": "TERMINATED"}).json()["results"]
    assert [w["id"] for w in listed] == [worker["id"]]


def test_update_errors_name_the_field(rest: httpx.Client) -> None:
    worker = hire(rest)
    cases = [
        ({"status": "FIRED"}, "status"),
        ({"termination_date": "2026-01-01"}, "termination_date"),
        ({"title": 5}, "title"),
        ({"salary": 1}, "salary"),
        ({}, "body"),
    ]
    for body, field in cases:
        r = rest.patch(f"/workers/{worker['id']}", json=body)
        assert (r.status_code, r.json()["field"]) == (400, field), (body, r.text)
    assert rest.patch(f"/workers/{worker['id']}", content=b"{nope").json()["field"] == "body"
    assert rest.get(f"/workers/{worker['id']}").json()["status"] == "ACTIVE"


def test_create_errors_name_the_field_and_create_nothing(rest: httpx.Client, rippling: VenueThread) -> None:
    before = len(mock_of(rippling).ledger.workers)
    good = {"first_name": "A", "last_name": "B", "work_email": "a@b.test"}
    cases = [
        ({**good, "work_email": "nope"}, "work_email"),
        ({**good, "first_name": ""}, "first_name"),
        ({k: v for k, v in good.items() if k != "last_name"}, "last_name"),
        ({**good, "worker_type": "INTERN"}, "worker_type"),
        ({**good, "start_date": "2026-02-30"}, "start_date"),
        ({**good, "ssn": "x"}, "ssn"),
        ([good], "body"),
    ]
    for body, field in cases:
        r = rest.post("/workers", json=body)
        assert (r.status_code, r.json()["error"], r.json()["field"]) == (400, "validation_error", field)
    assert len(mock_of(rippling).ledger.workers) == before


def test_unknown_worker_is_404(rest: httpx.Client) -> None:
    r = rest.get("/workers/" + "0" * 24)
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    assert rest.patch("/workers/nope", json={"title": "x"}).status_code == 404


def test_reset_gives_the_same_seeded_ids(rest: httpx.Client, control: httpx.Client) -> None:
    seeded = [w["id"] for w in rest.get("/workers").json()["results"]]
    assert len(seeded) == 3
    first = hire(rest)["id"]
    assert control.post("/reset").status_code == 204
    assert [w["id"] for w in rest.get("/workers").json()["results"]] == seeded
    assert hire(rest)["id"] == first


def test_company_is_the_tokens_company(rest: httpx.Client, rippling: VenueThread) -> None:
    company = rest.get("/companies/current").json()
    assert company["id"] == mock_of(rippling).company.company_id
    assert company["primary_email"] == "payroll-admin@uat-firm.test"
