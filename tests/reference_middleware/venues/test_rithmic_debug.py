"""The library's per-message debug dict is built only when its debug lines are written."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from async_rithmic.helpers import background_task_mixin
from async_rithmic.protocol_buffers import exchange_order_notification_pb2 as pb
from google.protobuf.json_format import MessageToDict

from reference_middleware.venues import rithmic_debug


def _note() -> pb.ExchangeOrderNotification:
    return pb.ExchangeOrderNotification(template_id=352, account_id="UAT-0001", symbol="ESZ6", fill_size=1)


@contextlib.contextmanager
def _library_level(level: int) -> Iterator[None]:
    logger = logging.getLogger(rithmic_debug.LIBRARY_LOGGER)
    before = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(before)


def _received_line_text(monkeypatch: pytest.MonkeyPatch, level: int) -> Any:
    """What the receive loop's debug f-string would format, with the shim installed (twice is once)."""
    monkeypatch.setattr(background_task_mixin, "MessageToDict", MessageToDict)
    rithmic_debug.install()
    rithmic_debug.install()
    with _library_level(level):
        return background_task_mixin.MessageToDict(_note())


def test_with_debug_off_the_receive_loop_gets_the_type_name_and_no_dict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = _received_line_text(monkeypatch, logging.INFO)
    assert text == "<ExchangeOrderNotification: debug logging off>"


def test_with_debug_on_the_line_carries_the_whole_message(monkeypatch: pytest.MonkeyPatch) -> None:
    found = _received_line_text(monkeypatch, logging.DEBUG)
    assert found == {"templateId": 352, "accountId": "UAT-0001", "symbol": "ESZ6", "fillSize": 1}


def test_the_librarys_other_uses_keep_the_real_function() -> None:
    from async_rithmic.plants import base

    rithmic_debug.install()
    assert base.MessageToDict is MessageToDict
