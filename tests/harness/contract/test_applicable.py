"""Which checks can judge an operation, read from the spec: the reasons a check is NOT RUN."""

from __future__ import annotations

import copy
from typing import Any

from harness.contract.applicable import http_operations, not_applicable
from tests.harness.contract.brokenapp import SPEC


def _reasons(doc: dict[str, Any], label: str) -> dict[str, str]:
    return not_applicable(doc, http_operations(doc)[label])


def test_each_operation_gets_the_checks_its_spec_gives_something_to_judge() -> None:
    assert list(http_operations(SPEC)) == [
        "POST /items", "GET /items/{item_id}", "DELETE /items/{item_id}", "GET /secret", "GET /ping",
    ]  # fmt: skip
    read = _reasons(SPEC, "GET /items/{item_id}")
    assert set(read) == {"missing_required_header", "ignored_auth"}  # both stateful checks can run
    assert _reasons(SPEC, "GET /secret") == {
        "negative_data_rejection": "the operation takes no parameters and no body: nothing to make invalid",
        "missing_required_header": "the operation requires no header",
        "use_after_free": "no OpenAPI link leads to this operation",
        "ensure_resource_availability": "no OpenAPI link leads to this operation",
    }
    delete = _reasons(SPEC, "DELETE /items/{item_id}")
    assert delete["use_after_free"] == "DELETE is not a read: only a read can find a resource gone or missing"
    assert set(delete) == {
        "missing_required_header",
        "ignored_auth",
        "use_after_free",
        "ensure_resource_availability",
    }


def test_without_links_the_stateful_checks_say_so() -> None:
    doc = copy.deepcopy(SPEC)
    doc["paths"]["/items"]["post"]["responses"]["201"].pop("links")
    why = "the spec declares no OpenAPI links: no stateful sequence to follow"
    reasons = _reasons(doc, "GET /items/{item_id}")
    assert reasons["use_after_free"] == reasons["ensure_resource_availability"] == why


def test_a_link_to_no_delete_leaves_use_after_free_without_a_sequence() -> None:
    doc = copy.deepcopy(SPEC)
    doc["paths"]["/items"]["post"]["responses"]["201"]["links"].pop("DeleteItem")
    reasons = _reasons(doc, "GET /items/{item_id}")
    assert reasons["use_after_free"] == "no OpenAPI link leads to a DELETE: no sequence deletes a resource"
    assert "ensure_resource_availability" not in reasons


def test_default_answers_and_required_headers_and_security_are_read() -> None:
    doc = copy.deepcopy(SPEC)
    ping = doc["paths"]["/ping"]["get"]
    ping["responses"]["default"] = {"description": "anything"}
    ping["parameters"] = [{"name": "X-Trace", "in": "header", "required": True, "schema": {"type": "string"}}]
    doc["security"] = [{"key": []}]
    reasons = _reasons(doc, "GET /ping")
    assert (
        reasons["status_code_conformance"]
        == "the operation documents a `default` answer: any status conforms"
    )
    assert "missing_required_header" not in reasons and "ignored_auth" not in reasons
    doc["paths"]["/ping"]["get"]["security"] = []  # the operation opts out of the root's security
    assert _reasons(doc, "GET /ping")["ignored_auth"].startswith("the spec declares no security")
