"""The OpenAPI description served at /openapi.json (the contract the harness's default adapter speaks).

Every operation needs `Authorization: Bearer <key>` (the admin key, or a trader key the back office
issued) but the public ones, which say `security: []`; the guard's refusals (401, 403, 429 and
413 for a body) are documented on each operation they can answer (see _secure).
"""

from __future__ import annotations

import copy
from typing import Any

from .lifecycle.spec import PATHS as LIFECYCLE_PATHS
from .lifecycle.spec import SCHEMAS as LIFECYCLE_SCHEMAS
from .order_schema import DECIMAL_AMOUNT, MONEY_CHARS, POSITIVE_DECIMAL


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERROR = _json(_ref("Error"), "error")


def _param(name: str, where: str, required: bool, **schema: Any) -> dict[str, Any]:
    text = {"type": "string", "pattern": NO_NUL, **schema}
    return {"name": name, "in": where, "required": required, "schema": text}


# What order_schema.validate and accounts.update accept, so a request the spec allows is never
# refused as malformed (Schemathesis's positive_data_acceptance) and one it forbids always is.
CLIENT_ORDER_ID = r"^[A-Za-z0-9_.:\-]{1,64}$"
NO_NUL = r"^[^\x00]*$"  # Postgres text cannot hold a NUL: the API refuses one with 400
INT32_MAX = 2**31 - 1  # the risk limits' column type
DECIMAL = r"^-?[0-9]+(\.[0-9]+)?$"  # money is a decimal string: "6800.25", "-4.50"


def _money(description: str, *, nullable: bool = False) -> dict[str, Any]:
    kind: str | list[str] = ["string", "null"] if nullable else "string"
    return {"type": kind, "format": "decimal", "pattern": DECIMAL, "description": description}


SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "stack-uat reference middleware", "version": "1.0.0"},
    "paths": {
        "/v1/orders": {
            "post": {
                "operationId": "placeOrder",
                "summary": "Place an order (idempotent by client_order_id)",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("NewOrder")}},
                },
                "responses": {
                    "202": {
                        **_json(_ref("Order"), "accepted, or the existing order for this client_order_id"),
                        # No link to the cancel: a cancelled order stays readable (status `cancelled`),
                        # so DELETE here is not a deletion and use_after_free does not apply to it.
                        "links": {
                            "GetOrder": {
                                "operationId": "getOrder",
                                "parameters": {"client_order_id": "$response.body#/client_order_id"},
                            }
                        },
                    },
                    "400": _ERROR,
                    "404": _ERROR,
                    "409": _json(_ref("Error"), "client_order_id is taken by another account's order"),
                    "422": _json(_ref("Order"), "risk or venue reject"),
                    "503": _ERROR,
                    "504": _json(_ref("Order"), "sent, outcome unknown until reconciliation"),
                },
            }
        },
        "/v1/orders/{client_order_id}": {
            "get": {
                "operationId": "getOrder",
                "summary": "One order",
                "parameters": [_param("client_order_id", "path", True)],
                "responses": {"200": _json(_ref("Order"), "the order"), "400": _ERROR, "404": _ERROR},
            },
            "delete": {
                "summary": "Cancel a working order; it turns `cancelled` when the venue confirms",
                "parameters": [_param("client_order_id", "path", True)],
                "responses": {
                    "202": _json(_ref("Order"), "the venue took the cancel request"),
                    "400": _ERROR,
                    "404": _ERROR,
                    "409": _json(
                        _ref("Error"), "already final (filled, cancelled, rejected), or not working"
                    ),
                    "503": _ERROR,
                    "504": _json(_ref("Error"), "no answer from the venue in time; the order may still work"),
                },
            },
        },
        "/v1/positions": {
            "get": {
                "summary": "Net positions from fills",
                "parameters": [_param("account", "query", True, minLength=1)],
                "responses": {"200": _json({"type": "object"}, "positions"), "400": _ERROR, "404": _ERROR},
            }
        },
        "/v1/accounts": {
            "get": {
                "summary": "Account ids, optionally for one Stripe customer",
                "parameters": [_param("customer", "query", False)],
                "responses": {"200": _json({"type": "object"}, "account ids"), "400": _ERROR},
            }
        },
        "/v1/accounts/{account_id}": {
            "get": {
                "summary": "Admin state of one account",
                "parameters": [_param("account_id", "path", True)],
                "responses": {
                    "200": _json({"type": "object"}, "the account"),
                    "400": _ERROR,
                    "404": _ERROR,
                    "503": _ERROR,
                },
            },
            "patch": {
                "summary": "Change risk limits, the trading switch or the account's venue",
                "parameters": [_param("account_id", "path", True)],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("AccountPatch")}},
                },
                "responses": {
                    "200": _json({"type": "object"}, "the account"),
                    "400": _ERROR,
                    "404": _ERROR,
                    "503": _ERROR,
                },
            },
        },
        "/v1/webhooks/stripe": {
            "post": {
                "summary": "Stripe events (signature checked, idempotent by event id, any order)",
                "parameters": [_param("Stripe-Signature", "header", True)],
                "responses": {"200": _json({"type": "object"}, "received"), "400": _ERROR},
            }
        },
        "/v1/accounts/{account_id}/pnl": {
            "get": {
                "operationId": "getAccountPnl",
                "summary": "Today's realised P&L net of fees, and each open position marked to market",
                "description": "realized_pnl is today's (UTC) average-cost P&L less the venue's fees, the "
                "figure the daily loss limit holds. Each open position is marked to the last trade, else "
                "the mid of the touch; a position whose symbol has no quote yet has mark and "
                "unrealized_pnl null, and is left out of the total unrealized_pnl.",
                "parameters": [_param("account_id", "path", True)],
                "responses": {
                    "200": _json(_ref("AccountPnl"), "the account's P&L"),
                    "400": _ERROR,
                    "404": _json(_ref("Error"), "no such account"),
                    "503": _ERROR,
                },
            }
        },
        "/v1/quotes/{symbol}": {
            "get": {
                "operationId": "getQuote",
                "summary": "The last quote of a symbol, with its age and whether it is stale",
                "description": "stale is true when age_s exceeds the service's stale bound "
                "(REFMW_STALE_QUOTE_S): the feed has gone quiet and the prices may no longer hold.",
                "parameters": [_param("symbol", "path", True)],
                "responses": {
                    "200": _json(_ref("Quote"), "the last quote received"),
                    "400": _ERROR,
                    "404": _json(_ref("Error"), "no quote of this symbol has arrived yet"),
                },
            }
        },
        "/health": {
            "get": {
                "summary": "Overall and per-venue status",
                "responses": {"200": _json(_ref("Health"), "ok, or degraded with the part that is down")},
            }
        },
        "/v1/stream": {
            "get": {
                "summary": "WebSocket: quotes and order updates",
                "description": "The credential goes in the handshake's Authorization header. A trader key "
                "must give ?account= of its own; the admin key may omit it (every account). A refused "
                "handshake is accepted and closed at once with code 1008.",
                "responses": {"101": {"description": "switching to the WebSocket protocol"}},
            }
        },
        "/v1/admin/api-keys": {
            "post": {
                "operationId": "createApiKey",
                "summary": "Issue a trader key for one account (admin only); the secret is shown once",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("NewApiKey")}},
                },
                "responses": {
                    "201": _json(_ref("ApiKey"), "the key; keep `key`, it is never shown again"),
                    "400": _ERROR,
                    "404": _json(_ref("Error"), "no such account"),
                    "503": _ERROR,
                },
            }
        },
        "/v1/admin/api-keys/{key_id}": {
            "delete": {
                "operationId": "revokeApiKey",
                "summary": "Revoke a trader key at once (admin only)",
                "parameters": [_param("key_id", "path", True)],
                "responses": {
                    "204": {"description": "revoked"},
                    "400": _ERROR,
                    "404": _json(_ref("Error"), "no such key"),
                    "503": _ERROR,
                },
            }
        },
    },
    "security": [{"bearerAuth": []}],
    "components": {
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "REFMW_ADMIN_KEY (every account; only from REFMW_ADMIN_ALLOW), or a trader "
                "key from POST /v1/admin/api-keys (its own account only)",
            }
        },
        "schemas": {
            "NewApiKey": {
                "type": "object",
                "additionalProperties": False,
                "required": ["account"],
                "properties": {
                    "account": {"type": "string", "minLength": 1, "pattern": NO_NUL},
                    "ttl_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 315_360_000},
                },
            },
            "ApiKey": {
                "type": "object",
                "required": ["key_id", "key", "account", "expires_at"],
                "properties": {
                    "key_id": {"type": "string"},
                    "key": {"type": "string", "description": "the secret; stored only as its hash"},
                    "account": {"type": "string"},
                    "expires_at": {"type": ["string", "null"], "format": "date-time"},
                },
            },
            "Error": {
                "type": "object",
                "properties": {"error": {"type": "string"}, "field": {"type": "string"}},
                "required": ["error"],
            },
            "NewOrder": {
                "type": "object",
                "required": ["account", "symbol", "side", "qty", "type", "client_order_id"],
                "properties": {
                    "account": {"type": "string", "minLength": 1, "pattern": NO_NUL},
                    "symbol": {"type": "string"},  # the traded symbols: see spec_for
                    "side": {"enum": ["BUY", "SELL"]},
                    "qty": {"type": "integer", "minimum": 1, "maximum": 10_000},
                    "type": {"enum": ["MARKET", "LIMIT"]},
                    "limit_price": {
                        "type": "string",
                        "format": "decimal",
                        "pattern": POSITIVE_DECIMAL,
                        "maxLength": MONEY_CHARS,
                        "description": 'a positive decimal string: "6800.25"',
                    },
                    "client_order_id": {"type": "string", "pattern": CLIENT_ORDER_ID, "maxLength": 64},
                },
                # a LIMIT order needs its price; a MARKET order's is ignored
                "if": {"properties": {"type": {"const": "LIMIT"}}, "required": ["type"]},
                "then": {"required": ["limit_price"]},
            },
            "AccountPatch": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "venue": {
                        "enum": ["rithmic", "cqg"],
                        "description": "where the account's orders go; cqg only where the service "
                        "trades on CQG, and only with no order working",
                    },
                    "trading_enabled": {"type": "boolean"},
                    "max_position": {"type": "integer", "minimum": 0, "maximum": INT32_MAX},
                    "max_order_qty": {"type": "integer", "minimum": 0, "maximum": INT32_MAX},
                    "daily_loss_limit": {
                        "type": "string",
                        "format": "decimal",
                        "pattern": DECIMAL_AMOUNT,
                        "maxLength": MONEY_CHARS,
                        "description": 'USD of realised loss today, fees included: "1500.00"',
                    },
                },
            },
            "Quote": {
                "type": "object",
                "required": ["symbol", "bid", "ask", "last", "at", "age_s", "stale"],
                "properties": {
                    "symbol": {"type": "string"},
                    "bid": _money("best bid; null before the venue showed one", nullable=True),
                    "ask": _money("best ask; null before the venue showed one", nullable=True),
                    "last": _money("last trade; null before the venue printed one", nullable=True),
                    "at": {"type": "number", "description": "epoch seconds the service received it"},
                    "age_s": {"type": "number", "minimum": 0},
                    "stale": {"type": "boolean", "description": "age_s is past the stale bound"},
                },
            },
            "AccountPnl": {
                "type": "object",
                "required": ["account", "realized_pnl", "unrealized_pnl", "positions"],
                "properties": {
                    "account": {"type": "string"},
                    "realized_pnl": _money("today's realised P&L net of fees, to the cent"),
                    "unrealized_pnl": _money("the open positions' total, those without a mark left out"),
                    "positions": {"type": "array", "items": _ref("OpenPosition")},
                },
            },
            "OpenPosition": {
                "type": "object",
                "required": ["symbol", "net_qty", "avg_price", "mark", "unrealized_pnl"],
                "properties": {
                    "symbol": {"type": "string"},
                    "net_qty": {"type": "integer", "description": "contracts; negative is short"},
                    "avg_price": _money("average open price (average cost)"),
                    "mark": _money("last trade, else the mid; null with no quote yet", nullable=True),
                    "unrealized_pnl": _money(
                        "net_qty x (mark - avg_price) x point value; null without a mark", nullable=True
                    ),
                },
            },
            "Health": {
                "type": "object",
                "required": ["status", "database", "venues"],
                "properties": {
                    "status": {"enum": ["ok", "degraded"]},
                    "database": {"enum": ["up", "down"]},
                    "venues": {"type": "object"},
                    "uptime_s": {"type": "number"},
                    "auth": {"enum": ["on", "off"], "description": "off: REFMW_ADMIN_KEY is unset"},
                },
            },
            "Order": {
                "type": "object",
                "properties": {
                    "client_order_id": {"type": "string"},
                    "account": {"type": "string"},
                    "status": {
                        "enum": [
                            "pending_new",
                            "unknown",
                            "working",
                            "partially_filled",
                            "filled",
                            "cancelled",
                            "rejected",
                            "risk_rejected",
                            "failed",
                        ]
                    },
                    "filled_qty": {"type": "integer"},
                    "limit_price": _money("a LIMIT order's price; null for MARKET", nullable=True),
                    "avg_fill_price": _money(
                        "the quantity-weighted price of its fills; null before the first", nullable=True
                    ),
                    "venue_order_id": {"type": ["string", "null"]},
                },
            },
        },
    },
}


SPEC["paths"].update(LIFECYCLE_PATHS)
SPEC["components"]["schemas"].update(LIFECYCLE_SCHEMAS)
PUBLIC = {("/health", "get"), ("/v1/webhooks/stripe", "post"), ("/v1/webhooks/docusign", "post")}


def _secure(spec: dict[str, Any]) -> dict[str, Any]:
    """The guard's answers on every operation: 401/403/429 where a credential is needed, 413 where
    a body is read, 503 where the database is asked (a trader key's lookup included), and
    `security: []` on the public operations."""
    retry_after = {"Retry-After": {"description": "whole seconds, 1 or more", "schema": {"type": "integer"}}}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            responses = op["responses"]
            if method in ("post", "patch", "put"):
                responses.setdefault("413", _json(_ref("Error"), "request body too large"))
            if path != "/health":  # a trader key is looked up in the database; so is a webhook's event
                responses.setdefault("503", _json(_ref("Error"), "the database cannot answer"))
            if (path, method) in PUBLIC:
                op["security"] = []
                continue
            responses.setdefault("401", _json(_ref("Error"), "invalid or missing credentials"))
            responses.setdefault(
                "403", _json(_ref("Error"), "admin only, or the admin key from an address not allowed")
            )
            responses.setdefault(
                "429", {**_json(_ref("Error"), "rate limit exceeded"), "headers": retry_after}
            )
    return spec


_secure(SPEC)


def spec_for(symbols: tuple[str, ...]) -> dict[str, Any]:
    """The spec the service serves: SPEC with the symbols it trades (REFMW_SYMBOLS) as NewOrder's
    `symbol` enum, since any other symbol is refused with 400, and as the quotes' examples."""
    spec = copy.deepcopy(SPEC)
    spec["components"]["schemas"]["NewOrder"]["properties"]["symbol"]["enum"] = list(symbols)
    # GET /v1/quotes/{symbol}: any symbol may be asked for (404 until quoted); these are the ones quoted
    spec["paths"]["/v1/quotes/{symbol}"]["get"]["parameters"][0]["schema"]["examples"] = list(symbols)
    return spec
