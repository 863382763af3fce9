"""A small API with deliberate contract bugs, run as its own process (`python -m
tests.harness.contract.brokenapp PORT`), as a live target is: what `uat contract` must catch.

Its bugs: a 500 on an empty name (not_a_server_error, status_code_conformance), a name longer than
its maxLength taken (negative_data_rejection), an item read back with `name` as a number
(response_schema_conformance), a DELETE that leaves the item readable (use_after_free), and a
`/secret` that declares an API key and never checks it (ignored_auth). `/ping` is correct.
"""

from __future__ import annotations

import sys
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

_ITEM = {
    "type": "object",
    "required": ["id", "name"],
    "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
}
_ERROR = {"description": "refused", "content": {"application/json": {"schema": {"type": "object"}}}}


def _ok(schema: dict[str, Any], description: str = "ok", **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}, **extra}


_ID = [{"name": "item_id", "in": "path", "required": True, "schema": {"type": "string"}}]
SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "broken items", "version": "1"},
    "paths": {
        "/items": {
            "post": {
                "operationId": "createItem",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {"name": {"type": "string", "maxLength": 20}},
                                "additionalProperties": False,
                            }
                        }
                    },
                },
                "responses": {
                    "201": _ok(
                        _ITEM,
                        "created",
                        links={
                            "GetItem": {
                                "operationId": "getItem",
                                "parameters": {"item_id": "$response.body#/id"},
                            },
                            "DeleteItem": {
                                "operationId": "deleteItem",
                                "parameters": {"item_id": "$response.body#/id"},
                            },
                        },
                    ),
                    "400": _ERROR,
                },
            }
        },
        "/items/{item_id}": {
            "get": {
                "operationId": "getItem",
                "parameters": _ID,
                "responses": {"200": _ok(_ITEM), "404": _ERROR},
            },
            "delete": {
                "operationId": "deleteItem",
                "parameters": _ID,
                "responses": {"204": {"description": "deleted"}, "404": _ERROR},
            },
        },
        "/secret": {
            "get": {
                "operationId": "getSecret",
                "security": [{"key": []}],
                "responses": {"200": _ok({"type": "object"}), "401": _ERROR},
            }
        },
        "/ping": {"get": {"operationId": "ping", "responses": {"200": _ok({"type": "object"})}}},
    },
    "components": {"securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}},
}

ITEMS: dict[str, str] = {}


async def create(request: Request) -> Response:
    try:
        body = await request.json()
    except ValueError:
        return JSONResponse({"error": "not JSON"}, status_code=400)
    if not isinstance(body, dict) or not isinstance(body.get("name"), str):
        return JSONResponse({"error": "name must be a string"}, status_code=400)
    if body["name"] == "":
        return JSONResponse({"error": "boom"}, status_code=500)  # bug: a crash on an empty name
    item_id = str(len(ITEMS) + 1)
    ITEMS[item_id] = body["name"]
    return JSONResponse({"id": item_id, "name": body["name"]}, status_code=201)


async def get_item(request: Request) -> Response:
    item_id = request.path_params["item_id"]
    if item_id not in ITEMS:
        return JSONResponse({"error": "no such item"}, status_code=404)
    return JSONResponse({"id": item_id, "name": len(ITEMS[item_id])})  # bug: name as a number


async def delete_item(request: Request) -> Response:
    if request.path_params["item_id"] not in ITEMS:
        return JSONResponse({"error": "no such item"}, status_code=404)
    return Response(status_code=204)  # bug: says deleted, keeps it


async def secret(request: Request) -> Response:
    return JSONResponse({"secret": "s3cr3t"})  # bug: X-API-Key is never checked


async def ping(request: Request) -> Response:
    return JSONResponse({"pong": True})


async def openapi(request: Request) -> Response:
    return JSONResponse(SPEC)


app = Starlette(
    routes=[
        Route("/items", create, methods=["POST"]),
        Route("/items/{item_id}", get_item, methods=["GET"]),
        Route("/items/{item_id}", delete_item, methods=["DELETE"]),
        Route("/secret", secret, methods=["GET"]),
        Route("/ping", ping, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]
)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
