"""A mutant's case, shared by the reference's test files: what to do to a build and whether it came
out right. The healthy build must come out right and the mutant must not, each with its evidence."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from .conftest import Env

Outcome = tuple[bool, str]  # (the build behaved correctly, what was seen)


@dataclass(frozen=True)
class Scenario:
    run: Callable[[Env], Outcome]
    extra_env: dict[str, str] = field(default_factory=dict)
    before_start: Callable[[Env], None] | None = None  # e.g. a venue fault armed before the start


def judge(env: Env, name: str, scenario: Scenario, *, mutant: bool) -> None:
    """Restarts the middleware (with the mutant `name` switched on, or healthy) and runs the case."""
    hook = scenario.before_start
    env.restart(
        name if mutant else "",
        extra_env=scenario.extra_env,
        before_start=(lambda: hook(env)) if hook is not None else None,
    )
    correct, evidence = scenario.run(env)
    print(f"{'mutant' if mutant else 'healthy'} {name}: {evidence}")
    if mutant:
        assert not correct, f"mutant {name} was not exposed: {evidence}"
    else:
        assert correct, f"healthy build failed {name}: {evidence}\n{env.log()}"


def case_tests(
    scenarios: dict[str, Scenario], slow: frozenset[str] = frozenset()
) -> tuple[Callable[[Env, str], None], Callable[[Env, str], None]]:
    """The pair every mutant-case file runs: the healthy build passes each case, each mutant fails its
    own. `slow`: the mutants whose case waits out a whole bound (marked slow, for the mutant side)."""

    def params(marked: frozenset[str]) -> list[object]:
        return [pytest.param(n, marks=[pytest.mark.slow] if n in marked else []) for n in scenarios]

    @pytest.mark.parametrize("name", params(frozenset()))
    def healthy(env: Env, name: str) -> None:
        judge(env, name, scenarios[name], mutant=False)

    @pytest.mark.parametrize("name", params(slow))
    def mutant(env: Env, name: str) -> None:
        judge(env, name, scenarios[name], mutant=True)

    return healthy, mutant
