"""The collector policy: fewer young collections, start-up frozen, every pause measured."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator

import pytest

from reference_middleware import gcpolicy


@pytest.fixture
def restored() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.set_threshold(*threshold)
    gc.unfreeze()
    if gcpolicy.PAUSES in gc.callbacks:
        gc.callbacks.remove(gcpolicy.PAUSES)


def test_apply_collects_the_young_generation_less_often_and_freezes_start_up(restored: None) -> None:
    gc.unfreeze()
    gcpolicy.apply()
    assert gc.get_threshold()[0] == gcpolicy.YOUNG_THRESHOLD
    assert gc.get_freeze_count() > 0
    gcpolicy.apply()  # twice is harmless: one callback
    assert gc.callbacks.count(gcpolicy.PAUSES) == 1


def test_full_collections_are_counted_and_a_long_one_is_logged(
    restored: None, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    gcpolicy.apply()
    before = gcpolicy.status()["full_collections"]
    monkeypatch.setattr(gcpolicy, "SLOW_PAUSE_S", 0.0)  # every pause counts as long
    with caplog.at_level(logging.WARNING, logger="refmw.gc"):
        gc.collect()
    status = gcpolicy.status()
    assert status["full_collections"] == before + 1
    assert any("generation 2 stopped the service" in r.getMessage() for r in caplog.records)
