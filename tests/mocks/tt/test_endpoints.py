"""ttaccount, ttledger (paged at 500), ttmonitor and ttpds, and the 303 redirect switch."""

from __future__ import annotations

from typing import Any

import httpx

from mocks.tt import TTMock
from tests.mocks.tt.conftest import TTClient
from tests.mocks.venue_thread import VenueThread


def _first_account(client: TTClient) -> int:
    accounts = client.get("ttaccount", "accounts").json()["accounts"]
    assert len(accounts) == 3
    return int(accounts[0]["id"])


def all_fills(client: TTClient, **params: object) -> tuple[list[dict[str, Any]], list[int]]:
    """Page through /ttledger fills as TT's docs say: minTimestamp = last transactTime + 1."""
    fills: list[dict[str, Any]] = []
    sizes = []
    min_ts = 0
    for _ in range(100):  # bounded: never loop forever on a broken lastPage
        r = client.get("ttledger", "fills", minTimestamp=min_ts, **params)
        assert r.status_code == 200
        body = r.json()
        assert body["lastPage"] in ("true", "false")  # a string, not a JSON boolean
        sizes.append(len(body["fills"]))
        fills.extend(body["fills"])
        if body["lastPage"] == "true":
            return fills, sizes
        last = body["fills"][-1]["transactTime"]
        assert isinstance(last, int)
        min_ts = last + 1
    raise AssertionError("lastPage never became 'true'")


def test_fills_page_over_more_than_500(tt: VenueThread, client: TTClient, control: httpx.Client) -> None:
    account = _first_account(client)
    seeded = control.post("/tt/fills", json={"account": account, "count": 1234})
    assert seeded.status_code == 201
    fills, sizes = all_fills(client, accountId=account)
    assert sizes == [500, 500, 234]
    ids = [f["fillId"] for f in fills]
    assert len(set(ids)) == 1234
    times = [f["transactTime"] for f in fills]
    assert times == sorted(times) and len(set(times)) == 1234
    # epoch nanoseconds: today's date, at ns resolution
    assert all(1.7e18 < t < 4e18 for t in times)
    ledger = control.get("/ledger").json()
    assert {f["fill_id"] for f in ledger["fills"]} == set(ids)
    assert {f["order_id"] for f in ledger["fills"]} == {f["orderId"] for f in fills}


def test_fills_filters_by_account_and_time(client: TTClient, control: httpx.Client) -> None:
    accounts = [a["id"] for a in client.get("ttaccount", "accounts").json()["accounts"]]
    base = 1_800_000_000_000_000_000
    control.post("/tt/fills", json={"account": accounts[0], "count": 10, "start_ns": base, "step_ns": 1000})
    control.post("/tt/fills", json={"account": accounts[1], "count": 4})
    mine, _ = all_fills(client, accountId=accounts[0])
    assert len(mine) == 10 and {f["accountId"] for f in mine} == {accounts[0]}
    window = client.get("ttledger", "fills", minTimestamp=base + 2000, maxTimestamp=base + 5000).json()
    assert [f["transactTime"] for f in window["fills"]] == [
        base + 2000,
        base + 3000,
        base + 4000,
        base + 5000,
    ]
    bad = client.get("ttledger", "fills", minTimestamp="yesterday")
    assert bad.status_code == 400


def test_orders_and_positions_follow_the_fills(client: TTClient, control: httpx.Client) -> None:
    account = _first_account(client)
    control.post("/tt/fills", json={"account": account, "count": 20, "symbol": "ESZ6"})
    orders = client.get("ttledger", "orders", accountId=account).json()
    assert len(orders["orders"]) == 20 and orders["lastPage"] == "true"
    one = orders["orders"][0]
    assert client.get("ttledger", f"orders/{one['orderId']}").json()["orders"][0]["clOrdId"] == one["clOrdId"]
    ledger = control.get("/ledger").json()
    [expected] = [p for p in ledger["positions"] if p["account"] == str(account)]
    positions = client.get("ttmonitor", "position", accountIds=str(account)).json()
    assert positions["lastPage"] == "true"
    [row] = positions["positions"]
    assert row["symbol"] == "ESZ6" and row["netPosition"] == expected["net_qty"]
    assert row["buyFillQty"] - row["sellFillQty"] == expected["net_qty"]
    by_path = client.get("ttmonitor", f"position/{account}").json()["positions"]
    assert by_path == positions["positions"]
    assert client.get("ttmonitor", "position", accountIds="1").json()["positions"] == []


def test_instruments(client: TTClient) -> None:
    instruments = client.get("ttpds", "instruments").json()["instruments"]
    assert {i["productSymbol"] for i in instruments} == {"ES", "NQ", "CL", "GC"}
    es = next(i for i in instruments if i["productSymbol"] == "ES")
    assert es["tickSize"] == 0.25
    one = client.get("ttpds", f"instrument/{es['id']}").json()
    assert one["instrument"] == [es]
    assert client.get("ttpds", "instrument/123").status_code == 404


def test_provision_accounts_and_risk_limits(client: TTClient, control: httpx.Client) -> None:
    made = client.post("ttaccount", "account", {"name": "TRADER-0001", "description": "uat"})
    assert made.status_code == 200
    [account] = made.json()["accounts"]
    assert account["name"] == "TRADER-0001"
    assert client.get("ttaccount", f"account/{account['id']}").json()["account"][0]["id"] == account["id"]
    assert len(client.get("ttaccount", "accounts").json()["accounts"]) == 4
    batch = client.post("ttaccount", "account", [{"name": f"T-{n}"} for n in range(20)])
    assert batch.status_code == 200 and len(batch.json()["accounts"]) == 20
    too_many = client.post("ttaccount", "account", [{"name": f"X-{n}"} for n in range(21)])
    assert too_many.status_code == 400
    assert client.post("ttaccount", "account", {"description": "no name"}).status_code == 400
    limits = [{"productId": 1, "maxOrderQty": 5, "maxPosition": 10}]
    set_ = client.post("ttaccount", f"account/{account['id']}/risklimits", {"riskLimits": limits})
    assert set_.status_code == 200
    got = client.get("ttaccount", f"account/{account['id']}/risklimits").json()
    assert got["riskLimits"] == limits
    negative = [{"productId": 1, "maxOrderQty": -1}]
    r = client.post("ttaccount", f"account/{account['id']}/risklimits", {"riskLimits": negative})
    assert r.status_code == 400 and "maxOrderQty" in r.json()["message"]
    assert client.post("ttaccount", "account/999/risklimits", {"riskLimits": []}).status_code == 404
    kinds = [e["kind"] for e in control.get("/events").json()["events"]]
    assert "accounts_provisioned" in kinds and "risk_limits_set" in kinds


def test_post_spacing_when_enabled(client: TTClient, control: httpx.Client) -> None:
    control.post("/tt/config", json={"post_min_interval_s": 5})
    assert client.post("ttaccount", "account", {"name": "A"}).status_code == 200
    assert client.post("ttaccount", "account", {"name": "B"}).status_code == 429


def test_redirect_303_is_followed_with_auth_kept(
    tt: VenueThread, client: TTClient, control: httpx.Client
) -> None:
    assert control.post("/tt/config", json={"redirect": True}).json()["redirect"] is True
    r = client.get("ttaccount", "accounts")
    assert r.status_code == 200 and len(r.json()["accounts"]) == 3
    assert [h.status_code for h in r.history] == [303]
    redirected = control.get("/events", params={"kind": "redirected"}).json()["events"]
    assert [e["path"] for e in redirected] == ["/ttaccount/ext_uat_cert/accounts"]  # the evidence it happened
    venue = tt.venue
    assert isinstance(venue, TTMock)
    with httpx.Client(base_url=tt.url, timeout=5, follow_redirects=False) as raw:
        not_followed = raw.get(
            "/ttaccount/ext_uat_cert/accounts",
            params={"requestId": client.request_id()},
            headers=client.headers(),
        )
    assert not_followed.status_code == 303
    assert "/ttaccount/ext_uat_cert/accounts" in not_followed.headers["Location"]
    # POSTs are not redirected: a 303 would turn them into GETs and lose the body
    assert client.post("ttaccount", "account", {"name": "R"}).history == []
