"""Malformed: the venue sends bytes the middleware cannot parse; it must survive and carry on."""

from __future__ import annotations

from typing import Any

from harness.scenario import ORDER_CHECKS, Scenario, action, protocol

RECOVERY_CHECKS = (*ORDER_CHECKS, "recovery_slo")


def _frame(id_: str, fault: str, what: str, **params: Any) -> Scenario:
    return Scenario(
        id=id_,
        title=f"Rithmic pushes {what} on the order plant",
        description=(
            f"Rithmic sends {what} on the order plant, three times over 2 s. The middleware may drop the "
            "connection, but must not crash or wedge: trading resumes within the recovery SLO and no fill "
            "is lost or counted twice."
        ),
        suite="malformed",
        venue="rithmic",
        fault_class="malformed payload",
        severity="critical",
        schedule=tuple(
            protocol("rithmic", fault, at=at, for_s=0.3, plant="order", **params) for at in (0, 0.8, 1.6)
        ),
        checks=RECOVERY_CHECKS,
        recovery_s=4.0,
    )


SCENARIOS = (
    _frame("MALFORMED-GARBAGE-FRAME", "garbage_frame", "a frame of random bytes"),
    _frame("MALFORMED-TRUNCATED-PROTOBUF", "truncated_frame", "a protobuf message cut short"),
    _frame("MALFORMED-UNKNOWN-TEMPLATE", "unknown_template", "a message with an unknown template id"),
    _frame("MALFORMED-WRONG-LENGTH-PREFIX", "wrong_length_prefix", "a frame whose length prefix lies"),
    _frame("MALFORMED-OVERSIZED-PAYLOAD", "garbage_frame", "an oversized (256 KiB) frame", size=262144),
    Scenario(
        id="TT-MALFORMED-JSON",
        title="TT answers account provisioning with broken JSON",
        description=(
            "TT answers the next two account-provisioning calls with a truncated JSON body while a trader "
            "signs up. The middleware must treat it as an error and retry: the account ends provisioned."
        ),
        suite="malformed",
        venue="tt",
        fault_class="malformed payload",
        severity="normal",
        schedule=(
            protocol("tt", "malformed_json", path="/ttaccount", count=2, for_s=2.0),
            action("stripe", "stripe_send", at=0.1, types=("checkout.session.completed",)),
        ),
        checks=("tt_provisioned",),
        workload="quiet",
        traders=1,
        recovery_s=1.0,
    ),
)
