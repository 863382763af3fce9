"""The lifecycle's operations in the OpenAPI description (openapi.py merges them in)."""

from __future__ import annotations

from typing import Any

NO_NUL = r"^[^\x00]*$"
# a positive amount, two decimals at most: 0.01 to 0.99, or 1 and up (zero is refused, 400)
AMOUNT = r"^(0\.(0[1-9]|[1-9][0-9]?)|[1-9][0-9]{0,11}(\.[0-9]{1,2})?)$"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


_ERROR = _json(_ref("Error"), "error")
_ID = {"type": "string", "minLength": 1, "maxLength": 200, "pattern": NO_NUL}
_NULLABLE_INT = {"type": ["integer", "null"]}
_NULLABLE_TEXT = {"type": ["string", "null"]}

PATHS: dict[str, Any] = {
    "/v1/lifecycle/contracts": {
        "post": {
            "operationId": "recordContract",
            "summary": "The Zap reports a funded trader's envelope (admin only; idempotent)",
            "description": "The same envelope again is a no-op. A different envelope for a trader whose "
            "contract stands is voided at DocuSign and answered `duplicate: true`.",
            "requestBody": _body("ContractReport"),
            "responses": {
                "200": _json(_ref("ContractRecorded"), "recorded, already recorded, or a voided duplicate"),
                "400": _ERROR,
                "404": _json(_ref("Error"), "no funded trader with this customer id"),
                "409": _json(_ref("Error"), "the envelope is another trader's"),
            },
        }
    },
    "/v1/lifecycle/payouts": {
        "post": {
            "operationId": "requestPayout",
            "summary": "Pay a funded trader out (admin only; idempotent by payout_id)",
            "description": "Booked in the background: an MT5 withdrawal, then a Rippling pay item.",
            "requestBody": _body("PayoutRequest"),
            "responses": {
                "202": _json(_ref("Payout"), "accepted, or the payout this payout_id already names"),
                "400": _json(_ref("Error"), "a bad field"),
                "404": _json(_ref("Error"), "no funded trader with this customer id"),
                "409": _json(
                    _ref("Error"),
                    "the trader is not provisioned, the payout_id is taken, or the amount is above the "
                    "balance booked",
                ),
            },
        }
    },
    "/v1/lifecycle/{customer}": {
        "get": {
            "operationId": "getLifecycle",
            "summary": "Where a funded trader's lifecycle stands (admin only)",
            "parameters": [{"name": "customer", "in": "path", "required": True, "schema": _ID}],
            "responses": {
                "200": _json(_ref("Lifecycle"), "the lifecycle"),
                "400": _ERROR,
                "404": _json(_ref("Error"), "no funded trader with this customer id"),
            },
        }
    },
    "/v1/webhooks/docusign": {
        "post": {
            "summary": "DocuSign Connect (JSON SIM), authenticated by X-DocuSign-Signature-N (HMAC-SHA256)",
            "description": "An event for an envelope this service did not record is answered 200 and "
            "ignored; a status only moves forward. Any one of the X-DocuSign-Signature-N headers must "
            "match (two during a key rotation).",
            "parameters": [
                {
                    "name": "X-DocuSign-Signature-1",
                    "in": "header",
                    "required": True,
                    "schema": {"type": "string"},
                }
            ],
            "responses": {
                "200": _json({"type": "object"}, "received"),
                "400": _ERROR,
                "401": _json(_ref("Error"), "no valid signature"),
                "503": _ERROR,
            },
        }
    },
}

SCHEMAS: dict[str, Any] = {
    "ContractReport": {
        "type": "object",
        "required": ["customer", "envelope_id"],
        "properties": {"customer": _ID, "envelope_id": _ID},
    },
    "ContractRecorded": {
        "type": "object",
        "required": ["customer", "envelope_id", "duplicate"],
        "properties": {
            "customer": {"type": "string"},
            "envelope_id": {"type": "string"},
            "duplicate": {"type": "boolean"},
        },
    },
    "PayoutRequest": {
        "type": "object",
        "required": ["customer", "payout_id", "amount"],
        "properties": {
            "customer": _ID,
            "payout_id": {"type": "string", "pattern": r"^[A-Za-z0-9_.:\-]{1,64}$"},
            "amount": {
                "type": "string",
                "format": "decimal",
                "pattern": AMOUNT,
                "description": 'USD: "1250.00"',
            },
        },
    },
    "Payout": {
        "type": "object",
        "required": ["payout_id", "amount", "status"],
        "properties": {
            "payout_id": {"type": "string"},
            "customer": {"type": "string"},
            "amount": {"type": "string", "format": "decimal"},
            "status": {"enum": ["pending", "withdrawn", "paid", "failed"]},
            "mt5_deal": _NULLABLE_INT,
            "rippling_pay_item": _NULLABLE_TEXT,
            "last_error": _NULLABLE_TEXT,
        },
    },
    "Lifecycle": {
        "type": "object",
        "required": ["customer", "program", "contract", "provisioned", "cancelled", "payouts"],
        "properties": {
            "customer": {"type": "string"},
            "email": {"type": "string"},
            "program": {"const": "funded"},
            "contract": {
                "type": "object",
                "properties": {
                    "envelope_id": _NULLABLE_TEXT,
                    "status": _NULLABLE_TEXT,
                    "signed_at": {"type": ["string", "null"], "format": "date-time"},
                },
            },
            "mt5_login": _NULLABLE_INT,
            "deposit": {"type": ["string", "null"], "format": "decimal"},
            "deposit_deal": _NULLABLE_INT,
            "rippling_worker_id": _NULLABLE_TEXT,
            "provisioned": {"type": "boolean"},
            "cancelled": {"type": "boolean"},
            "payouts": {"type": "array", "items": _ref("Payout")},
            "last_error": _NULLABLE_TEXT,
        },
    },
}
