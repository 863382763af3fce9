"""async-rithmic's debug line for every received message, formatted only when someone reads it.

The library's receive loop logs each inbound message with an f-string around MessageToDict, so the
dict is built (about 22 µs, ten times the parse) for every order notification and tick even with
debug logging off: under a busy open that is thousands of dicts a second nobody sees. Here the
receive loop's MessageToDict is replaced by one that builds the dict only when the library's logger
would write a debug line, and otherwise names the message type. Only that module's name is rebound:
the library's other uses (answers it hands to us, error texts) keep the real function.
"""

from __future__ import annotations

import logging
from typing import Any

from async_rithmic.helpers import background_task_mixin
from google.protobuf.json_format import MessageToDict

LIBRARY_LOGGER = "rithmic"


def debug_dict(message: Any, *args: Any, **kwargs: Any) -> Any:
    """MessageToDict(message) when the library logs debug lines; otherwise just the type's name."""
    if logging.getLogger(LIBRARY_LOGGER).isEnabledFor(logging.DEBUG):
        return MessageToDict(message, *args, **kwargs)
    return f"<{type(message).__name__}: debug logging off>"


def install() -> None:
    """Idempotent: the receive loop of every plant of every client formats lazily from now on."""
    background_task_mixin.MessageToDict = debug_dict
