"""Venue credentials rotated mid-run (issue 13): the reference re-reads REFMW_SECRETS_FILE and its next
logins use the new values; the secrets_read_once build logs in with a revoked password.

Each mock rotates its credential with a short grace (POST {control}/<venue>/credentials/rotate), the
test rewrites the secrets file as the harness does (temporary file, os.replace), waits the grace out,
then forces new logins: a ForcedLogout on the Rithmic order plant and `early_token_expiry` at TT.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from .conftest import Env, wait_for
from .mutant_cases import Outcome

pytestmark = pytest.mark.slow  # two middleware starts and a reconnect each (about 10 s healthy)
GRACE_S = 0.5
POLL_S = 0.2
VENUES = ("rithmic", "tt", "stripe")


def _ctl(env: Env, venue: str) -> str:
    return str({"rithmic": env.rithmic_ctl, "tt": env.tt_ctl, "stripe": env.stripe_ctl}[venue])


def _write(path: Path, values: dict[str, str]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(values))
    os.replace(tmp, path)


def _secrets(rithmic: str, tt: str, stripe: str) -> dict[str, str]:
    return {
        "REFMW_RITHMIC_PASSWORD": rithmic,
        "REFMW_TT_APP_SECRET": tt,
        "REFMW_STRIPE_WEBHOOK_SECRET": stripe,
    }


def _last_seq(env: Env, venue: str) -> int:
    return max((int(e["seq"]) for e in env.events(_ctl(env, venue))), default=0)


def _since(env: Env, venue: str, kind: str, seq: int) -> list[dict[str, Any]]:
    return [e for e in env.events(_ctl(env, venue), kind) if int(e["seq"]) > seq]


def _reloads(env: Env) -> int:
    found = re.search(r"^refmw_secret_reloads_total (\d+)$", env.http.get(f"{env.base}/metrics").text, re.M)
    return int(found.group(1)) if found else -1


def _start(env: Env, path: Path, mutants: str, poll_s: float = POLL_S) -> None:
    """The rotation API on every mock (skip without it), then a fresh middleware reading `path`."""
    for venue in VENUES:
        shown = env.http.get(f"{_ctl(env, venue)}/{venue}/credentials")
        if shown.status_code == 404:
            pytest.skip(
                f"the {venue} mock has no credential rotation API yet (GET /{venue}/credentials: 404)"
            )
        shown.raise_for_status()
    mocks = env.mocks
    first = _secrets(mocks["rithmic"]["password"], mocks["tt"]["app_secret"], mocks["stripe"]["secret"])
    _write(path, first)
    env.restart(
        mutants,
        extra_env={
            "REFMW_SECRETS_FILE": str(path),
            "REFMW_SECRETS_POLL_S": str(poll_s),
            "REFMW_LOG_LEVEL": "DEBUG",
        },
    )
    for venue in VENUES:  # the reset put every credential back to its seeded generation
        assert env.http.get(f"{_ctl(env, venue)}/{venue}/credentials").json()["generation"] == 0


def _raw_log(env: Env) -> str:
    """The service's own output, before the harness's redaction (which would hide a leak)."""
    process = env.topo.process
    assert process is not None
    return Path(process.logfile).read_text(errors="replace")


def rotate_then_relogin(env: Env, path: Path) -> Outcome:
    assert env.order("before-rotation").status_code == 202
    rotated = {}
    for venue in VENUES:
        answer = env.http.post(f"{_ctl(env, venue)}/{venue}/credentials/rotate", json={"grace_s": GRACE_S})
        answer.raise_for_status()
        rotated[venue] = answer.json()
        assert rotated[venue]["generation"] == 1, rotated[venue]
    _write(path, _secrets(*(rotated[v]["value"] for v in VENUES)))
    wait_for(lambda: _reloads(env), lambda n: n >= 1, 3)  # the healthy build's poll; not the mutant's
    revoked_at = max(float(r["previous_valid_until"]) for r in rotated.values())
    time.sleep(max(0.0, revoked_at - time.time()) + 0.3)  # every previous value is now refused

    # Only what the forced logins bring: a token refreshed on its own schedule is not judged here.
    seqs = {venue: _last_seq(env, venue) for venue in VENUES}
    # Rithmic: a ForcedLogout on the order plant; its next login must present the new password.
    env.arm(env.rithmic_ctl, "forced_logout", {"plant": "order"}, count=1)
    assert wait_for(lambda: env.fired(env.rithmic_ctl, "forced_logout"), bool, 5), "forced_logout never fired"
    time.sleep(1.0)
    order = wait_for(lambda: env.order(), lambda r: r.status_code == 202, env.slo.recovery_s, 0.5)
    logins = [e for e in _since(env, "rithmic", "login", seqs["rithmic"]) if e.get("plant") == "order"]
    rejected = _since(env, "rithmic", "login_rejected", seqs["rithmic"])

    # TT: every token expired; the poller's next call gets 401 and asks for a token with the app secret.
    env.arm(env.tt_ctl, "early_token_expiry", count=1)
    tokens = wait_for(lambda: _since(env, "tt", "token_request", seqs["tt"]), bool, 8)

    # Stripe: past the grace a delivery carries the new secret's signature only.
    customer = f"cus_{uuid.uuid4().hex[:14]}"
    sent = env.stripe_send(["checkout.session.completed"], customer)
    statuses = [d["status"] for d in sent["deliveries"]]

    seen = [(e.get("credential"), e.get("generation")) for e in logins]
    refused = [(e.get("credential"), e.get("generation")) for e in rejected]
    tt_seen = [(e.get("credential"), e.get("generation"), e.get("status")) for e in tokens]
    correct = (
        order.status_code == 202
        and ("current", 1) in seen
        and not refused
        and bool(tt_seen)
        and all(t[:2] == ("current", 1) and t[2] == 200 for t in tt_seen)
        and statuses == [200]
    )
    evidence = (
        f"order after ForcedLogout {order.status_code}; order-plant logins {seen}, rejected {refused}; "
        f"TT token requests {tt_seen}; webhook deliveries {statuses}; reloads {_reloads(env)}"
    )
    return correct, evidence


def test_the_reference_picks_up_rotated_credentials_without_a_restart(env: Env, tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    _start(env, path, "")
    correct, evidence = rotate_then_relogin(env, path)
    print(f"healthy: {evidence}")
    assert correct, f"{evidence}\n{env.log()}"
    rotated = json.loads(path.read_text()).values()
    assert not [v for v in rotated if v in _raw_log(env)], "a rotated secret reached the service's log"
    assert _reloads(env) == 1, evidence  # one rewrite, one reload
    books = wait_for(lambda: (env.positions(), env.venue_positions()), lambda b: b[0] == b[1], 5)
    assert books[0] == books[1] and books[0].get("ESZ6", 0) >= 2, books  # no order lost on the way


def test_the_read_once_build_logs_in_with_a_revoked_password(env: Env, tmp_path: Path) -> None:
    _start(env, tmp_path / "secrets.json", "secrets_read_once")
    seq = _last_seq(env, "rithmic")
    correct, evidence = rotate_then_relogin(env, tmp_path / "secrets.json")
    print(f"secrets_read_once: {evidence}")
    assert not correct, f"secrets_read_once was not exposed: {evidence}"
    refused = _since(env, "rithmic", "login_rejected", seq)
    assert any(e.get("credential") == "revoked" and e.get("generation") == 0 for e in refused), evidence
    assert _reloads(env) == 0


def test_sighup_reloads_the_running_service(env: Env, tmp_path: Path) -> None:
    """The real process under uvicorn: with polling out of the way, SIGHUP alone applies a new file."""
    path = tmp_path / "secrets.json"
    _start(env, path, "", poll_s=3600)
    rotated = env.http.post(f"{env.stripe_ctl}/stripe/credentials/rotate", json={"grace_s": 0}).json()
    mocks = env.mocks
    _write(path, _secrets(mocks["rithmic"]["password"], mocks["tt"]["app_secret"], rotated["value"]))
    time.sleep(0.5)
    assert _reloads(env) == 0
    process = env.topo.process
    assert process is not None and process.pid is not None
    os.kill(process.pid, signal.SIGHUP)
    assert wait_for(lambda: _reloads(env), lambda n: n == 1, 3) == 1, env.log()
    assert "changed REFMW_STRIPE_WEBHOOK_SECRET" in env.log()
    sent = env.stripe_send(["checkout.session.completed"], f"cus_{uuid.uuid4().hex[:14]}")
    assert [d["status"] for d in sent["deliveries"]] == [200]  # signed by the new secret only
    assert env.health()["status"] == "ok"
