"""The funded traders' chain in `uat load`, against the real DocuSign, MT5 and Rippling mocks: a
chain that never reaches a trader stops the run naming them and the stage, within its bound."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from harness.lifecycle import Expected
from harness.load.funded import ChainStalled, FundedChain, funded_metadata
from harness.load.identities import identity
from mocks.docusign import DocuSignMock
from mocks.mt5 import MT5Mock
from mocks.rippling import RipplingMock
from tests.mocks.venue_thread import VenueThread


@pytest.fixture
def controls() -> Iterator[dict[str, str]]:
    with (
        VenueThread(DocuSignMock(seed=4)) as docusign,
        VenueThread(MT5Mock(seed=4)) as mt5,
        VenueThread(RipplingMock(seed=4)) as rippling,
    ):
        yield {"docusign": docusign.control_url, "mt5": mt5.control_url, "rippling": rippling.control_url}


def test_a_chain_that_never_sends_the_contracts_stalls_naming_the_traders(controls: dict[str, str]) -> None:
    traders = [Expected(f"cus_{n}", f"t{n}@funded.test", f"T {n}", Decimal("100.00")) for n in range(2)]
    ticks: list[dict[str, object]] = []
    began = time.monotonic()
    with httpx.Client() as http, pytest.raises(ChainStalled) as stalled:
        FundedChain(http, controls, traders, bound_s=0.5, progress=ticks.append).run()
    assert time.monotonic() - began < 5
    assert "2 of 2 funded traders not contract sent within 0.7 s (first: cus_0, cus_1)" in str(stalled.value)
    assert ticks[-1] == {"funded": "contract sent", "done": 0, "of": 2}


def test_a_funded_checkout_says_so_and_carries_the_deposit() -> None:
    who = identity(7, 3)
    meta = funded_metadata(who, "25000.00")
    assert meta["program"] == "funded" and meta["deposit"] == "25000.00" and meta["email"] == who.email
