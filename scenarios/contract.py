"""The API's contract: Schemathesis against the live middleware and the OpenAPI spec its target file
names (`[contract]`), with no fault: what the agency promised in its spec is what its code does."""

from __future__ import annotations

from harness.scenario import Scenario

SCENARIOS = (
    Scenario(
        id="CONTRACT-OPENAPI",
        title="The live API keeps its OpenAPI contract",
        description=(
            "Schemathesis generates requests from the spec the target file names, valid and invalid, and "
            "sends them to the freshly started middleware (one onboarded trader, so lists are not empty), "
            "derandomised by the gate's seed and bounded by the file's example count and time budget. No "
            "request may get a 5xx or go unanswered; every status, media type and body must be the "
            "documented one; invalid requests must be refused and valid ones accepted. Where the spec "
            "declares security, required headers and links, requests without credentials must be refused "
            "and linked sequences must find what was created and lose what was deleted; where it does "
            "not, those checks are skipped with the reason, never passed. Each failing case comes with "
            "the curl command that reproduces it."
        ),
        suite="contract",
        venue="middleware",
        fault_class="contract",
        severity="critical",
        schedule=(),
        checks=(
            "contract_server_errors",
            "contract_conformance",
            "contract_validation",
            "contract_auth",
            "contract_stateful",
        ),
        traders=1,
        workload="contract",
    ),
)
