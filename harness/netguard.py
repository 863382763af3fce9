"""The harness's one rule about the network: loopback, or hosts a target file allowlists.

Every place that is about to send load or faults somewhere asks `check_host` first.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable


class TargetRefused(ValueError):
    """Faults and load go to loopback or allowlisted hosts only."""


LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_host(host: str, allowlist: Iterable[str] = (), *, what: str = "target") -> None:
    """Raise TargetRefused unless `host` is loopback or named in `allowlist`."""
    allowed = {h.strip("[]").lower() for h in allowlist}
    if is_loopback(host) or host.strip("[]").lower() in allowed:
        return
    raise TargetRefused(
        f"refusing {what} {host!r}: only loopback or hosts allowlisted in the target file may be "
        f"targeted (allowlist: {sorted(allowed) or 'empty'})"
    )


def split_host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)
