"""The target file's `[security]` table: what the security suite may assume about the middleware.

    [security]
    admin_allowlisted = "127.0.0.2"      # a loopback source its admin allowlist admits
    admin_not_allowlisted = "127.0.0.3"  # one it must refuse, whatever X-Forwarded-For says
    rate_limit_rps = 50                  # per key, as documented (optional): the flood is held to it

Both allowlist addresses are loopback aliases: the harness sends from them on this machine, so no
probe leaves loopback. Without them the allowlist scenario is not applicable, never passed."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from ..targetfields import Fields

ALLOWLIST_NEED = "security:allowlist"


@dataclass(frozen=True)
class SecuritySpec:
    admin_allowlisted: str | None = None
    admin_not_allowlisted: str | None = None
    rate_limit_rps: float | None = None

    def offers(self) -> tuple[str, ...]:
        return (ALLOWLIST_NEED,) if self.admin_allowlisted and self.admin_not_allowlisted else ()


def parse_security(table: Fields) -> SecuritySpec:
    allowed = _loopback(table, "admin_allowlisted")
    denied = _loopback(table, "admin_not_allowlisted")
    if (allowed is None) != (denied is None):
        missing = "admin_not_allowlisted" if denied is None else "admin_allowlisted"
        raise table.error(missing, "the allowlist is probed from both addresses: declare both, or neither")
    if allowed is not None and allowed == denied:
        raise table.error("admin_not_allowlisted", f"must differ from admin_allowlisted ({allowed})")
    rate = table.get("rate_limit_rps", (int, float))
    if rate is not None and (isinstance(rate, bool) or rate <= 0):
        raise table.error("rate_limit_rps", f"must be a positive number, got {rate!r}")
    table.no_unknown()
    return SecuritySpec(allowed, denied, float(rate) if rate is not None else None)


def _loopback(table: Fields, key: str) -> str | None:
    text = table.get(key, str)
    if text is None:
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise table.error(key, f"must be an IP address, got {text!r}") from None
    if not address.is_loopback or address.version != 4 or str(address) == "127.0.0.1":
        raise table.error(
            key, f"must be a loopback alias other than 127.0.0.1 (127.0.0.2 ... 127.255.255.254), got {text}"
        )
    return str(address)
