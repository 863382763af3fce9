"""`uat gate --shard i/n`: the selected scenarios split across machines, deterministically.

The rule (the same on every machine, whatever the dict or set order or PYTHONHASHSEED): the selected
scenarios are sorted by their expected duration, longest first, ties broken by id; each in turn goes
to the shard with the least expected time so far (ties: fewer scenarios, then the lower index). A
scenario's expected duration comes from its declaration in the registry (expected_s): the steady,
fault and recovery phases it declares plus a fixed allowance for its setup, settle and checks. The
shards of one selection are therefore disjoint, their union is the selection, and their wall times
are balanced rather than their counts. Only the selection's ids and declarations enter the rule, so
each shard computes the others' share too, and records it (gate.json), which lets a merge name the
scenarios of a missing shard."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# Per scenario, beyond its declared phases: the world reset, setup (onboarding), the settle loop and
# the checks (measured on the reference target: 2-4 s). Only its being the same for every scenario
# matters to the balance; it keeps many short scenarios from piling onto one shard.
OVERHEAD_S = 4.0
RULE = "longest expected duration first, each to the least-loaded shard (ties: fewer, lower index)"
_SPEC = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse(text: str) -> Shard:
    """`i/n` with 1 <= i <= n; ValueError naming --shard otherwise."""
    match = _SPEC.fullmatch(text)
    if match is None:
        raise ValueError(f"--shard: {text!r} is not i/n (e.g. 1/3: the first of three shards)")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1:
        raise ValueError(f"--shard: {text!r}: the number of shards must be at least 1")
    if not 1 <= index <= count:
        raise ValueError(f"--shard: {text!r}: the shard must be between 1 and {count}")
    return Shard(index, count)


def expected_s(scenario: Any) -> float:
    """What a scenario is expected to take, from its declaration: steady + faults + recovery, and the
    fixed per-scenario allowance."""
    return OVERHEAD_S + float(scenario.steady_s) + float(scenario.fault_s) + float(scenario.recovery_s)


def split(scenarios: Sequence[Any], count: int) -> list[list[str]]:
    """The ids of each of `count` shards (index 0 is shard 1), each list sorted by id."""
    if count < 1:
        raise ValueError("the number of shards must be at least 1")
    ids = [s.id for s in scenarios]
    if len(set(ids)) != len(ids):
        raise ValueError("a selection names each scenario once")
    load = [0.0] * count
    shards: list[list[str]] = [[] for _ in range(count)]
    for scenario in sorted(scenarios, key=lambda s: (-expected_s(s), s.id)):
        best = min(range(count), key=lambda k: (load[k], len(shards[k]), k))
        shards[best].append(scenario.id)
        load[best] += expected_s(scenario)
    return [sorted(ids) for ids in shards]


def assign(scenarios: Sequence[Any], shard: Shard) -> list[Any]:
    """The scenarios of one shard, in the selection's own (registry) order."""
    mine = set(split(scenarios, shard.count)[shard.index - 1])
    return [s for s in scenarios if s.id in mine]
