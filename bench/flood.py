"""The other traders' order acks while one client floods the reference middleware: p50 and p99 without
the flood and with it, measured in the same run, and the ratio.

    .venv/bin/python bench/flood.py [--quiet-s 10] [--flood-s 10] [--multiplier 50] [--seed 7]

One topology, one middleware, four traders: three trade through the whole run, the fourth's client
reads its positions at `--multiplier` times a trader's normal rate (with its own key) once the first
`--quiet-s` seconds of the fault phase have passed. Acks are the traders' `place_order` latencies as
the harness's adapter measured them. The flooding client's own answers (429s) are summarised too.
Prints figures and the ratio; never passes or fails.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

from _common import percentile

from harness import target
from harness.scenario import Evidence, Scenario, ScenarioRunner, action
from harness.topology import Topology
from scenarios.security import SCENARIOS


def _acks(result: Any, flooder: str, start: float, end: float) -> list[float]:
    """The other traders' acknowledged orders sent in [start, end): every account but the flooder's."""
    return [
        float(done.latency_ms or 0.0)
        for invoked, done in result.history.completions("place_order")
        if invoked.value.get("account") != flooder and start <= invoked.time < end and done.status == 202
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quiet-s", type=float, default=10.0)
    ap.add_argument("--flood-s", type=float, default=10.0)
    ap.add_argument("--multiplier", type=float, default=50.0)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    base = next(s for s in SCENARIOS if s.id == "SECURITY-FLOOD")
    scenario: Scenario = replace(
        base,
        id="BENCH-FLOOD",
        steady_s=2.0,
        recovery_s=0.5,
        max_orders_per_trader=1000,
        schedule=(
            action("middleware", "flood", at=args.quiet_s, for_s=args.flood_s, multiplier=args.multiplier),
        ),
        evidence=Evidence(orders_during_faults=0),
    )
    with Topology(target.load("reference"), seed=args.seed, backend="embedded") as topo:
        runner = ScenarioRunner(topo, args.seed)
        result = runner.run(scenario)
        flood = runner.flood
    assert flood is not None, "the flood never ran"
    quiet = _acks(result, flood.account, 0.0, flood.started)
    flooded = _acks(result, flood.account, flood.started, flood.ended)
    limited = sum(1 for s in flood.shots if s.status == 429)
    print(
        f"flood: {len(flood.shots)} requests at {flood.achieved_rps:.0f}/s "
        f"(aimed at {flood.rate_rps:.0f}/s), {limited} got 429"
    )
    for name, samples in (("without the flood", quiet), ("with the flood", flooded)):
        if len(samples) < 20:
            print(f"{name}: {len(samples)} acks, too few for percentiles")
            continue
        print(
            f"{name:>18}: {len(samples):4d} acks  p50 {percentile(samples, 50):6.1f} ms  "
            f"p99 {percentile(samples, 99):6.1f} ms"
        )
    if len(quiet) >= 20 and len(flooded) >= 20:
        for q in (50, 99):
            ratio = percentile(flooded, q) / percentile(quiet, q)
            print(f"p{q} with/without the flood: {ratio:.2f}x")
    print("verdicts:", ", ".join(f"{v.check} {v.status}" for v in result.verdicts))


if __name__ == "__main__":
    main()
