"""The load path's HTTP client, as a Trader has it: a read a closing keep-alive connection lost is sent
once more, and an order never twice.

The gate's own client does that in harness.adapters.resend; under Locust, the Trader's FastHttpUser
session (geventhttpclient) does it itself, for the idempotent methods only. Nothing in users.py
asks for it, so this pins it: a Locust upgrade that dropped it would have the load run blame the
middleware for a race HTTP allows. The client runs in a subprocess, since importing Locust
monkey-patches the interpreter with gevent."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.harness.adapters.test_resend import Closer

CLIENT = """
import json, sys
from locust import FastHttpUser, task
from locust.env import Environment
from harness.load.users import Trader

class Client(FastHttpUser):  # the Trader's session settings, without its onboarding
    host = sys.argv[1]
    concurrency = Trader.concurrency
    network_timeout = Trader.network_timeout
    connection_timeout = Trader.connection_timeout
    max_retries = Trader.max_retries

    @task
    def nothing(self) -> None: ...

client = Client(Environment(user_classes=[Client])).client
with client.request(sys.argv[2], "/metrics", json={"n": 1}, catch_response=True) as answer:
    print(json.dumps({"status": answer.status_code, "error": str(getattr(answer, "error", None) or "")}))
"""


@pytest.mark.parametrize(
    ("method", "status", "sent"),
    [("GET", 200, ["GET", "GET"]), ("DELETE", 200, ["DELETE", "DELETE"]), ("POST", 0, ["POST"])],
)
def test_a_trader_resends_a_read_lost_to_a_closing_connection_and_never_an_order(
    method: str, status: int, sent: list[str]
) -> None:
    server = Closer(cut=1)
    try:
        run = subprocess.run(
            [sys.executable, "-c", CLIENT, server.url.removesuffix("/metrics"), method],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.close()
    assert run.returncode == 0, run.stderr[-2000:]
    answer = json.loads(run.stdout.strip().splitlines()[-1])
    assert answer["status"] == status and server.seen == sent, (answer, server.seen)
    if status == 0:
        assert answer["error"], answer  # the lost order is a failure Locust counts, not a silent pass
