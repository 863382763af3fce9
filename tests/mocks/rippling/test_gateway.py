"""Authentication and aiohttp's own refusals, all in the mock's error shape; HEAD creates nothing."""

from __future__ import annotations

import httpx

from tests.mocks.rippling.conftest import mock_of
from tests.mocks.venue_thread import VenueThread


def test_no_token_and_a_bad_token_are_401(rippling: VenueThread) -> None:
    venue = mock_of(rippling)
    with httpx.Client(base_url=venue.url, timeout=10) as bare:
        r = bare.get("/workers")
        assert (r.status_code, r.json()["error"]) == (401, "unauthorized")
        for header in ("Bearer wrong", f"Basic {venue.tokens[0]}", venue.tokens[0], "Bearer"):
            r = bare.get("/workers", headers={"Authorization": header})
            assert (r.status_code, r.json()["error"]) == (401, "invalid_token"), header
        r = bare.post("/workers", json={"first_name": "A", "last_name": "B", "work_email": "a@b.test"})
        assert r.status_code == 401
    assert len(venue.ledger.workers) == 3


def test_a_rotated_token_is_refused(rest: httpx.Client, control: httpx.Client) -> None:
    assert control.put("/rippling/tokens", json={"tokens": ["new-token"]}).status_code == 200
    assert rest.get("/workers").status_code == 401
    assert rest.get("/workers", headers={"Authorization": "Bearer new-token"}).status_code == 200
    r = control.put("/rippling/tokens", json={"tokens": []})
    assert (r.status_code, r.json()["field"]) == (400, "tokens")


def test_wrong_method_unknown_path_and_head(rest: httpx.Client, rippling: VenueThread) -> None:
    r = rest.put("/workers", json={})
    assert (r.status_code, r.json()["error"]) == (405, "method_not_allowed")
    assert "POST" in r.headers["Allow"]
    assert rest.delete("/pay-items").status_code == 405
    r = rest.get("/employees")
    assert (r.status_code, r.json()["error"]) == (404, "not_found")
    assert rest.head("/workers").status_code == 200  # HEAD is GET's: it reads
    assert rest.head("/pay-items").status_code == 200
    assert mock_of(rippling).ledger.workers.keys() == rest_ids(rest)
    assert mock_of(rippling).ledger.pay_items == {}


def rest_ids(rest: httpx.Client) -> set[str]:
    return {w["id"] for w in rest.get("/workers").json()["results"]}


def test_a_huge_body_is_413(rest: httpx.Client) -> None:
    r = rest.post("/workers", content=b'{"first_name": "' + b"x" * 300_000 + b'"}')
    assert (r.status_code, r.json()["error"]) == (413, "payload_too_large")


def test_unknown_query_parameters_are_refused(rest: httpx.Client) -> None:
    r = rest.get("/workers", params={"email": "a@b.test"})  # the filter is work_email
    assert (r.status_code, r.json()["field"]) == (400, "query")
    r = rest.get("/workers", params=[("work_email", "a@b.test"), ("work_email", "c@d.test")])
    assert (r.status_code, r.json()["field"]) == (400, "work_email")
