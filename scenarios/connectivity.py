"""Connectivity: the venue's connection drops, resets, goes silent, or logs the middleware out."""

from __future__ import annotations

from harness.scenario import ORDER_CHECKS, Scenario, action, down, expect_down, protocol, toxic

OUTAGE_CHECKS = (*ORDER_CHECKS, "fast_fail", "admin_separation", "recovery_slo")
RECOVERY_CHECKS = (*ORDER_CHECKS, "recovery_slo")
# The reference declares a mute plant down after REFMW_WATCHDOG_S (4 s) and a pending order unknown after
# its order timeout (3 s): fast-fail is judged from 5.5 s into a silence (watchdog plus a 1.5 s margin for
# the reconnect attempt it starts), to its end.
SILENCE_S, SILENT_DETECTED_S = 8.0, 5.5

SCENARIOS = (
    Scenario(
        id="RITHMIC-ORDER-PLANT-DROP",
        title="Rithmic order plant drops for 4 s",
        description=(
            "The connection to Rithmic drops while traders are sending orders, and comes back 4 s later. "
            "Orders sent meanwhile must be refused at once (not hang), admin must keep answering, trading "
            "must resume within the recovery SLO, and no fill may be lost or counted twice."
        ),
        suite="connectivity",
        venue="rithmic",
        fault_class="connectivity",
        severity="blocker",
        schedule=(down("rithmic", for_s=4.0),),
        checks=OUTAGE_CHECKS,
    ),
    Scenario(
        id="RITHMIC-TICKER-DROP",
        title="Rithmic logs the ticker plant out",
        description=(
            "Rithmic sends ForcedLogout on the market-data (ticker) plant and closes it. The middleware must "
            "reconnect and subscribe again: quotes must be fresh again within the recovery SLO, or traders "
            "and risk checks act on frozen prices."
        ),
        suite="connectivity",
        venue="rithmic",
        fault_class="connectivity",
        severity="critical",
        schedule=(protocol("rithmic", "forced_logout", plant="ticker", count=1, for_s=1.0),),
        checks=(*RECOVERY_CHECKS, "quotes_resume"),
        recovery_s=5.0,
    ),
    Scenario(
        id="RITHMIC-RESET-PEER",
        title="Rithmic connections reset (TCP RST) for 3 s",
        description=(
            "Every connection to Rithmic is reset by the network for 3 s. The middleware must reconnect "
            "when it clears and carry on without losing or duplicating anything."
        ),
        suite="connectivity",
        venue="rithmic",
        fault_class="connectivity",
        severity="critical",
        schedule=(toxic("rithmic", "reset_peer", for_s=3.0, timeout=0),),
        checks=RECOVERY_CHECKS,
        recovery_s=4.0,
    ),
    Scenario(
        id="RITHMIC-SILENT-NETWORK",
        title="The network to Rithmic goes silent for 8 s (timeout toxic)",
        description=(
            "Data to the middleware stops while the TCP connection stays open, as with a dead NAT entry. "
            "The middleware's own watchdog must notice, refuse orders fast instead of letting them wait, "
            "and reconnect once the network is back."
        ),
        suite="connectivity",
        venue="rithmic",
        fault_class="connectivity",
        severity="blocker",
        schedule=(
            toxic("rithmic", "timeout", for_s=SILENCE_S, timeout=0),
            expect_down(
                "rithmic",
                "silent: watchdog should have fired",
                at=SILENT_DETECTED_S,
                for_s=SILENCE_S - SILENT_DETECTED_S,
            ),
        ),
        checks=OUTAGE_CHECKS,
        steady_s=1.5,
        recovery_s=4.0,
    ),
    Scenario(
        id="RITHMIC-SILENT-GATEWAY",
        title="The Rithmic gateway goes mute for 8 s (mock silent mode)",
        description=(
            "Rithmic keeps the socket open and answers pings but sends nothing else: no responses, no "
            "heartbeats, no fills. A middleware without a watchdog takes it for healthy and lets orders "
            "wait; ours must declare it down, refuse orders fast and recover when it speaks again."
        ),
        suite="connectivity",
        venue="rithmic",
        fault_class="connectivity",
        severity="blocker",
        schedule=(
            protocol("rithmic", "silent", plant="order", for_s=SILENCE_S),
            expect_down(
                "rithmic",
                "silent: watchdog should have fired",
                at=SILENT_DETECTED_S,
                for_s=SILENCE_S - SILENT_DETECTED_S,
            ),
        ),
        checks=OUTAGE_CHECKS,
        steady_s=1.5,
        recovery_s=4.0,
    ),
    Scenario(
        id="RITHMIC-FORCED-LOGOUT",
        title="Rithmic forces the order plant to log out",
        description=(
            "Rithmic sends ForcedLogout on the order plant and closes the connection. The middleware must "
            "log in again at once: orders must be accepted again within the recovery SLO."
        ),
        suite="connectivity",
        venue="rithmic",
        fault_class="connectivity",
        severity="blocker",
        schedule=(protocol("rithmic", "forced_logout", plant="order", count=1, for_s=1.0),),
        checks=RECOVERY_CHECKS,
    ),
    Scenario(
        id="RITHMIC-SESSION-LIMIT-STORM",
        title="Rithmic's session limit logs sessions out for 3 s",
        description=(
            "Rithmic enforces one session per user for 3 s, logging out the earliest sessions as new ones "
            "log in: a logout storm, set off by a ForcedLogout of the order plant (its login again is the "
            "first new one). Once it ends the middleware must settle on working sessions."
        ),
        suite="connectivity",
        venue="rithmic",
        fault_class="connectivity",
        severity="critical",
        schedule=(
            protocol("rithmic", "session_limit", max_sessions=1, for_s=3.0),
            # The limit is enforced at login: without a login inside the window it never fires.
            protocol("rithmic", "forced_logout", at=0.2, plant="order", count=1, for_s=1.0),
        ),
        checks=RECOVERY_CHECKS,
        recovery_s=4.0,
    ),
    Scenario(
        id="RITHMIC-SLOW-LOGIN",
        title="Rithmic logs the order plant out and answers the next login 2 s late",
        description=(
            "After a ForcedLogout, Rithmic takes 2 s to answer the login. Orders meanwhile must not hang "
            "or be lost, and trading must resume once the login completes."
        ),
        suite="connectivity",
        venue="rithmic",
        fault_class="connectivity",
        severity="normal",
        schedule=(
            protocol("rithmic", "slow_login", delay_ms=2000, count=1, for_s=3.0),
            protocol("rithmic", "forced_logout", at=0.2, plant="order", count=1, for_s=1.0),
        ),
        checks=RECOVERY_CHECKS,
        recovery_s=4.0,
    ),
    Scenario(
        id="TT-API-DOWN",
        title="The TT REST API is down for 4 s while a trader onboards",
        description=(
            "TT is unreachable for 4 s and a new trader signs up meanwhile. Rithmic trading and the admin "
            "API must be unaffected, and the new account must be provisioned at TT once it is back."
        ),
        suite="connectivity",
        venue="tt",
        fault_class="connectivity",
        severity="critical",
        schedule=(
            down("tt", for_s=4.0),
            action("stripe", "stripe_send", at=0.5, types=("checkout.session.completed",)),
        ),
        checks=(*ORDER_CHECKS, "admin_separation", "recovery_slo", "tt_provisioned"),
    ),
)
