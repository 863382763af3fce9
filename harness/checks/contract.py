"""The API's contract, judged from a Schemathesis run against the live middleware (harness.contract):
each checker reads the run the `contract` workload left in `extras["contract"]` and groups some of
its checks. A check the spec gives nothing to judge, or that no case reached, was NOT RUN, and a
group made only of such checks is never passed: skipped when it hangs on what the spec declares (no
security, no required header, no link; or, said apart, a link or scheme the run never reached),
without evidence otherwise."""

from __future__ import annotations

from typing import Any

from ..contract import ContractRun
from .base import Verdict, checker

MAX_CASES = 20  # failing cases quoted as evidence; the summary counts them all

# checker -> (its Schemathesis checks, whether a group with nothing judged is skipped)
GROUPS: dict[str, tuple[tuple[str, ...], bool]] = {
    "contract_server_errors": (("not_a_server_error",), False),
    "contract_conformance": (
        ("status_code_conformance", "content_type_conformance", "response_schema_conformance"),
        False,
    ),
    "contract_validation": (("negative_data_rejection", "positive_data_acceptance"), False),
    "contract_auth": (("missing_required_header", "ignored_auth"), True),
    "contract_stateful": (("use_after_free", "ensure_resource_availability"), True),
}


def judge(name: str, run: ContractRun | None) -> Verdict:
    checks, skippable = GROUPS[name]
    if run is None:
        return Verdict.no_evidence(name, "no contract run was made")
    failures: list[dict[str, Any]] = []
    passed: list[str] = []
    cases = 0
    not_run: dict[str, list[str]] = {}
    unreached = 0  # not run for want of the run, not of the spec: never a skip
    for op in run.operations:
        for outcome in op.outcomes:
            if outcome.check not in checks:
                continue
            if outcome.status == "failed":
                failures += [{"operation": op.label, **f.to_json()} for f in outcome.failures]
            elif outcome.status == "passed":
                passed.append(f"{op.label} {outcome.check}")
                cases += outcome.cases
            else:
                not_run.setdefault(f"{outcome.check}: {outcome.reason}", []).append(op.label)
                unreached += not outcome.by_spec
        if name == "contract_server_errors":
            failures += [{"operation": op.label, "check": "no_answer", "message": e} for e in op.errors]
    if failures:
        return Verdict.fail(
            name,
            f"{len(failures)} failing case(s) on "
            f"{len({f['operation'] for f in failures})} operation(s) ({', '.join(checks)})",
            failures[:MAX_CASES],
            "contract breach",
        )
    why = "; ".join(f"{reason} ({len(ops)} operation(s))" for reason, ops in not_run.items())
    if not passed:
        if skippable and unreached:
            # The spec declares what this group judges but the run never got there. Strictly that is
            # no evidence; it stays a skip until the reference's contract run can reach its links
            # (issue #13), and says which it is.
            return Verdict.skip(name, f"declared by the spec but not reached by this run: {why}")
        if skippable:
            return Verdict.skip(name, f"cannot be judged against this spec and target: {why}")
        return Verdict.no_evidence(name, f"no case was judged: {why or 'no operation was run'}")
    return Verdict.ok(
        name,
        f"{len(passed)} operation check(s) passed over {cases} case(s)"
        + (f"; not run: {why}" if why else ""),
        [{"stopped": run.stopped, "wall_s": round(run.wall_s, 1), "operations": len(run.operations)}],
    )


def _register(name: str) -> None:
    checker(name)(lambda ctx: judge(name, ctx.extras.get("contract")))


for _name in GROUPS:
    _register(_name)
