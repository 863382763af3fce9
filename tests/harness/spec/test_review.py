"""The review: each bad spec fails exactly the rule it targets, the good one passes, nothing with
nothing to look at is ever passed, and no document, however malformed, crashes it."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.spec import RULES, load, review
from harness.spec.review import NOT_OPENAPI_3
from tests.harness.spec import SPECS

ALL_RULES = ["valid-openapi", *(rule.id for rule in RULES)]


def _review(name: str) -> Any:
    return review(load(str(SPECS / name)).document, source=name)


def test_the_good_spec_passes_every_rule() -> None:
    result = _review("good.yaml")
    assert [(o.rule.id, o.status) for o in result.outcomes] == [(rule, "passed") for rule in ALL_RULES]
    assert all(o.checked > 0 for o in result.outcomes)
    assert (result.verdict, result.exit_code, result.findings) == ("passed", 0, [])


# What each bad spec breaks, where, and whether that fails the review (a blocker) or not (a major).
BAD = {
    "bad-idempotency-key.yaml": ("idempotency-key", ["#/paths/~1v1~1orders/post"], 1),
    "bad-auth-responses.json": (
        "auth-responses",
        ["#/paths/~1v1~1orders~1{client_order_id}/get", "#/paths/~1v1~1orders~1{client_order_id}/delete"],
        1,
    ),
    "bad-security-scheme.yaml": (
        "security-scheme",
        ["#/paths/~1v1~1accounts~1{account_id}/get", "#/paths/~1v1~1orders/post/security/1"],
        1,
    ),
    "bad-error-schema.yaml": (
        "error-schema",
        [
            "#/paths/~1v1~1orders~1{client_order_id}/delete/responses/404",
            "#/paths/~1v1~1orders~1{client_order_id}/delete/responses/409",
        ],
        0,
    ),
    "bad-decimal-money.json": (
        "decimal-money",
        [
            "#/components/schemas/Position/properties/avgPrice",
            "#/components/schemas/Account/properties/balance/properties/value",
        ],
        1,
    ),
    "bad-pagination.yaml": ("pagination", ["#/paths/~1v1~1fills/get"], 0),
    "bad-webhook-signature.yaml": (
        "webhook-signature",
        ["#/paths/~1v1~1webhooks~1docusign/post", "#/webhooks/orderFilled/post"],
        1,
    ),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_each_bad_spec_fails_exactly_the_rule_it_targets(name: str) -> None:
    target, locations, exit_code = BAD[name]
    result = _review(name)
    assert [o.rule.id for o in result.outcomes if o.status == "failed"] == [target]
    assert {f.rule for f in result.findings} == {target}
    assert [f.location for f in result.findings] == locations
    assert result.exit_code == exit_code
    assert result.verdict == ("failed" if exit_code else "passed")


def test_auth_responses_grades_each_operation_by_what_it_misses() -> None:
    found = _review("bad-auth-responses.json").findings
    assert [(f.severity, f.message) for f in found] == [
        ("blocker", "GET /v1/orders/{client_order_id} does not document 403"),
        ("major", "DELETE /v1/orders/{client_order_id} does not document a Retry-After header on 429"),
    ]


def test_a_spec_without_operations_is_never_a_pass() -> None:
    result = _review("empty-paths.yaml")
    assert result.exit_code == 1 and result.verdict == "failed"
    statuses = {o.rule.id: o.status for o in result.outcomes}
    assert statuses.pop("has-operations") == "failed"
    assert statuses.pop("valid-openapi") == "passed"
    assert set(statuses.values()) == {"not_applicable"}
    assert [(f.rule, f.location) for f in result.blockers] == [("has-operations", "#/paths")]


def test_a_spec_with_neither_paths_nor_webhooks_is_never_a_pass() -> None:
    doc = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "components": {"schemas": {}}}
    result = review(doc)
    assert result.outcomes[0].status == "passed"  # 3.1 allows a components-only document
    assert [(f.rule, f.location) for f in result.blockers] == [("has-operations", "#")]
    reasons = {o.reason for o in result.outcomes[2:]}
    assert reasons == {"the document has no `paths` or `webhooks` mapping to read (see valid-openapi)"}


@pytest.mark.parametrize("name", sorted(p.name for p in SPECS.iterdir() if not p.name.startswith("broken")))
def test_a_rule_with_nothing_to_look_at_is_not_applicable_never_passed(name: str) -> None:
    for outcome in _review(name).outcomes:
        if outcome.status == "not_applicable":
            assert outcome.reason and not outcome.findings and outcome.checked == 0
        else:
            assert outcome.checked > 0 and outcome.reason == ""
            assert (outcome.status == "failed") == bool(outcome.findings)


def test_the_rules_still_judge_a_spec_that_failed_validation() -> None:
    result = _review("invalid.yaml")
    statuses = {o.rule.id: o.status for o in result.outcomes}
    assert statuses["valid-openapi"] == "failed"
    assert statuses["auth-responses"] == "failed" and statuses["pagination"] == "failed"


def test_a_document_the_rules_cannot_read_leaves_them_not_applicable() -> None:
    result = _review("swagger.json")
    assert [o.status for o in result.outcomes] == ["failed"] + ["not_applicable"] * len(RULES)
    assert {o.reason for o in result.outcomes[1:]} == {NOT_OPENAPI_3}


_KEYS = st.sampled_from(
    ["openapi", "paths", "webhooks", "components", "schemas", "security", "get", "post", "responses",
     "200", "429", "parameters", "requestBody", "content", "schema", "properties", "price", "items", "type",
     "$ref", "allOf", "oneOf", "name", "in", "required", "headers", "/v1/orders", "/v1/webhooks/x"]
)  # fmt: skip
_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.sampled_from(["3.0.3", "number", "header", "#/paths", "#"])
)
_JSON = st.recursive(
    _LEAVES, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=5)
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(paths=_JSON, components=_JSON, security=_JSON, version=st.sampled_from(["3.0.3", "3.1.0"]))
def test_no_document_crashes_the_review(paths: Any, components: Any, security: Any, version: str) -> None:
    doc = {"openapi": version, "info": {"title": "t", "version": "1"}, "paths": paths}
    doc |= {"components": components, "security": security}
    result = review(doc)
    assert [o.rule.id for o in result.outcomes] == ALL_RULES
    assert all(o.status != "passed" or o.checked > 0 for o in result.outcomes)
