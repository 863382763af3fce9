"""The access-control parts that need no running service: the guard's safe 500 (no route of the
reference fails on purpose, so the guard is mounted on a small app whose route does), its route
roles and token buckets, credential parsing, the log's redaction, and the configuration."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reference_middleware.auth import ADMIN_PRINCIPAL, TRADER, Principal, bearer_token, principal
from reference_middleware.config import Config, ConfigError
from reference_middleware.guard import Guard, TokenBuckets, admin_only
from reference_middleware.logsafe import MASK, RedactingFormatter, redact

from .test_config import BASE

DSN_PASSWORD = "hunter2-db-password"


def _get(
    cfg: Config, path: str, headers: dict[str, str] | None = None, source: str = "127.0.0.1"
) -> httpx.Response:
    """One request to the guarded app, in process, from `source`."""

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=_app(cfg), client=(source, 50_000))
        async with httpx.AsyncClient(transport=transport, base_url="http://refmw") as http:
            return await http.get(path, headers=headers)

    return asyncio.run(call())


def _app(cfg: Config) -> Starlette:
    async def boom(request: Request) -> Response:
        raise RuntimeError(f"could not reach postgresql://refmw:{DSN_PASSWORD}@10.0.0.5/refmw")

    async def whoami(request: Request) -> Response:
        return JSONResponse({"role": principal(request).role})

    routes = [Route("/health", boom), Route("/v1/whoami", whoami)]
    return Starlette(routes=routes, middleware=[Middleware(Guard, cfg=cfg)])


def test_an_unhandled_exception_is_a_500_with_a_request_id_only(caplog: pytest.LogCaptureFixture) -> None:
    cfg = Config.from_env(BASE)
    with caplog.at_level(logging.ERROR, logger="refmw.guard"):
        answer = _get(cfg, "/health")
    assert answer.status_code == 500
    body = answer.json()
    assert set(body) == {"error", "request_id"} and body["error"] == "internal error"
    assert len(body["request_id"]) == 16
    assert (
        DSN_PASSWORD not in answer.text and "Traceback" not in answer.text and "postgresql" not in answer.text
    )
    # the traceback is the server's, under the same request id
    (record,) = [r for r in caplog.records if body["request_id"] in r.getMessage()]
    assert record.exc_info is not None and "RuntimeError" in caplog.text
    scrubbed = RedactingFormatter("%(message)s", (DSN_PASSWORD,)).format(record)
    assert "Traceback" in scrubbed and DSN_PASSWORD not in scrubbed


def test_the_stack_trace_mutant_shows_the_traceback() -> None:
    cfg = Config.from_env(dict(BASE, REFMW_MUTANTS="stack_trace_in_errors"))
    body = _get(cfg, "/health").json()
    assert "Traceback (most recent call last)" in body["detail"] and DSN_PASSWORD in body["detail"]


def test_with_authentication_off_every_caller_is_admin_from_anywhere() -> None:
    cfg = Config.from_env(BASE)  # no REFMW_ADMIN_KEY
    assert not cfg.auth_on
    assert _get(cfg, "/v1/whoami", source="10.9.9.9").json() == {"role": "admin"}
    on = Config.from_env(dict(BASE, REFMW_ADMIN_KEY="k" * 16))
    admin = {"Authorization": "Bearer " + "k" * 16}
    assert _get(on, "/v1/whoami").status_code == 401
    assert _get(on, "/v1/whoami", admin).json() == {"role": "admin"}
    assert _get(on, "/v1/whoami", admin, source="10.9.9.9").status_code == 403


def test_admin_only_routes() -> None:
    for method, path in (
        ("GET", "/v1/accounts"),
        ("GET", "/v1/accounts/"),
        ("PATCH", "/v1/accounts/ACC-1"),
        ("PATCH", "/v1/accounts/ACC-1/"),
        ("POST", "/v1/admin/api-keys"),
        ("DELETE", "/v1/admin/api-keys/key_1"),
        ("GET", "/v1/admin"),
    ):
        assert admin_only(method, path), (method, path)
    for method, path in (
        ("GET", "/v1/accounts/ACC-1"),
        ("GET", "/v1/accounts/ACC-1/pnl"),
        ("PATCH", "/v1/accounts/ACC-1/pnl"),
        ("POST", "/v1/orders"),
        ("GET", "/v1/administrator"),
    ):
        assert not admin_only(method, path), (method, path)


def test_a_token_bucket_allows_its_burst_then_its_rate() -> None:
    buckets = TokenBuckets()
    assert [buckets.take("k", 2.0, 3.0, now=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("k", 2.0, 3.0, now=0.0) == pytest.approx(0.5)  # one token every 0.5 s
    assert buckets.take("other", 2.0, 3.0, now=0.0) == 0.0  # a bucket per key
    assert buckets.take("k", 2.0, 3.0, now=0.5) == 0.0
    assert buckets.take("k", 2.0, 3.0, now=0.5) > 0
    assert [buckets.take("k", 2.0, 3.0, now=100.0) for _ in range(4)][-1] > 0  # refilled to the burst only


def test_bearer_tokens_are_parsed_strictly() -> None:
    assert bearer_token({"authorization": "Bearer abc.def"}) == "abc.def"
    assert bearer_token({"authorization": "bearer abc"}) == "abc"
    for bad in ("", "Bearer", "Bearer ", "Basic abc", "Bearer a b", "abc"):
        assert bearer_token({"authorization": bad}) is None, bad
    assert bearer_token({}) is None


def test_a_trader_owns_only_its_account() -> None:
    trader = Principal(TRADER, "key_1", "ACC-A")
    assert trader.owns("ACC-A") and not trader.owns("ACC-B") and not trader.owns(None)
    assert ADMIN_PRINCIPAL.owns("ACC-B") and ADMIN_PRINCIPAL.admin and not trader.admin


def test_the_log_is_scrubbed_of_secrets_and_credentials() -> None:
    text = (
        "login {'user': 'u', 'password': 'p4ss-w0rd'} Authorization: Bearer abc.DEF-123 "
        "dsn postgresql://refmw:dbpw@127.0.0.1/refmw admin k3y-of-admin!"
    )
    out = redact(text, ("k3y-of-admin!",))
    for secret in ("p4ss-w0rd", "abc.DEF-123", "dbpw", "k3y-of-admin!"):
        assert secret not in out, (secret, out)
    assert out.count(MASK) == 4 and "user" in out and "127.0.0.1" in out


def test_access_settings_are_parsed_and_checked() -> None:
    cfg = Config.from_env(dict(BASE, REFMW_ADMIN_KEY="a" * 16, REFMW_ADMIN_ALLOW="10.0.0.1, 192.168.0.0/24"))
    assert cfg.auth_on and [str(n) for n in cfg.admin_allow] == ["10.0.0.1/32", "192.168.0.0/24"]
    assert (cfg.rate_limit_rps, cfg.rate_limit_burst, cfg.max_body_bytes) == (50.0, 100.0, 65_536)
    assert "a" * 16 not in repr(cfg) and "whsec_a" not in repr(cfg)
    assert set(cfg.secrets()) == {"a" * 16, "p", "s", "whsec_a", "whsec_b"}
    with pytest.raises(ConfigError, match="REFMW_ADMIN_KEY must be at least 16") as short:
        Config.from_env(dict(BASE, REFMW_ADMIN_KEY="tooshort"))
    assert "tooshort" not in str(short.value)
    with pytest.raises(ConfigError, match="REFMW_ADMIN_ALLOW"):
        Config.from_env(dict(BASE, REFMW_ADMIN_ALLOW="localhost"))
    with pytest.raises(ConfigError, match="REFMW_RATE_LIMIT_RPS"):
        Config.from_env(dict(BASE, REFMW_RATE_LIMIT_RPS="0"))
