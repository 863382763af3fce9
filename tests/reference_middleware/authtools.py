"""What the access-control tests share: a second account, clients holding one credential, the raw log."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from .conftest import Env, bearer

OTHER = "ACC-AUTH-B"  # trader B's account; trader A trades the house account (env.account)
MISSING_CREDENTIALS = {"error": "invalid or missing credentials"}
ADMIN_ADDRESS = {"error": "admin access is not allowed from this address"}
OUTSIDE = "127.0.0.3"  # a loopback source address outside the default REFMW_ADMIN_ALLOW


def add_account(env: Env, account_id: str = OTHER) -> str:
    """An account of another trader, trading through the same venue account as the house one."""
    env.topo.postgres.psql(
        "INSERT INTO accounts (id, rithmic_account, max_position, max_order_qty, daily_loss_limit) "
        f"VALUES ('{account_id}', '{env.account}', 50, 25, 25000) ON CONFLICT (id) DO NOTHING"
    )
    return account_id


def client(env: Env, key: str | None = None, source: str | None = None) -> httpx.Client:
    """A client of the middleware sending `key` (none: no credential), from `source` if given."""
    transport = httpx.HTTPTransport(local_address=source) if source else None
    return httpx.Client(
        base_url=env.base,
        timeout=10.0,
        trust_env=False,
        headers=bearer(key) if key else {},
        transport=transport,
    )


def resting_order(env: Env, coid: str, account: str | None = None) -> None:
    """A limit order far below the market, placed as admin: it stays working at the venue."""
    placed = env.order(coid, account=account or env.account, type="LIMIT", limit_price=5000.0)
    assert placed.status_code == 202 and placed.json()["status"] == "working", placed.text


def raw_log(env: Env) -> str:
    """The middleware's log as written (TargetProcess.log_tail redacts it: this does not)."""
    process = env.topo.process
    assert process is not None
    return process.logfile.read_text(errors="replace")


def credentials(env: Env) -> dict[str, str]:
    """Every credential the running middleware was given, by variable name."""
    given: dict[str, str] = getattr(env.topo.process, "env", None) or {}
    found = {
        name: given.get(name, "")
        for name in ("REFMW_ADMIN_KEY", "REFMW_RITHMIC_PASSWORD", "REFMW_TT_APP_SECRET")
    }
    for i, secret in enumerate(given.get("REFMW_STRIPE_WEBHOOK_SECRET", "").split(",")):
        found[f"REFMW_STRIPE_WEBHOOK_SECRET[{i}]"] = secret
    found["database password"] = urlsplit(given.get("REFMW_DATABASE_URL", "")).password or ""
    return {name: value for name, value in found.items() if value}


def leaked(log: str, secrets: dict[str, str]) -> list[str]:
    return sorted(name for name, value in secrets.items() if value in log)
