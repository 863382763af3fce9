"""The Express sample's rotating venue credentials (src/secrets.js): SECRETS_FILE overrides the
environment, SIGHUP re-reads it, a bad file keeps the last good values, and no value is ever logged.
Then against the real mocks: each venue rotates its credential with a short grace, the harness
rewrites the file and signals the gateway, and after the grace the gateway logs in to Rithmic, gets
a TT token and verifies a Stripe delivery with the new values, as the same process; with the seeded
bug `secrets_read_once` it keeps presenting the old ones and is refused."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from .test_express_sample import APP_DIR, Gateway, wait_for

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

GRACE_S = 0.5
BASE_ENV = {
    "DATABASE_URL": "postgres://u:p@127.0.0.1:1/none",  # nothing listens: start-up waits on it
    "RITHMIC_WS_URL": "ws://127.0.0.1:1",
    "RITHMIC_USER": "u",
    "RITHMIC_PASSWORD": "pw-from-env",
    "TT_API_BASE": "http://127.0.0.1:1",
    "TT_APP_KEY": "k",
    "TT_APP_SECRET": "tt-from-env",
    "STRIPE_WEBHOOK_SECRET": "whsec_from_env",
}


def node(script: str, env: dict[str, str]) -> tuple[Any, str]:
    """Run `script` in the sample's directory: its last line of output (one JSON value), parsed, and
    the log lines before it."""
    done = subprocess.run(
        ["node", "-e", script],
        cwd=APP_DIR,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    *log, last = done.stdout.strip().splitlines()
    return json.loads(last), "\n".join(log)


RELOAD = """
const fs = require('node:fs');
const config = require('./src/config');
const { reloadSecrets } = require('./src/secrets');
const cfg = config.load();
const now = () => ({ password: cfg.rithmic.password, appSecret: cfg.tt.appSecret,
                     stripe: cfg.stripeWebhookSecrets });
const out = { start: now(), steps: [] };
for (const content of JSON.parse(process.env.STEPS)) {
  if (content === null) fs.rmSync(process.env.SECRETS_FILE, { force: true });
  else fs.writeFileSync(process.env.SECRETS_FILE, content);
  out.steps.push({ changed: reloadSecrets(cfg.secrets), ...now() });
}
console.log(JSON.stringify(out));
"""


def reload_steps(tmp_path: Path, first: dict[str, str], steps: list[str | None]) -> tuple[Any, str]:
    file = tmp_path / "venue-secrets.json"
    file.write_text(json.dumps(first))
    return node(RELOAD, {**BASE_ENV, "SECRETS_FILE": str(file), "STEPS": json.dumps(steps)})


def test_the_file_overrides_the_environment_and_a_reload_takes_the_new_values(tmp_path: Path) -> None:
    rotated = {
        "RITHMIC_PASSWORD": "pw-gen1",
        "TT_APP_SECRET": "tt-gen1",
        "STRIPE_WEBHOOK_SECRET": "whsec_gen1",
    }
    result, log = reload_steps(
        tmp_path,
        {"RITHMIC_PASSWORD": "pw-gen0", "STRIPE_WEBHOOK_SECRET": "whsec_gen0,whsec_old"},
        [json.dumps(rotated), json.dumps(rotated)],
    )
    # keys in the file win; TT_APP_SECRET is not there, so the environment's stands
    assert result["start"] == {
        "password": "pw-gen0",
        "appSecret": "tt-from-env",
        "stripe": ["whsec_gen0", "whsec_old"],
    }
    first, again = result["steps"]
    assert first == {
        "changed": ["RITHMIC_PASSWORD", "TT_APP_SECRET", "STRIPE_WEBHOOK_SECRET"],
        "password": "pw-gen1",
        "appSecret": "tt-gen1",
        "stripe": ["whsec_gen1"],
    }
    assert again["changed"] == [] and again["password"] == "pw-gen1"  # a reload with nothing new
    lines = [json.loads(line) for line in log.splitlines()]
    reloads = [line for line in lines if line["msg"] == "secrets reloaded"]
    assert [r["changed"] for r in reloads] == [first["changed"], []]  # one line per reload, names
    assert not [v for v in ("pw-gen0", "pw-gen1", "tt-gen1", "whsec_gen1", "whsec_gen0") if v in log]


def test_a_bad_file_on_reload_keeps_the_last_good_values_and_never_logs_one(tmp_path: Path) -> None:
    good = {"RITHMIC_PASSWORD": "pw-good", "TT_APP_SECRET": "tt-good", "STRIPE_WEBHOOK_SECRET": "whsec_good"}
    bad: list[str | None] = [
        '{"RITHMIC_PASSWORD": "pw-leaked-by-a-parser", ',  # half a file: JSON.parse quotes it
        json.dumps({"RITHMIC_PASWORD": "pw-misspelt"}),  # a typo must not leave the old value silently
        json.dumps({**good, "TT_APP_SECRET": ""}),
        json.dumps(["pw-in-a-list"]),
        None,  # the file is gone
        json.dumps({"RITHMIC_PASSWORD": "pw-partial"}),  # drops TT_APP_SECRET, which the env lacks
    ]
    env_less = {k: v for k, v in BASE_ENV.items() if k != "TT_APP_SECRET"}
    file = tmp_path / "venue-secrets.json"
    file.write_text(json.dumps(good))
    result, log = node(RELOAD, {**env_less, "SECRETS_FILE": str(file), "STEPS": json.dumps(bad)})
    kept = {"password": "pw-good", "appSecret": "tt-good", "stripe": ["whsec_good"]}
    assert result["start"] == kept
    assert result["steps"] == [{"changed": None, **kept}] * len(bad)
    errors = [json.loads(line) for line in log.splitlines()]
    assert len(errors) == len(bad) and {e["level"] for e in errors} == {"error"}
    assert all("SECRETS_FILE" in e["err"] for e in errors), errors
    assert "RITHMIC_PASWORD" in errors[1]["err"] and "TT_APP_SECRET" in errors[2]["err"]
    assert "TT_APP_SECRET" in errors[5]["err"]
    values = ("pw-good", "tt-good", "whsec_good", "pw-leaked", "pw-misspelt", "pw-in-a-list", "pw-partial")
    assert not [v for v in values if v in log], log  # names only, never a value


@pytest.mark.parametrize(
    "content", [None, '{"TT_APP_SECRET": "tt-leaked-at-start" x', json.dumps({"NOPE": "x"})]
)
def test_an_unusable_file_at_start_is_a_configuration_error(tmp_path: Path, content: str | None) -> None:
    file = tmp_path / "venue-secrets.json"
    if content is not None:
        file.write_text(content)
    done = subprocess.run(
        ["node", "src/server.js"],
        cwd=APP_DIR,
        env={"PATH": os.environ["PATH"], **BASE_ENV, "SECRETS_FILE": str(file)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("configuration error: SECRETS_FILE"), done.stderr
    assert "leaked" not in done.stderr + done.stdout


def test_a_credential_only_in_the_file_satisfies_the_start_and_none_at_all_does_not(tmp_path: Path) -> None:
    env_less = {k: v for k, v in BASE_ENV.items() if k != "RITHMIC_PASSWORD"}
    file = tmp_path / "venue-secrets.json"
    file.write_text(json.dumps({"TT_APP_SECRET": "tt-file"}))
    result, _ = node(
        "const c = require('./src/config');"
        "try { c.load(); console.log(JSON.stringify('loaded')); }"
        "catch (e) { console.log(JSON.stringify(e.message)); }",
        {**env_less, "SECRETS_FILE": str(file)},
    )
    assert result == "RITHMIC_PASSWORD is required (in the environment or SECRETS_FILE)"
    file.write_text(json.dumps({"RITHMIC_PASSWORD": "pw-file"}))
    result, _ = node(
        "const c = require('./src/config'); console.log(JSON.stringify(c.load().rithmic.password));",
        {**env_less, "SECRETS_FILE": str(file)},
    )
    assert result == "pw-file"


@pytest.mark.parametrize("bugs", ["", "secrets_read_once"])
def test_sighup_reloads_in_the_running_process_unless_the_bug_ignores_it(tmp_path: Path, bugs: str) -> None:
    """The signal wiring in server.js, without a topology: the process waits for a database that
    is not there (about 10 s of retries), long enough to signal it."""
    file = tmp_path / "venue-secrets.json"
    file.write_text(json.dumps({"RITHMIC_PASSWORD": "pw-gen0"}))
    logfile = tmp_path / "gateway.log"
    env = {"PATH": os.environ["PATH"], **BASE_ENV, "SECRETS_FILE": str(file), "EXPRESS_BUGS": bugs}
    with logfile.open("w") as out:
        proc = subprocess.Popen(["node", "src/server.js"], cwd=APP_DIR, env=env, stdout=out, stderr=out)
    try:
        started = wait_for(logfile.read_text, lambda t: "re-read on SIGHUP" in t, 10)
        assert "re-read on SIGHUP" in started, started
        file.write_text(json.dumps({"RITHMIC_PASSWORD": "pw-gen1", "TT_APP_SECRET": "tt-gen1"}))
        proc.send_signal(signal.SIGHUP)
        text = wait_for(logfile.read_text, lambda t: "secrets reloaded" in t, 1.5 if bugs else 3)
        time.sleep(0.3)
        assert proc.poll() is None, f"SIGHUP ended the process\n{text}"  # Node's default would
        reloads = [
            json.loads(line) for line in logfile.read_text().splitlines() if "secrets reloaded" in line
        ]
        if bugs:
            assert reloads == []
        else:
            assert [r["changed"] for r in reloads] == [["RITHMIC_PASSWORD", "TT_APP_SECRET"]], text
        assert not [v for v in ("pw-gen0", "pw-gen1", "tt-gen1") if v in text], text
        assert str(file) not in text  # the harness counts the file's path among the run's secrets
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# ---------------------------------------------------------------------- against the real mocks


def controls(gw: Gateway) -> dict[str, str]:
    return {"rithmic": gw.rithmic_ctl, "tt": gw.tt_ctl, "stripe": gw.stripe_ctl}


def rotate_everything(gw: Gateway) -> float:
    """As an operator does: each venue rotates (the old value valid for GRACE_S), then the secret
    file is rewritten and the gateway signalled. When the last grace ends (wall clock)."""
    until = 0.0
    for venue, ctl in controls(gw).items():
        answer = gw.http.post(f"{ctl}/{venue}/credentials/rotate", json={"grace_s": GRACE_S})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["generation"] == 1, body
        until = max(until, float(body["previous_valid_until"]))
    assert gw.topo.refresh_secrets()  # the file changed, and SIGHUP went to the gateway
    return until


def auth_events(gw: Gateway, venue: str, kinds: tuple[str, ...], since: float) -> list[dict[str, Any]]:
    events = gw.http.get(f"{controls(gw)[venue]}/events").json()["events"]
    return [e for e in events if e["kind"] in kinds and e["ts"] >= since]


def after_the_grace(gw: Gateway, bugs: str) -> tuple[str, float]:
    """A gateway with an onboarded account and a TT token, its credentials rotated, the grace over,
    then Rithmic and TT made to authenticate again; the account, and when the re-auth began."""
    gw.restart(bugs)
    _, account = gw.onboard()
    wait_for(
        lambda: gw.account(account).json()["data"]["venues"]["tt"]["provisioningStatus"],
        lambda s: s == "provisioned",
        15,
    )
    until = rotate_everything(gw)
    time.sleep(max(until - time.time(), 0) + 0.3)
    began = time.time()
    gw.arm("forced_logout", {"plant": "order"}, count=1)
    expiry = {"fault": "early_token_expiry", "params": {}, "count": 1}
    gw.http.post(f"{gw.tt_ctl}/faults", json=expiry).raise_for_status()
    down = wait_for(gw.health, lambda h: h.get("venues", {}).get("rithmic", {}).get("status") == "down", 3)
    assert down.get("venues", {}).get("rithmic", {}).get("status") == "down", down  # logged out
    return account, began


@pytest.mark.slow
def test_rotated_credentials_are_taken_up_on_sighup_by_the_same_process(gw: Gateway) -> None:
    account, began = after_the_grace(gw, "")
    pid = gw.topo.process.pid if gw.topo.process else None
    accepted, _ = gw.until_accepted(account, 10)  # the order plant logged in again: new password
    assert accepted.status_code == 201, f"{accepted.text}\n{gw.log()}"
    logins = auth_events(gw, "rithmic", ("login", "login_rejected"), began)
    assert logins and {(e["kind"], e.get("credential")) for e in logins} == {("login", "current")}, logins
    # the TT fills poll meets the expired token and asks for a new one: with the new app secret
    tokens = wait_for(
        lambda: auth_events(gw, "tt", ("token_request",), began), lambda t: len(t) > 0, 8, interval=0.2
    )
    assert tokens and {e["credential"] for e in tokens} == {"current"}, tokens
    # Stripe now signs with the new secret alone: a new customer is onboarded all the same
    _, second = gw.onboard()
    assert second != account
    assert gw.topo.process is not None and gw.topo.process.pid == pid  # no restart on the way
    process = gw.topo.process
    log = process.logfile.read_text(errors="replace")
    reloads = [json.loads(line) for line in log.splitlines() if '"secrets reloaded"' in line]
    assert ["RITHMIC_PASSWORD", "TT_APP_SECRET", "STRIPE_WEBHOOK_SECRET"] in [r["changed"] for r in reloads]
    assert gw.topo.secret_file is not None
    new_values = gw.topo.secret_file.render(gw.topo.values).values()
    assert not [v for v in new_values if v in log], "a rotated credential shows in the gateway's log"
    assert str(gw.topo.secret_file.path) not in log


@pytest.mark.slow
def test_bug_secrets_read_once_keeps_presenting_the_revoked_credentials(gw: Gateway) -> None:
    account, began = after_the_grace(gw, "secrets_read_once")
    last, _ = gw.until_accepted(account, 4)
    assert last.status_code == 503, last.text
    logins = auth_events(gw, "rithmic", ("login", "login_rejected"), began)
    assert logins and {(e["kind"], e.get("credential")) for e in logins} == {("login_rejected", "revoked")}
    tokens = wait_for(
        lambda: auth_events(gw, "tt", ("token_request",), began), lambda t: len(t) > 0, 8, interval=0.2
    )
    assert tokens and {e["credential"] for e in tokens} == {"revoked"}, tokens
    customer = "cus_rotated0000001"
    sent = gw.stripe_send(["checkout.session.completed"], customer, retry={"max_attempts": 1})
    assert [d["status"] for d in sent["deliveries"]] == [400], sent
    assert gw.accounts_of(customer) == []
    assert gw.topo.process is not None and gw.topo.process.alive()  # SIGHUP did not end it
