"""Placeholders: whole-string ones keep their JSON type, inner ones become text, missing ones blank."""

from __future__ import annotations

import pytest

from mocks.zapier.template import TemplateError, check, render, render_text

SCOPE = {
    "trigger": {"amount": 12.5, "tags": ["a", "b"], "ok": True, "none": None, "c": {"email": "x@y.z"}},
    "steps": {"contract": {"envelopeId": "e1", "n": 3}},
    "env": {"base": "http://127.0.0.1:5"},
}


def test_render_keeps_types_and_interpolates_text() -> None:
    template = {
        "amount": "{{trigger.amount}}", "tags": "{{ trigger.tags }}", "ok": "{{trigger.ok}}",
        "first": "{{trigger.tags.0}}", "third": "{{trigger.tags.2}}", "gone": "{{trigger.nope.x}}",
        "text": "{{trigger.c.email}} paid {{trigger.amount}} ({{trigger.ok}}, {{trigger.none}})"
        " {{trigger.tags}}",
        "env": "{{env.base}}/x", "nested": [{"id": "{{steps.contract.envelopeId}}"}, 7, None],
        "{{steps.contract.envelopeId}}": "key",
    }  # fmt: skip
    assert render(template, SCOPE) == {
        "amount": 12.5, "tags": ["a", "b"], "ok": True, "first": "a", "third": None, "gone": None,
        "text": 'x@y.z paid 12.5 (true, ) ["a","b"]', "env": "http://127.0.0.1:5/x",
        "nested": [{"id": "e1"}, 7, None], "e1": "key",
    }  # fmt: skip
    assert (
        render_text("{{steps.contract.n}}", SCOPE) == "3"
        and render_text("{{trigger}}", {"trigger": 1}) == "1"
    )


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("nope.x", "trigger, steps or env"),
        ("env", "env.NAME"),
        ("env.a.b", "env.NAME"),
        ("env.missing", "--set missing="),
        ("steps.later.id", "no earlier step"),
        ("steps", "no earlier step"),
        ("trigger.a b", "segments"),
    ],
)
def test_check_refuses(expression: str, words: str) -> None:
    with pytest.raises(TemplateError, match=words):
        check(expression, ["contract"], {"base": "x"})


def test_check_accepts() -> None:
    for expression in ("trigger", "trigger.a.0.b", "steps.contract", "steps.contract.x-y", "env.base"):
        check(expression, ["contract"], {"base": "x"})
