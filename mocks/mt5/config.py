"""The MT5 mock's settings: manager logins and passwords, the login range, body size, TLS.

Defaults: one manager, login 1000, password `Manager#1000`; new users get logins from 500000 to
599999 (the seeded users take the first ones). `POST /mt5/config` patches them at run time:
`{"managers": {"1001": "pässwörd"}}` adds or changes a manager (a null password removes one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mocks.common import FaultError

DEFAULT_MANAGER = 1000
DEFAULT_PASSWORD = "Manager#1000"
_LOGIN = re.compile(r"[0-9]{1,19}")


@dataclass
class MT5Config:
    managers: dict[int, str] = field(default_factory=lambda: {DEFAULT_MANAGER: DEFAULT_PASSWORD})
    login_first: int = 500_000
    login_last: int = 599_999
    seeded_users: int = 3
    max_body_bytes: int = 64 * 1024  # fixed when the app is built: not patchable
    tls: bool = False  # fixed at start: not patchable

    def to_json(self) -> dict[str, Any]:
        return {
            "managers": {str(login): "***" for login in self.managers},
            "login_first": self.login_first,
            "login_last": self.login_last,
            "seeded_users": self.seeded_users,
            "max_body_bytes": self.max_body_bytes,
            "tls": self.tls,
        }

    def patch(self, body: Any) -> None:
        """Apply a control-API patch; a FaultError names the first bad field, and nothing changes."""
        if not isinstance(body, dict):
            raise FaultError("body", "must be a JSON object")
        managers = dict(self.managers)
        first, last = self.login_first, self.login_last
        for name, value in body.items():
            if name == "managers":
                _patch_managers(managers, value)
            elif name in ("login_first", "login_last"):
                if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**63:
                    raise FaultError(name, "must be a positive integer login")
                first, last = (value, last) if name == "login_first" else (first, value)
            else:
                raise FaultError(name, "unknown or read-only setting")
        if first > last:
            raise FaultError("login_last", "must not be below login_first")
        if not managers:
            raise FaultError("managers", "at least one manager must remain")
        self.managers, self.login_first, self.login_last = managers, first, last


def _patch_managers(managers: dict[int, str], value: Any) -> None:
    if not isinstance(value, dict):
        raise FaultError("managers", "must be an object of login -> password (null removes)")
    for raw, password in value.items():
        if not _LOGIN.fullmatch(raw) or int(raw) < 1:
            raise FaultError(f"managers.{raw}", "is not a login")
        if password is None:
            managers.pop(int(raw), None)
        elif isinstance(password, str) and 0 < len(password) <= 64:
            managers[int(raw)] = password
        else:
            raise FaultError(f"managers.{raw}", "password must be a string of 1 to 64 characters, or null")
