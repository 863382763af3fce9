"""Configuration from environment variables only (seam 3: the harness wires these from a target file).

Database bounds (every request gets a definite answer, whatever the database does):
  REFMW_DB_LOCK_TIMEOUT_MS (1000), REFMW_DB_STATEMENT_TIMEOUT_MS (5000) and
  REFMW_DB_IDLE_IN_TX_TIMEOUT_MS (10000) are the server settings of every pool connection (0: off);
  REFMW_DB_ACQUIRE_TIMEOUT_S (2) bounds taking a pool connection, REFMW_DB_CONNECT_TIMEOUT_S (2)
  one connect attempt, and REFMW_DB_REQUEST_TIMEOUT_S (2.5) the database time of one request
  before it answers 503 (504 for an order already sent to the venue).
Deployment: REFMW_SHUTDOWN_GRACE_S (10) is how long a SIGTERM lets in-flight requests finish;
  REFMW_BAD_RELEASE=1 simulates a broken release: the process starts, but /health answers 503
  {"status": "failing"} forever (and so does every other route), for rollout/rollback drills.
Access control (guard.py, auth.py):
  REFMW_ADMIN_KEY is the admin credential (`Authorization: Bearer <key>`, at least 16 characters).
  Unset or empty, authentication is OFF: every request is treated as admin, a warning is logged at
  start and /health says "auth": "off" -- for a developer's laptop, never for a shared host.
  REFMW_ADMIN_ALLOW (127.0.0.1) is the comma list of source addresses (or CIDR networks) from which
  the admin key is accepted; the source is the TCP peer, never X-Forwarded-For.
  REFMW_RATE_LIMIT_RPS (50) and REFMW_RATE_LIMIT_BURST (100) are each trader key's token bucket;
  the admin key has one of 20 times both (the back office reads in bulk).
  REFMW_MAX_BODY_BYTES (65536) bounds a request body, declared or chunked.
Rotated credentials (secretsource.py): REFMW_SECRETS_FILE names a JSON object whose keys
  REFMW_RITHMIC_PASSWORD, REFMW_TT_APP_SECRET and REFMW_STRIPE_WEBHOOK_SECRET override the
  environment's; it is re-read when it changes (polled every REFMW_SECRETS_POLL_S, 1.0) and on SIGHUP.
  Set but missing or malformed at start, it is a configuration error.
The funded trader's lifecycle (lifecycle/settings.py): on only when REFMW_ZAPIER_HOOK_URL is set, and
  then its DocuSign, MT5 and Rippling settings are all required.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from typing import Any

from .lifecycle.settings import LifecycleConfig, LifecycleConfigError

DEFAULT_SYMBOLS = "ESZ6:CME,NQZ6:CME,CLF7:NYMEX,GCG7:COMEX"
ADMIN_KEY_MIN_CHARS = 16
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConfigError(ValueError):
    """A missing or malformed environment variable; the message names it."""


def _get(env: dict[str, str], name: str, default: str | None = None) -> str:
    value = env.get(name, default)
    if value is None or value == "":
        raise ConfigError(f"{name} is required")
    return value


def _float(env: dict[str, str], name: str, default: float, *, allow_zero: bool = False) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(f"{name} must be {'zero or more' if allow_zero else 'positive'}, got {raw!r}")
    return value


def _flag(env: dict[str, str], name: str) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    raise ConfigError(f"{name} must be 1 or 0, got {raw!r}")


def _symbols(raw: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in raw.split(","):
        symbol, _, exchange = item.strip().partition(":")
        if not symbol or not exchange:
            raise ConfigError(f"REFMW_SYMBOLS items must be SYMBOL:EXCHANGE, got {item!r}")
        pairs.append((symbol, exchange))
    return tuple(pairs)


def _ints(env: dict[str, str], name: str) -> tuple[int, ...]:
    raw = env.get(name) or ""
    try:  # "10001,10002", or a list as a target file renders one: "[10001, 10002]"
        return tuple(int(item) for item in raw.strip("[] ").split(",") if item.strip())
    except ValueError:
        raise ConfigError(f"{name} must be comma-separated integers, got {raw!r}") from None


def _cqg(env: dict[str, str]) -> dict[str, Any]:
    """CQG's settings: all of them or none (REFMW_CQG_URL unset leaves CQG off)."""
    url = env.get("REFMW_CQG_URL") or ""
    if not url:
        return {}
    return {
        "cqg_url": url,
        "cqg_user": _get(env, "REFMW_CQG_USER"),
        "cqg_password": _get(env, "REFMW_CQG_PASSWORD"),
        "cqg_accounts": _ints(env, "REFMW_CQG_ACCOUNTS") or (),
    }


def _admin_key(env: dict[str, str]) -> str:
    key = env.get("REFMW_ADMIN_KEY") or ""
    if key and len(key) < ADMIN_KEY_MIN_CHARS:
        # the value itself is never echoed: this message reaches stderr and CI logs
        raise ConfigError(f"REFMW_ADMIN_KEY must be at least {ADMIN_KEY_MIN_CHARS} characters")
    return key


def _networks(raw: str) -> tuple[Network, ...]:
    try:
        return tuple(
            ipaddress.ip_network(item.strip(), strict=False) for item in raw.split(",") if item.strip()
        )
    except ValueError:
        raise ConfigError(f"REFMW_ADMIN_ALLOW must be IP addresses or networks, got {raw!r}") from None


@dataclass(frozen=True)
class Config:
    port: int
    database_url: str = field(repr=False)  # carries the database password
    rithmic_url: str
    rithmic_system: str
    rithmic_user: str
    rithmic_password: str = field(repr=False)
    tt_url: str
    tt_env: str
    tt_app_key: str
    tt_app_secret: str = field(repr=False)
    stripe_secrets: tuple[str, ...] = field(repr=False)
    mutants: frozenset[str] = frozenset()
    symbols: tuple[tuple[str, str], ...] = field(default_factory=lambda: _symbols(DEFAULT_SYMBOLS))
    order_timeout_s: float = 3.0  # a new order with no venue answer within this is "unknown"
    watchdog_s: float = 4.0  # a plant that sends nothing for this long is declared silent
    reconnect_interval_s: float = 0.5
    request_timeout_s: float = 3.0  # async-rithmic request timeout (login, show-orders, ...)
    tt_poll_s: float = 2.0
    tt_timeout_s: float = 5.0
    stale_quote_s: float = 3.0  # a market order is refused when its symbol's last quote is older
    quote_interval_s: float = 1.0  # stream quote conflation (a trader screen at 1 Hz); 0: every quote
    notify_lanes: int = 8  # order notifications handled in parallel across orders
    db_pool: int = 30
    # idle HTTP keep-alive: trading clients hold their connection between orders, and a short
    # idle close makes them reconnect for nearly every order (and race the close as they reuse it)
    keepalive_s: int = 75
    default_max_position: int = 50
    default_max_order_qty: int = 25
    default_daily_loss_limit: float = 25_000.0
    db_lock_timeout_ms: int = 1000  # a row or table lock held elsewhere: refused fast, not waited out
    db_statement_timeout_ms: int = 5000
    db_idle_in_tx_timeout_ms: int = 10_000  # a session of ours left in a transaction is ended
    db_acquire_timeout_s: float = 2.0
    db_connect_timeout_s: float = 2.0  # a black-holed link must not hang a connect
    db_request_timeout_s: float = 2.5  # one request's database time, across its queries
    shutdown_grace_s: float = 10.0
    bad_release: bool = False
    admin_key: str = field(default="", repr=False)  # "": authentication is off
    admin_allow: tuple[Network, ...] = (ipaddress.ip_network("127.0.0.1/32"),)
    rate_limit_rps: float = 50.0
    rate_limit_burst: float = 100.0
    max_body_bytes: int = 65_536
    secrets_file: str = ""  # "": the environment's secrets, for good
    # CQG WebAPI: accounts routed there trade on it; "" leaves CQG off (routing to it is refused)
    cqg_url: str = ""
    cqg_user: str = ""
    cqg_password: str = field(default="", repr=False)
    cqg_accounts: tuple[int, ...] = ()  # the CQG accounts of that login (the WebAPI logon names none)
    secrets_poll_s: float = 1.0
    lifecycle: LifecycleConfig | None = field(
        default=None, repr=False
    )  # None: funded checkouts onboard as today

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Config:
        env = dict(os.environ if env is None else env)
        port_raw = env.get("REFMW_PORT") or env.get("PORT") or "8080"
        try:
            port = int(port_raw)
        except ValueError:
            raise ConfigError(f"REFMW_PORT must be an integer, got {port_raw!r}") from None
        from .mutants import parse as parse_mutants

        try:
            mutants = parse_mutants(env.get("REFMW_MUTANTS", ""))
        except ValueError as exc:
            raise ConfigError(f"REFMW_MUTANTS: {exc}") from None
        secrets_file = env.get("REFMW_SECRETS_FILE") or ""
        if secrets_file:
            from .secretsource import read as read_secrets

            env.update(read_secrets(secrets_file))  # the file wins over the environment
        secrets = tuple(s for s in _get(env, "REFMW_STRIPE_WEBHOOK_SECRET").split(",") if s)
        try:
            lifecycle = LifecycleConfig.from_env(env)
        except LifecycleConfigError as exc:
            raise ConfigError(str(exc)) from None
        return cls(
            port=port,
            database_url=_get(env, "REFMW_DATABASE_URL"),
            rithmic_url=_get(env, "REFMW_RITHMIC_URL"),
            rithmic_system=_get(env, "REFMW_RITHMIC_SYSTEM", "Rithmic Test"),
            rithmic_user=_get(env, "REFMW_RITHMIC_USER"),
            rithmic_password=_get(env, "REFMW_RITHMIC_PASSWORD"),
            tt_url=_get(env, "REFMW_TT_URL").rstrip("/"),
            tt_env=_get(env, "REFMW_TT_ENV", "ext_uat_cert"),
            tt_app_key=_get(env, "REFMW_TT_APP_KEY"),
            tt_app_secret=_get(env, "REFMW_TT_APP_SECRET"),
            stripe_secrets=secrets,
            mutants=mutants,
            symbols=_symbols(env.get("REFMW_SYMBOLS") or DEFAULT_SYMBOLS),
            order_timeout_s=_float(env, "REFMW_ORDER_TIMEOUT_S", 3.0),
            watchdog_s=_float(env, "REFMW_WATCHDOG_S", 4.0),
            reconnect_interval_s=_float(env, "REFMW_RECONNECT_INTERVAL_S", 0.5),
            request_timeout_s=_float(env, "REFMW_REQUEST_TIMEOUT_S", 3.0),
            tt_poll_s=_float(env, "REFMW_TT_POLL_S", 2.0),
            tt_timeout_s=_float(env, "REFMW_TT_TIMEOUT_S", 5.0),
            stale_quote_s=_float(env, "REFMW_STALE_QUOTE_S", 3.0),
            quote_interval_s=_float(env, "REFMW_QUOTE_INTERVAL_MS", 1000.0, allow_zero=True) / 1000,
            notify_lanes=int(_float(env, "REFMW_NOTIFY_LANES", 8)),
            db_pool=int(_float(env, "REFMW_DB_POOL", 30)),
            keepalive_s=int(_float(env, "REFMW_KEEPALIVE_S", 75)),
            db_lock_timeout_ms=int(_float(env, "REFMW_DB_LOCK_TIMEOUT_MS", 1000, allow_zero=True)),
            db_statement_timeout_ms=int(_float(env, "REFMW_DB_STATEMENT_TIMEOUT_MS", 5000, allow_zero=True)),
            db_idle_in_tx_timeout_ms=int(
                _float(env, "REFMW_DB_IDLE_IN_TX_TIMEOUT_MS", 10_000, allow_zero=True)
            ),
            db_acquire_timeout_s=_float(env, "REFMW_DB_ACQUIRE_TIMEOUT_S", 2.0),
            db_connect_timeout_s=_float(env, "REFMW_DB_CONNECT_TIMEOUT_S", 2.0),
            db_request_timeout_s=_float(env, "REFMW_DB_REQUEST_TIMEOUT_S", 2.5),
            shutdown_grace_s=_float(env, "REFMW_SHUTDOWN_GRACE_S", 10.0),
            bad_release=_flag(env, "REFMW_BAD_RELEASE"),
            admin_key=_admin_key(env),
            admin_allow=_networks(env.get("REFMW_ADMIN_ALLOW") or "127.0.0.1"),
            rate_limit_rps=_float(env, "REFMW_RATE_LIMIT_RPS", 50.0),
            rate_limit_burst=_float(env, "REFMW_RATE_LIMIT_BURST", 100.0),
            max_body_bytes=int(_float(env, "REFMW_MAX_BODY_BYTES", 65_536)),
            secrets_file=secrets_file,
            secrets_poll_s=_float(env, "REFMW_SECRETS_POLL_S", 1.0),
            lifecycle=lifecycle,
            **_cqg(env),
        )

    def mutant(self, name: str) -> bool:
        return name in self.mutants

    @property
    def auth_on(self) -> bool:
        return bool(self.admin_key)

    def secrets(self) -> tuple[str, ...]:
        """Every credential this service holds, for the log's redaction (logsafe.py)."""
        from urllib.parse import urlsplit

        try:
            db_password = urlsplit(self.database_url).password or ""
        except ValueError:
            db_password = ""
        values = (
            self.admin_key,
            self.rithmic_password,
            self.tt_app_secret,
            self.cqg_password,
            *self.stripe_secrets,
            db_password,
            *(self.lifecycle.secrets() if self.lifecycle else ()),
        )
        return tuple(v for v in values if v)
