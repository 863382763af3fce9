"""The log is redacted whoever writes it: a library that brought its own handler (async-rithmic adds
one when imported) goes through the service's redacting handler too, once."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import logging
import async_rithmic  # adds its own stdout handler to "rithmic"
from reference_middleware.logsafe import configure
configure("INFO", ("pw-0123456789",))
request = {"user": "u", "password": "pw-0123456789"}
logging.getLogger("rithmic.plant.order").error(f"Rithmic returned an error for the request={request}")
logging.getLogger("uvicorn.error").info("uses pw-0123456789")
"""


def test_a_librarys_own_handler_cannot_bypass_the_redaction() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=True
    )
    lines = done.stdout.splitlines()
    assert "pw-0123456789" not in done.stdout + done.stderr, done.stdout
    assert len(lines) == 2, lines  # each record once: not again through the library's handler
    assert "ERROR rithmic.plant.order: Rithmic returned an error" in lines[0]
