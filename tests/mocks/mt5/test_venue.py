"""The venue's lifecycle and control extras: reset to the seed, config patches, sessions, TLS."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import httpx
import pytest

from mocks.mt5 import MT5Config, MT5Mock
from tests.mocks.mt5.conftest import Manager, arm, ledger, retcode
from tests.mocks.venue_thread import VenueThread


def test_reset_goes_back_to_the_seed(mt5: VenueThread, manager: Manager, control: httpx.Client) -> None:
    seed_book = ledger(control)
    manager.post("/api/user/add", {"Name": "N", "Group": "g", "Leverage": 1, "PassMain": "p"})
    manager.balance(500000, 2, "12.34", "before-reset")
    control.post("/mt5/config", json={"managers": {"1001": "other"}, "login_first": 600000})
    arm(control, "no_rights")
    assert control.post("/reset").status_code == 204
    after = ledger(control)
    assert [u["login"] for u in after["users"]] == [u["login"] for u in seed_book["users"]]
    assert [(d["deal"], d["amount"]) for d in after["deals"]] == [
        (d["deal"], d["amount"]) for d in seed_book["deals"]
    ]
    assert control.get("/faults").json()["armed"] == []
    assert control.get("/mt5/config").json()["managers"] == {"1000": "***"}
    assert control.get("/mt5/sessions").json()["sessions"] == []
    # the reset forgot the manager's session: its connection needs a new handshake
    assert manager.get("/api/test/access").status_code == 403
    assert retcode(manager.handshake()) == "0 Done"
    next_deal = manager.balance(500000, 2, "1", "after-reset").json()["answer"]["ticket"]
    assert int(next_deal) == seed_book["deals"][-1]["deal"] + 1  # the seeded counter starts over


def test_the_seed_fixes_deposits_and_deal_ids() -> None:
    def seeded(seed: int) -> list[tuple[int, str]]:
        return [(d.deal, str(d.amount)) for d in MT5Mock(seed).ledger.deals]

    assert seeded(1) == seeded(1)
    assert seeded(1) != seeded(2)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "body"),
        ({"managers": {"abc": "pw"}}, "managers.abc"),
        ({"managers": {"1001": ""}}, "managers.1001"),
        ({"managers": {"1000": None}}, "managers"),
        ({"managers": "pw"}, "managers"),
        ({"login_first": 0}, "login_first"),
        ({"login_first": 600000, "login_last": 599999}, "login_last"),
        ({"max_body_bytes": 1}, "max_body_bytes"),
        ({"tls": True}, "tls"),
    ],
)
def test_bad_config_patches_name_the_field(control: httpx.Client, body: object, field: str) -> None:
    r = control.post("/mt5/config", json=body)
    assert r.status_code == 400 and r.json()["field"] == field
    assert control.get("/mt5/config").json()["login_first"] == 500000  # nothing changed


def test_sessions_are_listed_per_connection(mt5: VenueThread, control: httpx.Client) -> None:
    a, b = Manager(mt5.url), Manager(mt5.url)
    try:
        a.handshake()
        b.start()
        a.get("/api/test/access")
        sessions = sorted(control.get("/mt5/sessions").json()["sessions"], key=lambda s: s["authenticated"])
        assert [(s["authenticated"], s["requests"]) for s in sessions] == [(False, 0), (True, 1)]
        assert all(s["manager"] == 1000 and s["peer"].startswith("127.0.0.1:") for s in sessions)
    finally:
        a.close()
        b.close()


@pytest.fixture
def tls_mt5() -> Iterator[VenueThread]:
    with VenueThread(MT5Mock(seed=7, config=MT5Config(tls=True))) as vt:
        yield vt


def test_tls_with_the_generated_certificate(tls_mt5: VenueThread) -> None:
    venue = tls_mt5.venue
    assert isinstance(venue, MT5Mock) and venue.cert_path is not None
    assert tls_mt5.url.startswith("https://127.0.0.1:")
    context = ssl.create_default_context(cafile=str(venue.cert_path))
    m = Manager(tls_mt5.url, verify=context)
    try:
        assert retcode(m.handshake()) == "0 Done" and m.server_proof_ok
        assert m.get("/api/test/access").status_code == 200
    finally:
        m.close()
    with httpx.Client(base_url=tls_mt5.url, verify=context) as other:  # TLS does not carry the session over
        assert other.get("/api/test/access").status_code == 403
    with pytest.raises(httpx.ConnectError):  # an unknown certificate is refused by a verifying client
        httpx.get(tls_mt5.url + "/api/test/access", timeout=5)
