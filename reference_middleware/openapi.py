"""The OpenAPI description served at /openapi.json (the contract the harness's default adapter speaks)."""

from __future__ import annotations

from typing import Any


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERROR = _json(_ref("Error"), "error")


def _param(name: str, where: str, required: bool) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "schema": {"type": "string"}}


SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "stack-uat reference middleware", "version": "1.0.0"},
    "paths": {
        "/v1/orders": {
            "post": {
                "summary": "Place an order (idempotent by client_order_id)",
                "requestBody": {"content": {"application/json": {"schema": _ref("NewOrder")}}},
                "responses": {
                    "202": _json(_ref("Order"), "accepted, or the existing order for this client_order_id"),
                    "400": _ERROR,
                    "404": _ERROR,
                    "422": _json(_ref("Order"), "risk or venue reject"),
                    "503": _ERROR,
                    "504": _json(_ref("Order"), "sent, outcome unknown until reconciliation"),
                },
            }
        },
        "/v1/orders/{client_order_id}": {
            "get": {
                "summary": "One order",
                "parameters": [_param("client_order_id", "path", True)],
                "responses": {"200": _json(_ref("Order"), "the order"), "404": _ERROR},
            },
            "delete": {
                "summary": "Cancel a working order; it turns `cancelled` when the venue confirms",
                "parameters": [_param("client_order_id", "path", True)],
                "responses": {
                    "202": _json(_ref("Order"), "the venue took the cancel request"),
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
                "parameters": [_param("account", "query", True)],
                "responses": {"200": _json({"type": "object"}, "positions"), "404": _ERROR},
            }
        },
        "/v1/accounts": {
            "get": {
                "summary": "Account ids, optionally for one Stripe customer",
                "parameters": [_param("customer", "query", False)],
                "responses": {"200": _json({"type": "object"}, "account ids")},
            }
        },
        "/v1/accounts/{account_id}": {
            "get": {
                "summary": "Admin state of one account",
                "parameters": [_param("account_id", "path", True)],
                "responses": {"200": _json({"type": "object"}, "the account"), "404": _ERROR},
            },
            "patch": {
                "summary": "Change risk limits or the trading switch",
                "parameters": [_param("account_id", "path", True)],
                "responses": {"200": _json({"type": "object"}, "the account"), "400": _ERROR, "404": _ERROR},
            },
        },
        "/v1/webhooks/stripe": {
            "post": {
                "summary": "Stripe events (signature checked, idempotent by event id, any order)",
                "parameters": [_param("Stripe-Signature", "header", True)],
                "responses": {"200": _json({"type": "object"}, "received"), "400": _ERROR},
            }
        },
        "/health": {
            "get": {"summary": "Overall and per-venue status", "responses": {"200": {"description": "ok"}}}
        },
        "/v1/stream": {
            "get": {
                "summary": "WebSocket: quotes and order updates",
                "responses": {"101": {"description": "switching to the WebSocket protocol"}},
            }
        },
    },
    "components": {
        "schemas": {
            "Error": {
                "type": "object",
                "properties": {"error": {"type": "string"}, "field": {"type": "string"}},
                "required": ["error"],
            },
            "NewOrder": {
                "type": "object",
                "required": ["account", "symbol", "side", "qty", "type", "client_order_id"],
                "properties": {
                    "account": {"type": "string"},
                    "symbol": {"type": "string"},
                    "side": {"enum": ["BUY", "SELL"]},
                    "qty": {"type": "integer", "minimum": 1},
                    "type": {"enum": ["MARKET", "LIMIT"]},
                    "limit_price": {"type": "number"},
                    "client_order_id": {"type": "string", "maxLength": 64},
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
                    "venue_order_id": {"type": ["string", "null"]},
                },
            },
        }
    },
}
