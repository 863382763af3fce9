"""The secrets sweep: every secret the topology knows, searched for in everything the middleware
said during the run (each answer's body and headers, and every line it logged). The middleware is
judged here, not the report: the report redacts anyway, so a leak is found before redaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..report.redact import NOT_SECRET_LEAVES, SECRET_KEY

MIN_LEN = 8  # shorter values (a user name "u", a port) would match ordinary text
CONTEXT = 40  # characters shown either side of a leak, the secret itself masked


@dataclass(frozen=True)
class Leak:
    secret: str  # which secret, by name: never its value
    where: str  # "log line 12", "answer to GET /v1/orders/x (body)"
    context: str  # the text around it, the secret masked

    def to_json(self) -> dict[str, str]:
        return {"secret": self.secret, "where": self.where, "context": self.context}


def known_secrets(values: Mapping[str, Any], minted: Mapping[str, str] = {}) -> dict[str, str]:
    """name -> value: each value under a secret-looking key of the topology's values (the venues'
    passwords and app secrets, the webhook secret, the admin key), and each trader key minted."""
    found: dict[str, str] = {}

    def walk(node: Any, path: str, secret: bool) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key in NOT_SECRET_LEAVES:
                    continue
                walk(
                    value, f"{path}.{key}" if path else str(key), secret or bool(SECRET_KEY.search(str(key)))
                )
        elif secret and isinstance(node, str) and len(node) >= MIN_LEN and "://" not in node:
            found.setdefault(path, node)

    walk(values, "", False)
    for owner, key in minted.items():
        if len(key) >= MIN_LEN:
            found[f"the trader key of {owner}"] = key
    return found


def sweep(secrets: Mapping[str, str], texts: Iterable[tuple[str, str]]) -> tuple[list[Leak], int]:
    """Every place a secret shows; and how many texts were searched (none searched proves nothing)."""
    leaks: list[Leak] = []
    searched = 0
    for where, text in texts:
        searched += 1
        for name, value in secrets.items():
            at = text.find(value)
            if at < 0:
                continue
            before = text[max(0, at - CONTEXT) : at]
            after = text[at + len(value) : at + len(value) + CONTEXT]
            leaks.append(Leak(name, where, f"{before}«{name}»{after}"))
    return leaks, searched


def log_lines(text: str) -> Iterable[tuple[str, str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        yield f"log line {number}", line
