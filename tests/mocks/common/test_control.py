"""The control API shared by every mock, served for a minimal venue built on MockVenue."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mocks.common import FaultKind, LedgerFill, LedgerOrder, MockVenue, Route
from tests.mocks.venue_thread import VenueThread


class DummyVenue(MockVenue):
    name = "dummy"

    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed)
        self.resets = 0

    def fault_catalogue(self) -> list[FaultKind]:
        return [
            FaultKind("drop", "drop a frame", {"n": (int, 1)}),
            FaultKind("stall", "stall", {"ms": (float, 100.0)}, bounds={"ms": (0, 60_000)}),
        ]

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, 1

    async def stop(self) -> None:
        pass

    async def on_reset(self) -> None:
        self.resets += 1

    def control_routes(self) -> list[Route]:
        async def ping(request: web.Request) -> web.Response:
            return web.json_response({"pong": True})

        return [("GET", "/dummy/ping", ping)]


@pytest.fixture
def env() -> Iterator[tuple[DummyVenue, httpx.Client]]:
    venue = DummyVenue(seed=7)
    with VenueThread(venue) as vt, httpx.Client(base_url=vt.control_url, timeout=5) as client:
        yield venue, client


@pytest.fixture
def other(env: tuple[DummyVenue, httpx.Client]) -> Iterator[httpx.Client]:
    """A second, well-behaved client on its own connection."""
    with httpx.Client(base_url=str(env[1].base_url), timeout=5) as client:
        yield client


def test_health_names_the_venue(env: tuple[DummyVenue, httpx.Client]) -> None:
    _, client = env
    assert client.get("/health").json() == {"venue": "dummy", "ok": True, "url": "http://127.0.0.1:1"}


def test_arm_list_and_catalogue(env: tuple[DummyVenue, httpx.Client]) -> None:
    venue, client = env
    r = client.post("/faults", json={"fault": "drop", "params": {"n": 3}, "count": 2})
    assert r.status_code == 201
    armed = r.json()
    assert armed["fault"] == "drop" and armed["params"] == {"n": 3} and armed["remaining"] == 2
    listing = client.get("/faults").json()
    assert [f["id"] for f in listing["armed"]] == [armed["id"]]
    assert {k["name"] for k in listing["catalogue"]} == {"drop", "stall"}
    # the armed fault is the venue's: using one firing up shows through the API
    assert venue.faults.take("drop") is not None
    assert client.get("/faults").json()["armed"][0]["remaining"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        (b"[1, 2]", "body"),
        (b"[" * 100_000, "body"),
        (b"{}", "fault"),
        (b'{"fault": "nope"}', "fault"),
        (b'{"fault": "drop", "count": 0}', "count"),
        (b'{"fault": "drop", "duration_ms": -1}', "duration_ms"),
        (b'{"fault": "drop", "params": {"n": "x"}}', "params.n"),
        (b'{"fault": "drop", "params": {"zz": 1}}', "params.zz"),
        (b'{"fault": "stall", "params": {"ms": 1e9}}', "params.ms"),
        (b'{"fault": "drop", "when": "now"}', "when"),
        (b"\xff\xfe", "body"),
    ],
)
def test_bad_arm_bodies_are_400_naming_the_field(
    env: tuple[DummyVenue, httpx.Client], body: bytes, field: str
) -> None:
    _, client = env
    r = client.post("/faults", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["field"] == field
    assert client.get("/faults").json()["armed"] == []


def test_clear_one_kind_or_all(env: tuple[DummyVenue, httpx.Client]) -> None:
    _, client = env
    for fault in ("drop", "drop", "stall"):
        assert client.post("/faults", json={"fault": fault}).status_code == 201
    assert client.delete("/faults", params={"fault": "drop"}).json() == {"cleared": 2}
    assert [f["fault"] for f in client.get("/faults").json()["armed"]] == ["stall"]
    assert client.delete("/faults").json() == {"cleared": 1}
    assert client.get("/faults").json()["armed"] == []


def test_timed_fault_leaves_the_listing(env: tuple[DummyVenue, httpx.Client]) -> None:
    _, client = env
    client.post("/faults", json={"fault": "stall", "duration_ms": 80})
    assert len(client.get("/faults").json()["armed"]) == 1
    time.sleep(0.15)
    assert client.get("/faults").json()["armed"] == []


def _fill(
    fill_id: str, side: str, qty: int, duplicate_of: str | None = None, order_id: str = "o1"
) -> LedgerFill:
    return LedgerFill(
        fill_id, order_id, "tag-1", "A1", "ESZ6", "CME", side, qty, 6000.25, duplicate_of=duplicate_of
    )


def test_ledger_reports_orders_fills_and_positions_without_duplicates(
    env: tuple[DummyVenue, httpx.Client],
) -> None:
    venue, client = env
    venue.ledger.add_order(LedgerOrder("o1", "tag-1", "A1", "ESZ6", "CME", "BUY", 5, "MARKET", None))
    venue.ledger.add_fill(_fill("f1", "BUY", 3))
    venue.ledger.add_fill(_fill("f1-dup", "BUY", 3, duplicate_of="f1"))
    venue.ledger.add_fill(_fill("f2", "SELL", 1, order_id="o2"))
    ledger = client.get("/ledger").json()
    assert set(ledger) == {"orders", "fills", "positions", "deliveries"}
    [order] = ledger["orders"]
    assert order["client_tag"] == "tag-1" and order["filled_qty"] == 3 and order["status"] == "partial"
    assert [f["fill_id"] for f in ledger["fills"]] == ["f1", "f1-dup", "f2"]
    assert ledger["positions"] == [{"account": "A1", "symbol": "ESZ6", "exchange": "CME", "net_qty": 2}]


def test_reset_clears_faults_ledger_events_and_reseeds(env: tuple[DummyVenue, httpx.Client]) -> None:
    venue, client = env
    client.post("/faults", json={"fault": "drop"})
    venue.ledger.add_fill(_fill("f1", "BUY", 1))
    venue.rng.random()
    assert client.post("/reset").status_code == 204
    assert client.get("/faults").json()["armed"] == []
    assert client.get("/ledger").json()["fills"] == []
    assert client.get("/events").json()["events"] == []
    assert venue.resets == 1
    assert venue.rng.random() == random.Random(7).random()


def test_events_record_arming_and_filter_by_seq_and_kind(env: tuple[DummyVenue, httpx.Client]) -> None:
    _, client = env
    client.post("/faults", json={"fault": "drop", "params": {"n": 2}})
    client.delete("/faults")
    events = client.get("/events").json()["events"]
    assert [e["kind"] for e in events] == ["fault_armed", "faults_cleared"]
    assert events[0]["fault"] == "drop" and events[0]["params"] == {"n": 2}
    assert events[1]["count"] == 1
    later = client.get("/events", params={"since": events[0]["seq"]}).json()["events"]
    assert [e["kind"] for e in later] == ["faults_cleared"]
    only = client.get("/events", params={"kind": "fault_armed"}).json()["events"]
    assert [e["seq"] for e in only] == [events[0]["seq"]]
    bad = client.get("/events", params={"since": "soon"})
    assert bad.status_code == 400 and bad.json()["field"] == "since"


def test_venue_control_routes_are_mounted(env: tuple[DummyVenue, httpx.Client]) -> None:
    _, client = env
    assert client.get("/dummy/ping").json() == {"pong": True}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
arm_like = st.fixed_dictionaries(
    {},
    optional={
        "fault": st.sampled_from(["drop", "stall", "nope"]) | json_values,
        "params": st.dictionaries(st.sampled_from(["n", "ms", "x"]), json_values, max_size=3) | json_values,
        "count": json_values,
        "duration_ms": json_values,
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=arm_like | json_values)
def test_hostile_arm_bodies_never_500(env: tuple[DummyVenue, httpx.Client], body: Any) -> None:
    _, client = env
    r = client.post("/faults", content=json.dumps(body), headers={"Content-Type": "application/json"})
    assert r.status_code in (201, 400), r.text
    if r.status_code == 400:
        assert isinstance(r.json()["field"], str)
    client.delete("/faults")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["GET", "POST", "DELETE", "PUT", "PATCH"]),
    path=st.sampled_from(["/faults", "/reset", "/ledger", "/events", "/health", "/x", "/dummy/ping"]),
    query=st.dictionaries(st.sampled_from(["since", "kind", "fault", "q"]), st.text(max_size=12), max_size=3),
    body=st.binary(max_size=200),
)
def test_hostile_requests_never_500_and_others_are_served(
    env: tuple[DummyVenue, httpx.Client],
    other: httpx.Client,
    method: str,
    path: str,
    query: dict[str, str],
    body: bytes,
) -> None:
    _, client = env
    r = client.request(method, path, params=query, content=body)
    assert r.status_code < 500, (r.status_code, r.text)
    assert other.get("/health").status_code == 200
