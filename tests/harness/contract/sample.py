"""A contract run recorded by hand: what the output and Allure tests read."""

from __future__ import annotations

from harness.contract import CHECK_NAMES, Budget, CaseFailure, CheckOutcome, ContractRun, OperationResult

CURL = "curl -X POST -H 'Content-Type: application/json' -d '{\"name\": \"\"}' http://127.0.0.1:8000/items"
SERVER_ERROR = CaseFailure("not_a_server_error", "Server error", "Received: 500", 500, CURL)
STATEFUL_CURL = "curl -X POST http://127.0.0.1:8000/items\ncurl -X DELETE http://127.0.0.1:8000/items/1"


def _outcomes(**special: CheckOutcome) -> tuple[CheckOutcome, ...]:
    return tuple(special.get(name, CheckOutcome(name, "passed", 3)) for name in CHECK_NAMES)


NO_SECURITY = "the spec declares no security requirement for this operation"
CREATE = OperationResult(
    "POST /items",
    _outcomes(
        not_a_server_error=CheckOutcome("not_a_server_error", "failed", 12, (SERVER_ERROR,)),
        ignored_auth=CheckOutcome("ignored_auth", "not_run", reason=NO_SECURITY, by_spec=True),
    ),
    cases=12,
)
READ = OperationResult(
    "GET /items/{item_id}",
    _outcomes(
        use_after_free=CheckOutcome(
            "use_after_free",
            "failed",
            2,
            (
                CaseFailure(
                    "use_after_free", "Deleted resource still available", "got 200", 200, STATEFUL_CURL
                ),
            ),
        ),
        ignored_auth=CheckOutcome("ignored_auth", "not_run", reason=NO_SECURITY, by_spec=True),
    ),
    cases=7,
    errors=("Network Error: connection refused",),
)
NOTHING = OperationResult(
    "GET /ping",
    tuple(CheckOutcome(name, "not_run", reason="the operation was not called") for name in CHECK_NAMES),
)
RUN = ContractRun(
    target="broken",
    spec="http://127.0.0.1:8000/openapi.json",
    base_url="http://127.0.0.1:8000",
    budget=Budget(seed=7, max_examples=10, time_budget_s=30.0),
    operations=(CREATE, READ, NOTHING),
    wall_s=1.25,
    excluded=("GET /stream",),
)
