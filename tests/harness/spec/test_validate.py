"""valid-openapi: every error the validator finds, as a blocker at the JSON pointer of the bad node."""

from __future__ import annotations

import socket
from typing import Any

from harness.spec import load
from harness.spec.validate import MAX_ERRORS, validate
from tests.harness.spec import SPECS


def _doc(**paths: Any) -> dict[str, Any]:
    return {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": paths}


def _found(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f.location, f.message) for f in validate(doc).findings]


def test_a_valid_spec_has_no_findings_in_either_version() -> None:
    good = load(str(SPECS / "good.yaml")).document
    assert validate(good).version == "3.0.3" and validate(good).findings == ()
    webhooks = load(str(SPECS / "bad-webhook-signature.yaml")).document
    assert validate(webhooks).version == "3.1.0" and validate(webhooks).findings == ()


def test_every_error_is_a_blocker_at_the_bad_node() -> None:
    result = validate(load(str(SPECS / "invalid.yaml")).document)
    assert {(f.rule, f.severity) for f in result.findings} == {("valid-openapi", "blocker")}
    assert [(f.location, f.message) for f in result.findings] == [
        (
            "#/paths/~1v1~1accounts/get/responses/200/content/application~1json/schema",
            "`$ref` '#/components/schemas/Nope' points nowhere in this document",
        ),
        ("#/info", "'version' is a required property"),
        ("#/paths/~1v1~1orders/get/parameters/0", "'schema' is a required property"),
        ("#/paths/~1v1~1orders/get/responses/200", "'description' is a required property"),
    ]


def test_the_validators_cross_reference_errors_are_placed_at_their_operation() -> None:
    ok = {"responses": {"200": {"description": "ok"}}}
    doc = _doc(**{"/a": {"get": {"operationId": "x", **ok}}, "/b/{id}": {"get": {"operationId": "x", **ok}}})
    assert _found(doc) == [
        ("#/paths/~1b~1{id}/get", "Operation ID 'x' for 'get' in '/b/{id}' is not unique"),
        ("#/paths/~1b~1{id}/get", "Path parameter 'id' for 'get' operation in '/b/{id}' was not resolved"),
    ]


def test_errors_are_collected_up_to_the_cap() -> None:
    doc = _doc(**{f"/p{i}": {"get": {"responses": {"200": {}}}} for i in range(MAX_ERRORS + 10)})
    found = _found(doc)
    assert len(found) == MAX_ERRORS + 1
    assert found[0] == ("#/paths/~1p0/get/responses/200", "'description' is a required property")
    assert found[-1] == ("#", f"more than {MAX_ERRORS} errors: the rest are not shown")


def test_swagger_2_and_unknown_versions_are_refused_with_the_reason() -> None:
    swagger = load(str(SPECS / "swagger.json")).document
    assert validate(swagger).version is None
    assert _found(swagger) == [
        ("#/swagger", "Swagger 2.0 (OpenAPI 2.0) is not supported: convert it to OpenAPI 3.0 or 3.1")
    ]
    assert _found({"openapi": "3.2.0", "paths": {}}) == [
        ("#/openapi", "OpenAPI 3.2.0 is not supported: the review reads 3.0 and 3.1")
    ]
    assert _found({"paths": {}})[0][0] == "#"
    unquoted = _found({"openapi": 3.0, "paths": {}})
    assert unquoted[0][0] == "#/openapi" and "not a string: quote it" in unquoted[0][1]


def test_a_ref_outside_the_document_is_reported_and_never_fetched() -> None:
    with socket.socket() as listener:  # a loopback port that would see any fetch
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.2)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/schemas.json#/Order"
        schema = {"content": {"application/json": {"schema": {"$ref": url}}}}
        doc = _doc(**{"/a": {"get": {"responses": {"200": {"description": "ok", **schema}}}}})
        assert _found(doc) == [
            (
                "#/paths/~1a/get/responses/200/content/application~1json/schema",
                f"`$ref` {url!r} is outside this document: bundle the spec into one file",
            )
        ]
        try:
            listener.accept()[0].close()
            raise AssertionError("the validator fetched an external $ref")
        except TimeoutError:
            pass


def test_a_ref_in_example_data_is_not_a_reference() -> None:
    example = {"description": "ok", "content": {"application/json": {"example": {"$ref": "elsewhere.json"}}}}
    assert _found(_doc(**{"/a": {"get": {"responses": {"200": example}}}})) == []
