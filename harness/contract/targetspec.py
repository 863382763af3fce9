"""A target file's `[contract]` table: where the target's OpenAPI spec is, and how long a contract run
may take. Read by harness.target (a bad field is named, exit 2); imports nothing heavy.

    [contract]
    spec = "http://127.0.0.1:{port}/openapi.json"   # a URL (templated like the others), or a file
    max_examples = 25                              # per operation and phase
    time_budget_s = 50
    exclude = ["GET /v1/stream"]                    # operations not to call, as `METHOD /path`
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..targetfields import Fields

CONTRACT_NEED = "contract"  # what a target with this table offers scenarios (Target.offers)
DEFAULT_MAX_EXAMPLES = 25
DEFAULT_TIME_BUDGET_S = 50.0  # the reference's run fits well inside a minute
MAX_EXAMPLES_LIMIT = 10_000
_OPERATION = re.compile(r"^(GET|PUT|POST|DELETE|OPTIONS|HEAD|PATCH|TRACE) /\S*$")


@dataclass(frozen=True)
class ContractSpec:
    """`spec` is a URL template (`url` true) or an absolute path to a spec file."""

    spec: str
    url: bool
    max_examples: int = DEFAULT_MAX_EXAMPLES
    time_budget_s: float = DEFAULT_TIME_BUDGET_S
    exclude: tuple[str, ...] = ()


def parse_contract(table: Fields, base: Path) -> ContractSpec | None:
    """None when the file has no `[contract]` table; URL checks are the caller's (with its others)."""
    if not table.data:
        return None
    spec = table.get("spec", str, required=True)
    if not spec.strip():
        raise table.error("spec", "must be a URL or a path to the spec file, got an empty string")
    is_url = spec.startswith(("http://", "https://"))
    if not is_url:
        if "://" in spec:
            raise table.error("spec", f"must be an http(s):// URL or a file path, got {spec!r}")
        path = (base / spec).resolve()
        if not path.is_file():
            raise table.error("spec", f"no such file: {path}")
        spec = str(path)
    max_examples = table.get("max_examples", int, DEFAULT_MAX_EXAMPLES)
    if not 1 <= max_examples <= MAX_EXAMPLES_LIMIT:
        raise table.error("max_examples", f"must be from 1 to {MAX_EXAMPLES_LIMIT}, got {max_examples}")
    budget = table.positive("time_budget_s", DEFAULT_TIME_BUDGET_S)
    exclude = table.strings("exclude")
    for index, name in enumerate(exclude):
        if not _OPERATION.match(name):
            raise table.error(f"exclude[{index}]", f"must be `METHOD /path` (GET /v1/stream), got {name!r}")
    table.no_unknown()
    return ContractSpec(spec, is_url, max_examples, budget, exclude)
