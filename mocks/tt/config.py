"""The TT mock's settings: credentials, token lifetime, usage plan, gateway quirks.

Everything a scenario may want to change at run time is here, and can be patched through the
control API (`POST /tt/config`). Facts marked unverified in venues.md (the 429 body, the POST
spacing) are plain settings so a scenario can match whatever the real gateway turns out to do.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from mocks.common import FaultError

ENVIRONMENTS = ("ext_uat_cert", "ext_prod_live")

# Requests per second and per day for each TT usage plan (gs-before.html).
PLANS: dict[str, tuple[int, int]] = {
    "free": (3, 10_000),
    "low": (5, 15_000),
    "medium": (10, 30_000),
    "high": (25, 75_000),
}

SERVICES = ("ttid", "ttpds", "ttledger", "ttmonitor", "ttsetup", "ttuser", "ttaccount", "ttgroup")


def _guid(rng: random.Random) -> str:
    return "-".join("".join(rng.choice("0123456789abcdef") for _ in range(n)) for n in (8, 4, 4, 4, 12))


def seeded_credentials(seed: int) -> tuple[str, str]:
    """An app key (a GUID, as TT Setup shows it) and its secret, fixed by the seed."""
    rng = random.Random(f"tt-credentials-{seed}")
    key = _guid(rng)
    return key, _guid(rng)


def rotated_secret(seed: int, generation: int) -> str:
    """The app secret after `generation` (1 and up) rotations, fixed by the seed; the key stays."""
    return _guid(random.Random(f"tt-credentials-{seed}-gen{generation}"))


@dataclass
class TTConfig:
    env: str = "ext_uat_cert"
    app_key: str = ""
    app_secret: str = ""
    token_ttl_s: float = 7200.0
    plan: str = "free"
    rate_per_s: int | None = None  # overrides the plan's requests/s
    rate_per_day: int | None = None  # overrides the plan's requests/day
    rate_limit_status: int = 429
    # Unverified: TT does not document its throttling answer; AWS API Gateway's is this.
    rate_limit_body: Any = field(default_factory=lambda: {"message": "Too Many Requests"})
    rate_limit_retry_after: int | None = None
    redirect: bool = False  # 303 every GET once before serving it
    post_min_interval_s: float = 0.0  # TT asks for a pause between POSTs; 0 disables the check
    post_max_items: int = 20
    page_size: int = 500

    @property
    def limits(self) -> tuple[int, int]:
        per_s, per_day = PLANS[self.plan]
        return (
            self.rate_per_s if self.rate_per_s is not None else per_s,
            self.rate_per_day if self.rate_per_day is not None else per_day,
        )

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["app_secret"] = "***"
        out["limits"] = {"per_second": self.limits[0], "per_day": self.limits[1]}
        return out

    def patch(self, body: Any) -> None:
        """Apply a control-API patch; a FaultError names the first bad field, and nothing changes.
        The secret is read-only here: it changes only by rotation (POST /tt/credentials/rotate)."""
        if not isinstance(body, dict):
            raise FaultError("body", "must be a JSON object")
        known = {f.name for f in fields(self)} - {"app_key", "app_secret", "env"}
        checked: dict[str, Any] = {}
        for name, value in body.items():
            if name not in known:
                raise FaultError(name, "unknown or read-only setting")
            checked[name] = _check_setting(name, value)
        for name, value in checked.items():
            setattr(self, name, value)


def _check_setting(name: str, value: Any) -> Any:
    def number(minimum: float) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= minimum:
            raise FaultError(name, f"must be a number >= {minimum}")
        if value > 1e9:
            raise FaultError(name, "is too large")
        return float(value)

    def integer(minimum: int, maximum: int = 10**9, optional: bool = False) -> int | None:
        if optional and value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            raise FaultError(name, f"must be an integer in [{minimum}, {maximum}]")
        return value

    if name == "token_ttl_s":
        if number(0.001) > 86_400 * 365:
            raise FaultError(name, "is too large")
        return float(value)
    if name == "post_min_interval_s":
        return number(0.0)
    if name == "plan":
        if not isinstance(value, str) or value not in PLANS:
            raise FaultError(name, f"must be one of {', '.join(PLANS)}")
        return value
    if name in ("rate_per_s", "rate_per_day"):
        return integer(1, optional=True)
    if name == "rate_limit_status":
        return integer(400, 599)
    if name == "rate_limit_retry_after":
        return integer(0, 86_400, optional=True)
    if name == "redirect":
        if not isinstance(value, bool):
            raise FaultError(name, "must be true or false")
        return value
    if name == "post_max_items":
        return integer(1, 10_000)
    if name == "page_size":
        return integer(1, 100_000)
    return value  # rate_limit_body: any JSON value
