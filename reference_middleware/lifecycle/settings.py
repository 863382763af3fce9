"""The lifecycle's settings: on only when REFMW_ZAPIER_HOOK_URL is set, and then all of them.

REFMW_ZAPIER_HOOK_URL        the Zap's catch hook that starts a funded trader's contract
REFMW_DOCUSIGN_URL, _ACCOUNT, _TOKEN   the eSignature REST API (bearer token), to poll and void envelopes
REFMW_DOCUSIGN_HMAC_KEYS     Connect's HMAC keys, comma-separated (two during a rotation)
REFMW_DOCUSIGN_POLL_S (2)    how often envelopes still out for signature are polled
REFMW_MT5_URL, _LOGIN, _PASSWORD   the MT5 Manager Web API; REFMW_MT5_GROUP (real\\funded) for new users,
                             REFMW_MT5_LOGIN_FIRST (510000) the first login this service reserves
REFMW_RIPPLING_URL, _TOKEN   payroll
REFMW_LIFECYCLE_TIMEOUT_S (5) bounds every call the lifecycle makes; REFMW_LIFECYCLE_RETRY_MAX_S (30)
                             caps the backoff between retries of a failing step
"""

from __future__ import annotations

from dataclasses import dataclass, field

HOOK = "REFMW_ZAPIER_HOOK_URL"


class LifecycleConfigError(ValueError):
    """A missing or malformed lifecycle setting; the message names it (config.py re-raises it)."""


def _required(env: dict[str, str], name: str) -> str:
    value = (env.get(name) or "").strip()
    if not value:
        raise LifecycleConfigError(f"{name} is required when {HOOK} is set")
    return value


def _number(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name) or ""
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise LifecycleConfigError(f"{name} must be a number, got {raw!r}") from None
    if value <= 0:
        raise LifecycleConfigError(f"{name} must be positive, got {raw!r}")
    return value


def _integer(env: dict[str, str], name: str, default: int | None = None) -> int:
    raw = env.get(name) or ""
    if not raw and default is not None:
        return default
    raw = _required(env, name)
    if not raw.isdigit():
        raise LifecycleConfigError(f"{name} must be a positive integer, got {raw!r}")
    return int(raw)


@dataclass(frozen=True)
class LifecycleConfig:
    hook_url: str = field(repr=False)  # a catch hook's URL is its credential
    docusign_url: str
    docusign_account: str
    docusign_token: str = field(repr=False)
    docusign_hmac_keys: tuple[str, ...] = field(repr=False)
    mt5_url: str
    mt5_login: int
    mt5_password: str = field(repr=False)
    rippling_url: str
    rippling_token: str = field(repr=False)
    mt5_group: str = "real\\funded"
    mt5_login_first: int = 510_000
    docusign_poll_s: float = 2.0
    timeout_s: float = 5.0
    retry_max_s: float = 30.0

    @classmethod
    def from_env(cls, env: dict[str, str]) -> LifecycleConfig | None:
        hook = (env.get(HOOK) or "").strip()
        if not hook:
            return None
        keys = tuple(k.strip() for k in _required(env, "REFMW_DOCUSIGN_HMAC_KEYS").strip("[] ").split(","))
        keys = tuple(k.strip("'\" ") for k in keys if k.strip("'\" "))
        if not keys:
            raise LifecycleConfigError("REFMW_DOCUSIGN_HMAC_KEYS must name at least one key")
        return cls(
            hook_url=hook,
            docusign_url=_required(env, "REFMW_DOCUSIGN_URL").rstrip("/"),
            docusign_account=_required(env, "REFMW_DOCUSIGN_ACCOUNT"),
            docusign_token=_required(env, "REFMW_DOCUSIGN_TOKEN"),
            docusign_hmac_keys=keys,
            mt5_url=_required(env, "REFMW_MT5_URL").rstrip("/"),
            mt5_login=_integer(env, "REFMW_MT5_LOGIN"),
            mt5_password=_required(env, "REFMW_MT5_PASSWORD"),
            rippling_url=_required(env, "REFMW_RIPPLING_URL").rstrip("/"),
            rippling_token=_required(env, "REFMW_RIPPLING_TOKEN"),
            mt5_group=(env.get("REFMW_MT5_GROUP") or "real\\funded").strip(),
            mt5_login_first=_integer(env, "REFMW_MT5_LOGIN_FIRST", 510_000),
            docusign_poll_s=_number(env, "REFMW_DOCUSIGN_POLL_S", 2.0),
            timeout_s=_number(env, "REFMW_LIFECYCLE_TIMEOUT_S", 5.0),
            retry_max_s=_number(env, "REFMW_LIFECYCLE_RETRY_MAX_S", 30.0),
        )

    def secrets(self) -> tuple[str, ...]:
        return (
            self.hook_url,
            self.docusign_token,
            *self.docusign_hmac_keys,
            self.mt5_password,
            self.rippling_token,
        )
