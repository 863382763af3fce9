"""The probe sets, one per security question, each built from the target's declared operations:
whatever its API looks like, the same questions are asked of every operation it declares.

- authentication: every credentialed operation without a credential, with a wrong one, with a
  revoked key and with an expired key must get 401;
- roles: a trader's key on the back office's operations must be refused;
- object_access: trader A's key on trader B's orders, positions, account and P&L, and an order
  placed on B's account, must be refused, and B's order must stay as it was at the venue;
- allowlist: the back office's credential from an allowlisted loopback source is served, from
  any other it is refused, whatever X-Forwarded-For, Forwarded or X-Real-IP claim;
- errors: malformed, mistyped, oversized and odd requests get a 4xx, never a 5xx or internals."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..adapters import HttpAdapter, HttpApi
from .probes import Probe, Sender

RESTING_PRICE = 6000.0  # a buy far below the seeded market: it rests, so a cancel has something to cancel
EXPIRED_TTL_S = 1.0
OVERSIZED = 1 << 20  # a 1 MiB body: bigger than any order or limit an API should take
NO_OBJECT = "uat-no-such-object"


@dataclass(frozen=True)
class Party:
    """A trader the probes act as, or against: its account, Stripe customer, key and resting order."""

    account: str
    customer: str
    key: str | None
    order: str  # the client_order_id of its resting limit order


@dataclass
class ProbeRun:
    sender: Sender
    adapter: HttpAdapter
    a: Party
    b: Party | None
    symbol: str
    tag: str  # the prefix of every client_order_id a probe places (seeded, unique to the run)
    probes: list[Probe] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # what could not be probed, and why

    @property
    def api(self) -> HttpApi:
        return self.adapter.api

    def operations(self, *roles: str) -> list[str]:
        return [op for op in self.api.operations() if self.api.auth.role(op) in roles and op != "revoke_key"]

    def args(self, party: Party, operation: str, suffix: str) -> dict[str, Any]:
        """Arguments that name real objects of `party`, so that only the credential decides."""
        return {
            "account": party.account,
            "customer": party.customer,
            "client_order_id": party.order if operation != "place_order" else f"{self.tag}-{suffix}"[:60],
            "symbol": self.symbol,
            "side": "BUY",
            "qty": 1,
            "order_type": "LIMIT",
            "limit_price": RESTING_PRICE,
            "max_order_qty": 25,
            "max_position": 50,
            "daily_loss_limit": 25_000.0,
            "key_id": NO_OBJECT,
            "ttl_s": None,
        }

    def send(self, group: str, name: str, operation: str, args: dict[str, Any], **kw: Any) -> Probe:
        probe = self.sender.probe(group, name, operation, args, **kw)
        self.probes.append(probe)
        return probe

    def own(self, operation: str) -> dict[str, Any]:
        """How A acts as itself: its own key on a trader operation, the back office's otherwise."""
        if self.a.key and self.api.auth.role(operation) == "trader":
            return {"credential": "trader A", "key": self.a.key}
        return {"credential": "admin"}


def authentication(run: ProbeRun) -> None:
    auth = run.api.auth
    expired: tuple[str, float] | None = None
    if not auth.per_trader:
        run.skipped["revoked and expired keys"] = (
            "the target file declares no per-trader keys ([adapter.auth] trader)"
        )
    elif not _takes_ttl(run):
        run.skipped["expired key"] = (
            "the issue_key operation names no {ttl_s}: no key with a lifetime can be asked for"
        )
    else:
        minted = run.adapter.issue_key(run.a.account, ttl_s=EXPIRED_TTL_S)
        if minted.key is None:
            run.skipped["expired key"] = f"issue_key with ttl_s answered {minted.error or minted.status}"
        else:
            expired = (minted.key.key, time.monotonic() + EXPIRED_TTL_S + 1.0)
    credentials: list[tuple[str, str | None]] = [("none", None)]
    if run.sender.headers_for("wrong", "") != {}:
        credentials.append(("wrong", None))
    revoked = _revoked_key(run) if auth.per_trader else None
    if revoked is not None:
        credentials.append(("revoked", revoked))
    for credential, key in credentials:
        _every_operation(run, credential, key)
    if expired is not None:
        time.sleep(max(0.0, expired[1] - time.monotonic()))
        _every_operation(run, "expired", expired[0])


def _every_operation(run: ProbeRun, credential: str, key: str | None) -> None:
    streamed = run.sender.stream_probe(
        "authentication",
        f"{credential} credential: stream",
        run.a.account,
        (run.symbol,),
        credential=credential,
        key=key,
    )
    if streamed is not None:
        run.probes.append(streamed)
    for operation in run.operations("trader", "admin"):
        run.send(
            "authentication",
            f"{credential} credential: {operation}",
            operation,
            run.args(run.a, operation, f"auth-{credential}"),
            credential=credential,
            key=key,
            expect="401",
        )


def _takes_ttl(run: ProbeRun) -> bool:
    op = run.api.spec.operations.get("issue_key")
    return op is not None and "{ttl_s}" in json.dumps([op.path, op.query, op.body])


def _revoked_key(run: ProbeRun) -> str | None:
    if not run.api.supports("revoke_key"):
        run.skipped["revoked key"] = "the target file declares no revoke_key operation"
        return None
    minted = run.adapter.issue_key(run.a.account)
    if minted.key is None or not minted.key.key_id:
        run.skipped["revoked key"] = f"issue_key gave no key_id to revoke ({minted.error or minted.status})"
        return None
    revoked = run.adapter.revoke_key(minted.key.key_id)
    if not revoked.ok:
        # the back office could not revoke a key: the middleware's failure, shown as a probe
        probe = Probe("authentication", "revoke a key", "revoke_key", "", "", "admin", "2xx")
        probe.status, probe.body, probe.error = revoked.status, str(revoked.body)[:600], revoked.error
        run.probes.append(probe)
        return None
    return minted.key.key


def roles(run: ProbeRun) -> None:
    if run.a.key is None or run.b is None:
        run.skipped["roles"] = "the target file declares no per-trader keys ([adapter.auth] trader)"
        return
    for operation in run.operations("admin"):
        run.send(
            "roles",
            f"trader A's key on the back office's {operation} (for B)",
            operation,
            run.args(run.b, operation, "role"),
            credential="trader A",
            key=run.a.key,
            expect="refused",
        )


def object_access(run: ProbeRun) -> None:
    b = run.b
    if run.a.key is None or b is None:
        run.skipped["object access"] = "the target file declares no per-trader keys ([adapter.auth] trader)"
        return
    for operation in run.operations("trader"):
        if operation == "quote":
            continue  # market data is no trader's object
        run.send(
            "object_access",
            f"trader A's key: {operation} of B's" + (" account" if operation == "place_order" else ""),
            operation,
            run.args(b, operation, "idor-place"),
            credential="trader A",
            key=run.a.key,
            expect="refused",
        )
    if "place_order" in run.operations("trader"):
        # A re-uses B's client_order_id on its own account: it may be refused, or taken as A's own
        # new order, but B's order must never come back through idempotency.
        args = run.args(run.a, "place_order", "reuse") | {"client_order_id": b.order}
        probe = run.send(
            "object_access",
            "trader A places with B's client_order_id",
            "place_order",
            args,
            credential="trader A",
            key=run.a.key,
            expect="answered",
        )
        probe.order_tag = ""  # the tag is B's own order, which is at the venue by design
        probe.must_not_show = b.account


def allowlist(run: ProbeRun, allowed: str, denied: str) -> None:
    admin_ops = [
        op for op in ("accounts_for_customer", "account", "set_limits") if op in run.operations("admin")
    ]
    if not admin_ops:
        run.skipped["allowlist"] = "the target file declares no back-office operation to try"
        return
    operation = admin_ops[0]
    args = run.args(run.a, operation, "allow")
    spoofs: list[tuple[str, dict[str, str]]] = [
        ("", {}),
        (f"X-Forwarded-For: {allowed}", {"X-Forwarded-For": allowed}),
        ("X-Forwarded-For: 127.0.0.1", {"X-Forwarded-For": "127.0.0.1"}),
        (f"Forwarded: for={allowed}", {"Forwarded": f"for={allowed}"}),
        (f"X-Real-IP: {allowed}", {"X-Real-IP": allowed}),
    ]
    run.send(
        "allowlist",
        f"admin {operation} from {allowed}",
        operation,
        args,
        credential="admin",
        source=allowed,
        expect="2xx",
    )
    for shown, headers in spoofs:
        name = f"admin {operation} from {denied}" + (f", claiming {shown}" if shown else "")
        run.send(
            "allowlist",
            name,
            operation,
            args,
            credential="admin",
            source=denied,
            extra_headers=headers,
            expect="refused",
        )


def errors(run: ProbeRun) -> None:
    bodies: list[tuple[str, Callable[[dict[str, Any]], bytes]]] = [
        ("a body that is not JSON", lambda _: b'{"account": '),
        ("every field an object", lambda body: json.dumps({k: {"$gt": ""} for k in body}).encode()),
        ("every field a huge number", lambda body: json.dumps({k: 10**400 for k in body}).encode()),
        ("a 1 MiB body", lambda _: b'{"pad": "' + b"x" * OVERSIZED + b'"}'),
    ]
    for operation in run.operations("trader", "admin"):
        spec = run.api.spec.operations[operation]
        if spec.body is None:
            continue
        rendered = run.api.request(operation, run.args(run.a, operation, "err")).json or {}
        for what, make in bodies:
            run.send(
                "errors",
                f"{what}: {operation}",
                operation,
                run.args(run.a, operation, "err"),
                content=make(rendered if isinstance(rendered, dict) else {}),
                expect="answered",
                **run.own(operation),
            )
    odd = {
        "a path climbing out": "../../../../etc/passwd",
        "a 4 KB id": "x" * 4096,
        "control characters": "\u202e\u0007<x>",
    }
    for operation in ("order_status", "cancel_order"):
        if operation not in run.api.operations():
            continue
        for what, value in odd.items():
            args = run.args(run.a, operation, "odd") | {"client_order_id": value}
            run.send(
                "errors", f"{what}: {operation}", operation, args, expect="answered", **run.own(operation)
            )


GROUPS: dict[str, Callable[[ProbeRun], None]] = {
    "authentication": authentication,
    "roles": roles,
    "object_access": object_access,
    "errors": errors,
}
