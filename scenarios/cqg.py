"""CQG: the third execution venue. The traders' accounts are routed to CQG by the back office, and the
WebAPI session is dropped, kicked, refused its restore, muted, and fed duplicated, reordered and held
order statuses. The checks hold the middleware against the CQG mock's ledger."""

from __future__ import annotations

from harness.scenario import ORDER_CHECKS, Evidence, Scenario, down, expect_down, expect_up, protocol

OUTAGE_CHECKS = (*ORDER_CHECKS, "fast_fail", "admin_separation", "recovery_slo")
RECOVERY_CHECKS = (*ORDER_CHECKS, "recovery_slo")
# The reference pings CQG every 2 s and drops a session whose pong is 4 s late: a mute gateway is
# seen as down within 6 s, and fast-fail is judged from 7.5 s in (a 1.5 s margin) to the end.
MUTE_S, MUTE_DETECTED_S = 10.0, 7.5

SCENARIOS = (
    Scenario(
        id="CQG-ORDER-FLOW",
        title="Traders routed to CQG trade through its WebAPI",
        description=(
            "The back office routes every trader's account to CQG, and they trade for 4 s with nothing "
            "broken. Every order must reach CQG once, every fill must be booked, and positions must be "
            "the signed sum of CQG's fills: the baseline the other CQG scenarios break."
        ),
        suite="cqg",
        venue="cqg",
        fault_class="order flow",
        severity="blocker",
        schedule=(),
        checks=(*ORDER_CHECKS, "db_reconcile"),
        steady_s=4.0,
        recovery_s=1.0,
    ),
    Scenario(
        id="CQG-LINK-DROP",
        title="The connection to CQG drops for 4 s",
        description=(
            "CQG is unreachable for 4 s while traders send orders. Orders meanwhile must be refused at "
            "once, admin must keep answering, and once CQG is back the middleware must restore its session "
            "(or log on again), subscribe again, and trade within the recovery SLO, losing no fill."
        ),
        suite="cqg",
        venue="cqg",
        fault_class="connectivity",
        severity="blocker",
        schedule=(down("cqg", for_s=4.0),),
        checks=OUTAGE_CHECKS,
        recovery_s=4.0,
    ),
    Scenario(
        id="CQG-CONCURRENT-SESSION-KICK",
        title="CQG logs the session off for a concurrent logon (105)",
        description=(
            "CQG ends the middleware's session as if the same user had logged on elsewhere: LoggedOff "
            "reason 4, then a close, and the session can no longer be restored. The middleware must log "
            "on afresh and trade again within the recovery SLO."
        ),
        suite="cqg",
        venue="cqg",
        fault_class="connectivity",
        severity="critical",
        schedule=(protocol("cqg", "concurrent_session", count=1, for_s=1.0),),
        checks=RECOVERY_CHECKS,
        recovery_s=4.0,
    ),
    Scenario(
        id="CQG-RESTORE-REFUSED",
        title="After a drop, CQG refuses to restore the session (101)",
        description=(
            "The connection drops for 2 s, and CQG answers the restore-or-join that follows with 101 "
            "(unknown session). The middleware must fall back to a full logon, subscribe again, and "
            "reconcile from the trade snapshot, within the recovery SLO."
        ),
        suite="cqg",
        venue="cqg",
        fault_class="connectivity",
        severity="critical",
        schedule=(
            protocol("cqg", "restore_failure", code=101, count=3, for_s=6.0),
            down("cqg", at=0.5, for_s=2.0),
        ),
        checks=OUTAGE_CHECKS,
        recovery_s=4.0,
    ),
    Scenario(
        id="CQG-LOGONS-REFUSED-SESSION-RESTORED",
        title="CQG refuses logons for 12 s and the connection drops meanwhile",
        description=(
            "CQG's logon service fails (result 104) for 12 s, and 0.5 s in the connection drops for 2 s. "
            "The session itself lives on at CQG: a middleware that restores it by its token is trading "
            "again as soon as the link is back, while one that only logs on afresh is locked out until "
            "the logon service returns. Trading must resume within the logon outage."
        ),
        suite="cqg",
        venue="cqg",
        fault_class="connectivity",
        severity="critical",
        schedule=(
            protocol("cqg", "logon_result", code=104, text="logon service unavailable", for_s=12.0),
            down("cqg", at=0.5, for_s=2.0),
            expect_up("cqg", "restored: trading again while logons are still refused", at=6.0, for_s=6.0),
        ),
        checks=(*ORDER_CHECKS, "trading_resumes", "recovery_slo"),
        recovery_s=3.0,
        # a build that restores never logs on, so the refusal need not fire: the drop must
        evidence=Evidence(faults_fired=("cqg:down",)),
    ),
    Scenario(
        id="CQG-SILENT-GATEWAY",
        title="CQG goes mute for 10 s: no replies, no pings, no pongs",
        description=(
            "The socket to CQG stays open but nothing comes back. A middleware that waits on the socket "
            "takes it for healthy and lets orders hang; ours must notice by its ping watchdog, refuse "
            "orders at once, and trade again once CQG speaks."
        ),
        suite="cqg",
        venue="cqg",
        fault_class="connectivity",
        severity="blocker",
        schedule=(
            protocol("cqg", "silent", for_s=MUTE_S),
            expect_down(
                "cqg",
                "silent: the ping watchdog should have fired",
                at=MUTE_DETECTED_S,
                for_s=MUTE_S - MUTE_DETECTED_S,
            ),
        ),
        checks=OUTAGE_CHECKS,
        recovery_s=4.0,
    ),
    Scenario(
        id="CQG-DUPLICATE-STATUSES",
        title="CQG sends every order status twice",
        description=(
            "For 3 s every order status from CQG arrives twice, fills included, with the same trade ids. "
            "Each fill must be booked once: positions are the signed sum of CQG's fills, not of its "
            "messages."
        ),
        suite="cqg",
        venue="cqg",
        fault_class="execution integrity",
        severity="blocker",
        schedule=(protocol("cqg", "duplicate_status", for_s=3.0),),
        checks=(*ORDER_CHECKS, "db_reconcile"),
    ),
    Scenario(
        id="CQG-FILL-BEFORE-WORKING",
        title="CQG reports orders' fills before their WORKING status",
        description=(
            "For 3 s CQG sends each immediately filled order's fill first and its WORKING status after. "
            "The late WORKING must not reopen a filled order, nor may the fill be lost."
        ),
        suite="cqg",
        venue="cqg",
        fault_class="execution integrity",
        severity="critical",
        schedule=(protocol("cqg", "out_of_order", for_s=3.0),),
        checks=(*ORDER_CHECKS, "db_reconcile"),
    ),
    Scenario(
        id="CQG-FILLS-HELD-ACROSS-RECONNECT",
        title="Orders fill at CQG while the middleware is cut off",
        description=(
            "CQG holds fill statuses for 1.5 s and the connection drops meanwhile for 2.5 s, so orders "
            "fill while the middleware cannot hear it. After reconnecting it must book every such fill "
            "from the trade snapshot that completes the new subscription."
        ),
        suite="cqg",
        venue="cqg",
        fault_class="execution integrity",
        severity="blocker",
        schedule=(
            protocol("cqg", "hold_fills", delay_ms=1500, for_s=0.8),
            down("cqg", at=0.5, for_s=2.5),
        ),
        checks=(*ORDER_CHECKS, "fast_fail", "recovery_slo", "db_reconcile"),
    ),
    Scenario(
        id="CQG-SCALED-DECIMALS",
        title="CQG writes quantities with a negative Decimal exponent",
        description=(
            "For 3 s CQG's order statuses carry every quantity as significand x 10^-2: two contracts are "
            "{200, -2}, as valid as {2, 0}. A middleware that reads the significand and ignores the "
            "exponent books a hundred contracts for each one: positions must still be CQG's."
        ),
        suite="cqg",
        venue="cqg",
        fault_class="execution integrity",
        severity="blocker",
        schedule=(protocol("cqg", "scaled_decimals", exponent=-2, for_s=3.0),),
        checks=(*ORDER_CHECKS, "db_reconcile"),
    ),
    Scenario(
        id="CQG-ORDER-REJECTS",
        title="CQG rejects every new order for 3 s",
        description=(
            "CQG answers new orders with an OrderRequestReject for 3 s. Each must end rejected in the "
            "middleware with no position, and none may be sent again."
        ),
        suite="cqg",
        venue="cqg",
        fault_class="execution integrity",
        severity="critical",
        schedule=(protocol("cqg", "order_reject", for_s=3.0),),
        checks=(*ORDER_CHECKS, "db_reconcile"),
    ),
    Scenario(
        id="CQG-MALFORMED-FRAMES",
        title="CQG sends garbage, truncated, unknown-field and text frames",
        description=(
            "For 3 s every market step brings the middleware a frame of random bytes, a message cut "
            "short, one with a field no client knows, and a text frame. The session must survive them "
            "all (a parser that chokes drops the connection or its orders) and lose nothing."
        ),
        suite="cqg",
        venue="cqg",
        fault_class="malformed payloads",
        severity="critical",
        schedule=(
            protocol("cqg", "garbage_frame", for_s=3.0),
            protocol("cqg", "truncated_message", for_s=3.0),
            protocol("cqg", "unknown_field", for_s=3.0),
            protocol("cqg", "text_frame", for_s=3.0),
        ),
        checks=RECOVERY_CHECKS,
    ),
)
