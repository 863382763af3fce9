"""`[adapter.auth]`: which credential each of the harness's calls carries.

A middleware with per-trader credentials cannot be judged with one service key: its object-level
scoping is exactly what the gate must see. So the target file declares two sets of headers, the
back office's (`admin`) and a trader's (`trader`, naming `{api_key}`), and an `issue_key` operation
that mints a trader's key for an account. The adapter asks for a key the first time it acts for an
account, keeps it, and sends it on that account's trader operations; the back office's headers go
on admin operations and on reads made for no particular account (a checker's order lookups).

    [adapter.auth]
    admin = { Authorization = "Bearer {env.API_ADMIN_KEY}" }
    trader = { Authorization = "Bearer {api_key}" }
    roles = { account = "trader" }   # optional: an operation's role, where the default is wrong
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from ..targetfields import Fields

Role = Literal["admin", "trader", "none"]
ROLES: tuple[Role, ...] = ("admin", "trader", "none")
# Who calls each operation, unless the target file says otherwise: a trader acts on its own account,
# the back office onboards, sets limits and mints keys, and health is anyone's.
DEFAULT_ROLES: dict[str, Role] = {
    "place_order": "trader",
    "order_status": "trader",
    "cancel_order": "trader",
    "positions": "trader",
    "quote": "trader",
    "account_pnl": "trader",
    "stream": "trader",
    "account": "admin",
    "accounts_for_customer": "admin",
    "set_limits": "admin",
    "route_account": "admin",
    "issue_key": "admin",
    "revoke_key": "admin",
    "payout": "admin",
    "lifecycle": "admin",
    "health": "none",
}
API_KEY = "api_key"  # the trader headers' placeholder: the key issue_key returned


@dataclass(frozen=True)
class AuthSpec:
    admin: dict[str, str] = field(default_factory=dict)
    trader: dict[str, str] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)

    def role(self, operation: str) -> Role:
        return self.roles.get(operation, DEFAULT_ROLES.get(operation, "none"))

    @property
    def per_trader(self) -> bool:
        """Whether traders carry keys of their own (minted by issue_key)."""
        return bool(self.trader)


def parse_auth(table: Fields, operations: tuple[str, ...]) -> AuthSpec | None:
    """None when the table is absent. `operations`: the names the adapter declares, so a role for
    an operation the file does not have is caught when the file is read."""
    if not table.data:
        return None
    admin = _headers(table, "admin", ())
    trader = _headers(table, "trader", (API_KEY,))
    if trader and not any(f"{{{API_KEY}}}" in value for value in trader.values()):
        raise table.error("trader", f"must carry the trader's key: name {{{API_KEY}}} in a header value")
    roles_table = table.table("roles")
    roles: dict[str, Role] = {}
    for name in list(roles_table.data):
        if name not in DEFAULT_ROLES:
            raise roles_table.error(name, f"unknown operation (known: {', '.join(DEFAULT_ROLES)})")
        value = roles_table.get(name, str, required=True)
        if value not in ROLES:
            raise roles_table.error(name, f"must be one of {', '.join(ROLES)}, got {value!r}")
        roles[name] = value
    roles_table.no_unknown()
    table.no_unknown()
    if not admin and not trader:
        raise table.error("admin", "declare the admin headers, the trader headers, or both")
    spec = AuthSpec(admin, trader, roles)
    if trader and "issue_key" not in operations:
        raise table.error(
            "trader", "per-trader keys need an issue_key operation that mints one for an account"
        )
    if not admin and any(spec.role(op) == "admin" for op in (*operations, "issue_key")):
        raise table.error("admin", "admin operations are declared, so the admin headers are required")
    return spec


def _headers(table: Fields, key: str, allowed: tuple[str, ...]) -> dict[str, str]:
    from .spec import _string_table  # one rule for every header table of [adapter]

    return _string_table(table, key, allowed)


class KeyRing:
    """Each account's trader key, minted once by `mint` and kept; thread-safe (the gate's traders
    are threads). A failed mint is not kept: the next call tries again."""

    def __init__(self, mint: Callable[[str], tuple[str | None, str]]) -> None:
        self._mint = mint
        self._keys: dict[str, str] = {}
        self._lock = threading.Lock()
        self._minting: dict[str, threading.Lock] = {}

    def key(self, account: str) -> tuple[str | None, str]:
        """(key, "") or (None, why not)."""
        with self._lock:
            found = self._keys.get(account)
            if found is not None:
                return found, ""
            gate = self._minting.setdefault(account, threading.Lock())
        with gate:  # one mint per account, however many threads ask at once
            with self._lock:
                if account in self._keys:
                    return self._keys[account], ""
            key, why = self._mint(account)
            if key is not None:
                with self._lock:
                    self._keys[account] = key
            return key, why

    def known(self) -> dict[str, str]:
        with self._lock:
            return dict(self._keys)
