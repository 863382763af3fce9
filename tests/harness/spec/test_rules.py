"""Each rule on hand-built specs: what it looks at, what it flags and where, and what it leaves alone."""

from __future__ import annotations

from typing import Any

import pytest

from harness.spec import RULES
from harness.spec.model import Rule
from harness.spec.rules import is_money

BY_ID = {rule.id: rule for rule in RULES}
ERROR = {"description": "e", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/E"}}}}
RATE_LIMITED = {**ERROR, "headers": {"Retry-After": {"schema": {"type": "integer"}}}}
ANSWERS = {"401": ERROR, "403": ERROR, "429": RATE_LIMITED, "503": ERROR}


def _spec(paths: dict[str, Any], schemas: dict[str, Any] | None = None, **root: Any) -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "security": [{"ApiKey": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
            "schemas": {
                "E": {"type": "object", "properties": {"code": {"type": "string"}}},
                **(schemas or {}),
            },
        },
        **root,
    }


def _op(**fields: Any) -> dict[str, Any]:
    return {"responses": {"200": {"description": "ok"}, **ANSWERS}, **fields}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _check(rule: str, doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f.location, f.severity) for f in BY_ID[rule].check(doc)]


def _scope(rule: str, doc: dict[str, Any]) -> list[str]:
    return list(BY_ID[rule].scope(doc))


def test_every_rule_is_declared_with_its_why_and_fix() -> None:
    assert [r.id for r in RULES] == [
        "has-operations", "idempotency-key", "auth-responses", "security-scheme", "error-schema",
        "decimal-money", "pagination", "webhook-signature",
    ]  # fmt: skip
    for rule in RULES:
        assert isinstance(rule, Rule) and rule.severity in ("blocker", "major", "minor")
        assert rule.title and rule.why and rule.fix and (rule.absent or not rule.reads_operations)


# -- idempotency-key


@pytest.mark.parametrize(
    "keyed",
    [
        {"parameters": [{"name": "idempotency-key", "in": "header", "required": True, "schema": {}}]},
        {"requestBody": _body({"type": "object", "required": ["clientOrderId"]})},
        {"requestBody": _body({"allOf": [{"$ref": "#/components/schemas/Keyed"}, {"type": "object"}]})},
        {"requestBody": _body({"oneOf": [{"required": ["ClOrdID", "a"]}, {"required": ["ClOrdID"]}]})},
    ],
    ids=["header", "camelCase-body", "allOf-ref", "every-oneOf-branch"],
)
def test_an_order_placement_with_a_key_passes(keyed: dict[str, Any]) -> None:
    keyed_schema = {"Keyed": {"required": ["idempotency_key"]}}
    doc = _spec({"/v1/orders": {"post": _op(**keyed)}}, keyed_schema)
    assert _scope("idempotency-key", doc) == ["#/paths/~1v1~1orders/post"]
    assert _check("idempotency-key", doc) == []


def test_an_order_placement_without_a_required_key_is_a_blocker() -> None:
    optional = {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}}
    body = _body({"oneOf": [{"required": ["client_order_id"]}, {"required": ["symbol"]}]})
    doc = _spec({"/v1/accounts/{id}/orders": {"post": _op(parameters=[optional], requestBody=body)}})
    found = BY_ID["idempotency-key"].check(doc)
    assert [(f.location, f.severity) for f in found] == [
        ("#/paths/~1v1~1accounts~1{id}~1orders/post", "blocker")
    ]
    assert "(the `Idempotency-Key` header is declared but not required)" in found[0].message


def test_what_counts_as_placing_an_order() -> None:
    post = _op()
    doc = _spec(
        {
            "/v1/orders": {"post": post, "get": post},  # yes; a GET never places
            "/v1/bracket_orders": {"post": post},  # yes: the last segment names orders
            "/v1/trade": {"post": _op(operationId="submitOrder")},  # yes: by operationId
            "/v1/x": {"post": _op(summary="Place a new order")},  # yes: by summary
            "/v1/orders/{id}/cancel": {"post": post},  # no: acts on an order that exists
            "/v1/orders/{id}/replace": {"post": post},
            "/v1/orders/preview": {"post": post},
            "/v1/orderbook": {"post": post},  # no: not an order
            "/v1/y": {"post": _op(summary="Cancel the order")},
            "/v1/webhooks/orders": {"post": post},  # no: a partner's webhook
        }
    )
    assert _scope("idempotency-key", doc) == [
        "#/paths/~1v1~1orders/post", "#/paths/~1v1~1bracket_orders/post", "#/paths/~1v1~1trade/post",
        "#/paths/~1v1~1x/post",
    ]  # fmt: skip


def test_an_order_keyed_by_its_path_needs_no_other_key() -> None:
    param = {"name": "client_order_id", "in": "path", "required": True, "schema": {"type": "string"}}
    doc = _spec({"/v1/orders/{client_order_id}": {"post": _op(summary="Place an order", parameters=[param])}})
    assert _scope("idempotency-key", doc) and _check("idempotency-key", doc) == []


# -- auth-responses and security-scheme


def test_missing_auth_answers_are_a_blocker_missing_rate_limit_answers_a_major() -> None:
    no_403 = {"responses": {k: v for k, v in ANSWERS.items() if k != "403"}}
    bare_429 = {"responses": {**ANSWERS, "429": ERROR}}
    doc = _spec({"/v1/a": {"get": no_403, "put": bare_429}})
    found = BY_ID["auth-responses"].check(doc)
    assert [(f.location, f.severity, f.message) for f in found] == [
        ("#/paths/~1v1~1a/get", "blocker", "GET /v1/a does not document 403"),
        ("#/paths/~1v1~1a/put", "major", "PUT /v1/a does not document a Retry-After header on 429"),
    ]


def test_health_checks_and_webhook_receivers_need_fewer_answers() -> None:
    bare = {"security": [], "responses": {"200": {"description": "ok"}}}
    doc = _spec({"/healthz": {"get": bare}, "/status": {"get": {**bare, "tags": ["Health"]}},
                 "/v1/webhooks/stripe": {"post": bare}})  # fmt: skip
    assert _scope("auth-responses", doc) == ["#/paths/~1v1~1webhooks~1stripe/post"]
    assert [f.message for f in BY_ID["auth-responses"].check(doc)] == [
        "POST /v1/webhooks/stripe does not document 503"
    ]
    assert _scope("security-scheme", doc) == ["#/security"]  # only the root's schemes are left to judge


def test_an_anonymous_alternative_or_an_undefined_scheme_is_a_blocker() -> None:
    doc = _spec(
        {
            "/v1/a": {"get": _op(security=[{}, {"ApiKey": []}])},
            "/v1/b": {"get": _op()},  # the root's security covers it
            "/v1/c": {"get": _op(security=[{"Bearer": []}])},
        }
    )
    found = BY_ID["security-scheme"].check(doc)
    assert [(f.location, f.message) for f in found] == [
        ("#/paths/~1v1~1a/get",
         "GET /v1/a can be called without credentials: an empty requirement `{}` in "
         "#/paths/~1v1~1a/get/security lets anonymous callers in"),
        ("#/paths/~1v1~1c/get/security/0",
         "security scheme `Bearer` is not defined in components.securitySchemes"),
    ]  # fmt: skip


def test_no_security_anywhere_flags_every_operation() -> None:
    doc = _spec({"/v1/a": {"get": _op()}, "/health": {"get": _op()}})
    del doc["security"]
    assert [f.message for f in BY_ID["security-scheme"].check(doc)] == [
        "GET /v1/a can be called without credentials: neither it nor the root declares `security`"
    ]


# -- error-schema


def test_a_shared_error_response_without_a_schema_is_reported_once_where_it_is_defined() -> None:
    ref = {"$ref": "#/components/responses/Bad"}
    doc = _spec(
        {"/v1/a": {"get": {"responses": {"400": ref, "default": ref}}, "put": {"responses": {"400": ref}}}}
    )
    doc["components"]["responses"] = {
        "Bad": {"description": "bad", "content": {"text/plain": {"schema": {}}}}
    }
    found = BY_ID["error-schema"].check(doc)
    assert [(f.location, f.severity) for f in found] == [("#/components/responses/Bad", "major")]
    assert _scope("error-schema", doc) == ["#/components/responses/Bad"]


# -- decimal-money


@pytest.mark.parametrize(
    "name", ["price", "avgPrice", "avg_price", "limit_price", "LastPx", "realizedPnL", "unrealized_pnl",
             "fees", "commission", "cash_balance", "notional", "marginRequired", "equity", "PRICES"],
)  # fmt: skip
def test_money_names(name: str) -> None:
    assert is_money(name)


@pytest.mark.parametrize(
    "name", ["qty", "quantity", "filled_qty", "contracts", "size", "symbol", "value", "limit"]
)
def test_not_money_names(name: str) -> None:
    assert not is_money(name)


def test_numeric_money_is_flagged_wherever_the_schema_says_it() -> None:
    schemas = {
        "Fill": {
            "type": "object",
            "properties": {
                "qty": {"type": "integer"},  # a quantity: never money
                "price": {"type": ["number", "null"]},  # 3.1 type list
                "fees": {"type": "array", "items": {"type": "number"}},
                "cost": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                "notional": {"$ref": "#/components/schemas/Float"},
                "pnl": {
                    "type": "object",
                    "properties": {"total": {"type": "number"}, "count": {"type": "integer"}},
                },
                "next": {"$ref": "#/components/schemas/Fill"},  # a cycle: the walk must end
            },
        },
        "Float": {"type": "number"},
    }
    param = {"name": "min_price", "in": "query", "schema": {"type": "number"}}
    doc = _spec({"/v1/fills": {"get": _op(parameters=[param])}}, schemas)
    found = BY_ID["decimal-money"].check(doc)
    fill = "#/components/schemas/Fill/properties"
    assert [f.location for f in found] == [
        f"{fill}/price", f"{fill}/fees/items", f"{fill}/cost/oneOf/1", f"{fill}/notional",
        f"{fill}/pnl/properties/total", "#/paths/~1v1~1fills/get/parameters/0/schema",
    ]  # fmt: skip
    assert found[3].message == (
        "`notional` carries money but is `number` (by #/components/schemas/Float): use a decimal string"
    )


def test_decimal_strings_pass_and_a_spec_without_money_is_not_applicable() -> None:
    decimal = {
        "P": {"properties": {"price": {"type": "string", "format": "decimal"}, "qty": {"type": "integer"}}}
    }
    assert _scope("decimal-money", _spec({}, decimal)) == ["#/components/schemas/P/properties/price"]
    assert _check("decimal-money", _spec({}, decimal)) == []
    assert _scope("decimal-money", _spec({}, {"Q": {"properties": {"qty": {"type": "integer"}}}})) == []


# -- pagination


def _listing(schema: dict[str, Any], *params: str) -> dict[str, Any]:
    parameters = [{"name": p, "in": "query", "schema": {"type": "string"}} for p in params]
    return {"parameters": parameters, "responses": {"200": {"description": "ok", **_body(schema)}, **ANSWERS}}


def test_what_counts_as_a_list() -> None:
    page = {"type": "object", "properties": {"data": {"type": "array"}, "has_more": {"type": "boolean"}}}
    account = {
        "type": "object",
        "properties": {"positions": {"type": "array"}, "balance": {"type": "string"}},
    }
    doc = _spec(
        {
            "/v1/a": {"get": _listing({"type": "array", "items": {}})},
            "/v1/b": {"get": _listing(page)},
            "/v1/c": {"get": _listing(account)},  # an account that holds a list is no list
            "/v1/d": {"post": _listing({"type": "array"})},  # not a GET
        }
    )
    assert _scope("pagination", doc) == ["#/paths/~1v1~1a/get", "#/paths/~1v1~1b/get"]


@pytest.mark.parametrize(
    ("params", "ok"),
    [(("limit", "cursor"), True), (("pageSize", "pageToken"), True), (("per_page", "page"), True),
     (("limit",), False), (("after",), False)],
)  # fmt: skip
def test_a_list_takes_a_limit_and_a_cursor(params: tuple[str, ...], ok: bool) -> None:
    doc = _spec({"/v1/fills": {"get": _listing({"type": "array"}, *params)}})
    assert (_check("pagination", doc) == []) is ok


# -- webhook-signature


def test_a_webhook_needs_a_required_signature_header() -> None:
    signed = {"name": "X-Hub-Signature-256", "in": "header", "required": True, "schema": {"type": "string"}}
    doc = _spec(
        {
            "/v1/webhooks/github": {"parameters": [signed], "post": _op()},  # declared on the path item
            "/v1/webhooks/stripe": {"post": _op()},
            "/v1/webhooks": {"get": _op()},  # listing subscriptions: not a webhook
        }
    )
    assert _scope("webhook-signature", doc) == [
        "#/paths/~1v1~1webhooks~1github/post",
        "#/paths/~1v1~1webhooks~1stripe/post",
    ]
    assert _check("webhook-signature", doc) == [("#/paths/~1v1~1webhooks~1stripe/post", "blocker")]
