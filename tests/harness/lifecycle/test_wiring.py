"""Wiring the target's Zaps and Connect listener into the real Zapier and DocuSign mocks: what the
bus and DocuSign then hold, and a Zaps file the bus refuses named as the target file's error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.lifecycle import wire
from harness.targetfields import TargetError
from harness.targetlifecycle import LifecycleSpec
from mocks.docusign import DocuSignMock
from mocks.zapier import ZapierMock
from tests.mocks.venue_thread import VenueThread

ZAPS = """
[[zaps]]
id = "funded"
hook = "funded-checkout"
  [[zaps.steps]]
  name = "record"
  method = "POST"
  url = "{{env.middleware_url}}/v1/lifecycle/contracts"
  body = { customer = "{{trigger.customer}}" }
"""


@pytest.fixture
def mocks() -> Iterator[dict[str, str]]:
    with VenueThread(ZapierMock(seed=3)) as zapier, VenueThread(DocuSignMock(seed=3)) as docusign:
        yield {"zapier": zapier.control_url, "docusign": docusign.control_url}


def _spec(tmp_path: Path, text: str = ZAPS) -> LifecycleSpec:
    path = tmp_path / "zaps.toml"
    path.write_text(text)
    return LifecycleSpec(path, {"middleware_url": "http://127.0.0.1:{port}"})


def render(text: str, where: str) -> str:
    return text.replace("{port}", "4321")


def test_the_zaps_are_loaded_with_their_values_and_the_listener_registered(
    tmp_path: Path, mocks: dict[str, str]
) -> None:
    listener = "http://127.0.0.1:4321/v1/webhooks/docusign"
    wire(_spec(tmp_path), mocks, render, listener, "t.toml")
    wire(_spec(tmp_path), mocks, render, listener, "t.toml")  # again, as after a reset: still one of each
    (zap,) = httpx.get(f"{mocks['zapier']}/zapier/zaps").json()["zaps"]
    assert zap["id"] == "funded" and zap["url"].endswith("/funded-checkout/")
    info = httpx.get(f"{mocks['zapier']}/zapier").json()
    assert info["env"] == ["middleware_url"]
    listeners = httpx.get(f"{mocks['docusign']}/docusign").json()["listeners"]
    assert [entry["url"] for entry in listeners] == [listener]


def test_a_zaps_file_the_bus_refuses_is_the_target_files_error(tmp_path: Path, mocks: dict[str, str]) -> None:
    broken = ZAPS.replace('url = "{{env.middleware_url}}/v1/lifecycle/contracts"\n', "")
    with pytest.raises(TargetError, match=r"lifecycle\.zaps: .*zaps\[0\]\.steps\[0\]\.url.*missing"):
        wire(_spec(tmp_path, broken), mocks, render, None, "t.toml")


def test_nothing_is_wired_where_nothing_is_declared(mocks: dict[str, str]) -> None:
    wire(None, mocks, render, None, "t.toml")
    assert httpx.get(f"{mocks['zapier']}/zapier/zaps").json()["zaps"] == []
    assert httpx.get(f"{mocks['docusign']}/docusign").json()["listeners"] == []
