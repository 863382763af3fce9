"""`uat spec review`: an OpenAPI spec judged before the agency implements it.

Validation (openapi-spec-validator), then the trading API's rules (rules.RULES: idempotent order
placement, credentials and auth answers, error schemas, decimal money, pagination, signed
webhooks), into one outcome per rule: passed, failed with findings at JSON pointers, or not
applicable with the reason. Any blocker fails the review (exit 1); a spec that cannot be read is a
usage error (exit 2).
"""

from .allure import write_allure
from .load import REFERENCE, LoadedSpec, SpecUnreadable, load
from .model import Finding, Outcome, RuleInfo, Severity, Status
from .output import print_review, to_json, verdict_line
from .review import Review, review
from .rules import RULES
from .validate import VALID_OPENAPI

__all__ = [
    "REFERENCE",
    "RULES",
    "VALID_OPENAPI",
    "Finding",
    "LoadedSpec",
    "Outcome",
    "Review",
    "RuleInfo",
    "Severity",
    "SpecUnreadable",
    "Status",
    "load",
    "print_review",
    "review",
    "to_json",
    "verdict_line",
    "write_allure",
]
