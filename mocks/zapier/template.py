"""Step templates: `{{trigger.a.b}}`, `{{steps.<name>.x}}` and `{{env.NAME}}` placeholders in a JSON value.

A string that is exactly one placeholder becomes the value it names, keeping its JSON type (an
amount stays a number, a list stays a list); a placeholder inside a longer string is interpolated as
text. A path that names nothing renders as null, or as "" inside text, as Zapier leaves an unmapped
field blank. Placeholders are checked when the config loads (`check`), so a typo is a config error
naming the field, not a run that silently sends blanks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
SEGMENT = re.compile(r"[A-Za-z0-9_\-]+")
ROOTS = ("trigger", "steps", "env")


class TemplateError(ValueError):
    """A placeholder that cannot be resolved; the message says which and why."""


def placeholders(value: Any) -> Iterable[str]:
    """Every placeholder expression in a JSON value (strings, and dict keys too)."""
    if isinstance(value, str):
        yield from (m.group(1) for m in PLACEHOLDER.finditer(value))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from placeholders(key)
            yield from placeholders(item)
    elif isinstance(value, list):
        for item in value:
            yield from placeholders(item)


def check(expression: str, earlier_steps: Iterable[str], env: Mapping[str, str]) -> None:
    """TemplateError unless `expression` can resolve when the step runs."""
    parts = expression.split(".")
    if parts[0] not in ROOTS:
        raise TemplateError(f"{{{{{expression}}}}}: must start with trigger, steps or env")
    if any(not SEGMENT.fullmatch(p) for p in parts[1:]):
        raise TemplateError(f"{{{{{expression}}}}}: path segments are letters, digits, _ or -")
    if parts[0] == "env":
        if len(parts) != 2:
            raise TemplateError(f"{{{{{expression}}}}}: must be env.NAME")
        if parts[1] not in env:
            raise TemplateError(f"{{{{{expression}}}}}: no value; pass --set {parts[1]}=...")
    if parts[0] == "steps":
        earlier = list(earlier_steps)
        if len(parts) < 2 or parts[1] not in earlier:
            known = ", ".join(earlier) or "none"
            raise TemplateError(f"{{{{{expression}}}}}: names no earlier step (earlier steps: {known})")


def lookup(expression: str, scope: Mapping[str, Any]) -> Any:
    """The value a placeholder names in `scope` ({"trigger", "steps", "env"}), or None."""
    value: Any = scope
    for part in expression.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and len(part) < 10:
            index = int(part)
            value = value[index] if index < len(value) else None
        else:
            return None
    return value


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return json.dumps(value)
    return json.dumps(value, separators=(",", ":"))


def render(value: Any, scope: Mapping[str, Any]) -> Any:
    """`value` with every placeholder replaced from `scope`; a new value, the template untouched."""
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value)
        if whole is not None:
            return lookup(whole.group(1), scope)
        return PLACEHOLDER.sub(lambda m: as_text(lookup(m.group(1), scope)), value)
    if isinstance(value, dict):
        return {render_text(k, scope): render(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [render(item, scope) for item in value]
    return value


def render_text(value: str, scope: Mapping[str, Any]) -> str:
    """A string template rendered as text (URLs, header values, dict keys, form fields)."""
    return PLACEHOLDER.sub(lambda m: as_text(lookup(m.group(1), scope)), value)
