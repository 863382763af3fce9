"""credentials_rotated judges the venues' own authentications after the old credential's grace: the
old one used, or the new one refused, fails; nothing after the grace is no evidence, never a pass."""

from __future__ import annotations

from typing import Any

from harness.checks import CHECKERS, Deployment

from .conftest import MakeCtx

UNTIL = 1_000.0


def _rotation(venue: str, credential: str) -> dict[str, Any]:
    return {
        "venue": venue,
        "credential": credential,
        "generation": 1,
        "rotated_at": UNTIL - 2,
        "valid_until": UNTIL,
        "source_written_at": UNTIL - 1.9,
    }


ROTATIONS = [
    _rotation("rithmic", "password"),
    _rotation("tt", "app_secret"),
    _rotation("stripe", "webhook_secret"),
]


def _login(at: float, credential: str, kind: str = "login") -> dict[str, Any]:
    return {"kind": kind, "ts": UNTIL + at, "user": "uat-trader", "credential": credential, "generation": 1}


def _token(at: float, credential: str, status: int) -> dict[str, Any]:
    return {"kind": "token_request", "ts": UNTIL + at, "credential": credential, "status": status}


def _delivery(at: float, status: int, faults: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "kind": "delivery",
        "ts": UNTIL + at,
        "status": status,
        "faults": list(faults),
        "signed_with": [1],
    }


def _judge(make_ctx: MakeCtx, seen: dict[str, list[dict[str, Any]]], **kw: Any) -> Any:
    ctx = make_ctx(extras={"rotations": ROTATIONS, "auth_events": seen}, **kw)
    return CHECKERS["credentials_rotated"](ctx)


HEALTHY = {
    # during the grace the old password still works: that is allowed
    "rithmic": [_login(-1.0, "previous"), _login(0.5, "current")],
    "tt": [_token(0.6, "current", 200)],
    "stripe": [_delivery(0.7, 200), _delivery(0.8, 400, ("bad_signature",))],
}


def test_every_credential_taken_up_passes(make_ctx: MakeCtx) -> None:
    verdict = _judge(make_ctx, HEALTHY)
    assert verdict.status == "passed", verdict
    assert "rithmic password (generation 1: 1 login(s))" in verdict.summary
    assert [e["outcome"] for e in verdict.evidence] == ["taken up"] * 3


def test_skipped_when_nothing_was_rotated(make_ctx: MakeCtx) -> None:
    verdict = CHECKERS["credentials_rotated"](make_ctx(extras={}))
    assert verdict.status == "skipped"


def test_no_authentication_after_the_grace_is_no_evidence(make_ctx: MakeCtx) -> None:
    verdict = _judge(make_ctx, {**HEALTHY, "tt": [_token(-0.5, "previous", 200)]})
    assert verdict.status == "no_evidence", verdict
    assert "no token request reached tt" in verdict.summary
    assert _judge(make_ctx, {}).status == "no_evidence"


def test_the_old_password_after_its_grace_fails(make_ctx: MakeCtx) -> None:
    seen = {
        **HEALTHY,
        "rithmic": [_login(0.5, "revoked", "login_rejected"), _login(1.5, "revoked", "login_rejected")],
    }
    verdict = _judge(make_ctx, seen)
    assert verdict.status == "failed" and verdict.category == "credential handling"
    assert "rithmic: 2 login(s) after the old password expired" in verdict.summary
    assert "first 0.5 s after the grace" in verdict.summary
    rithmic = verdict.evidence[0]
    assert rithmic["outcome"] == "stale" and [e["after_grace_s"] for e in rithmic["stale"]] == [0.5, 1.5]


def test_a_genuine_delivery_refused_after_the_grace_fails(make_ctx: MakeCtx) -> None:
    verdict = _judge(make_ctx, {**HEALTHY, "stripe": [_delivery(0.7, 400)]})
    assert verdict.status == "failed", verdict
    assert "stripe: 1 webhook delivery(s)" in verdict.summary


def test_a_token_refused_with_the_old_secret_fails_even_after_a_later_success(make_ctx: MakeCtx) -> None:
    seen = {**HEALTHY, "tt": [_token(0.2, "revoked", 401), _token(0.6, "current", 200)]}
    assert _judge(make_ctx, seen).status == "failed"


def test_a_redeployed_middleware_proves_nothing(make_ctx: MakeCtx) -> None:
    restart = Deployment("graceful", signalled_at=1.0, exit_code=0, exited_at=1.5, ready_at=2.0)
    verdict = _judge(make_ctx, HEALTHY, deployments=[restart])
    assert verdict.status == "no_evidence" and "redeployed" in verdict.summary
