"""Latency: the network to the venue slows down, chokes or fragments."""

from __future__ import annotations

from harness.scenario import ORDER_CHECKS, FaultStep, Scenario, protocol, toxic


def loss_bursts(venue: str, *, for_s: float) -> FaultStep:
    """Segment loss in bursts (the packet_loss extension toxic) on what the venue sends: about 5% of
    transmissions lost on average, most of them in the bad state; RTOs from 200 ms doubling to 1.6 s."""
    return toxic(
        venue,
        "packet_loss",
        for_s=for_s,
        good_to_bad_ppm=50_000,
        bad_to_good_ppm=300_000,
        good_loss_ppm=5_000,
        bad_loss_ppm=400_000,
        rto_ms=200,
        max_rto_ms=1600,
    )


RECOVERY_CHECKS = (*ORDER_CHECKS, "recovery_slo")

SCENARIOS = (
    Scenario(
        id="LATENCY-ORDER-PATH-SPIKE",
        title="An 800±200 ms latency spike on the order path, with client retries",
        description=(
            "Answers from Rithmic take 800±200 ms for 4 s, and traders' clients, seeing slow answers, "
            "retry some orders with the same client_order_id. Each client_order_id must reach the venue "
            "once, and nothing may be lost."
        ),
        suite="latency",
        venue="rithmic",
        fault_class="latency",
        severity="blocker",
        schedule=(toxic("rithmic", "latency", for_s=4.0, latency=800, jitter=200),),
        checks=RECOVERY_CHECKS,
        client_retry_rate=0.35,
    ),
    Scenario(
        id="LATENCY-ORDER-TIMEOUT-RETRY",
        title="Rithmic answers slower than the middleware's order timeout",
        description=(
            "Answers from Rithmic take 1.5 s for 4 s, longer than the middleware's order timeout (set to "
            "1 s here). An order whose answer times out is unknown, not failed: it must never be sent "
            "again, and its outcome must be known after recovery."
        ),
        suite="latency",
        venue="rithmic",
        fault_class="latency",
        severity="blocker",
        schedule=(toxic("rithmic", "latency", for_s=4.0, latency=1500),),
        checks=RECOVERY_CHECKS,
        settings={"order_timeout_s": 1.0},
        recovery_s=4.0,
    ),
    Scenario(
        id="LATENCY-MARKET-DATA-ONLY",
        title="Market data degrades (frozen quotes, gaps) while orders are unaffected",
        description=(
            "Rithmic's market data freezes its best bid/offer and skips ticks for 3 s; the order path is "
            "untouched. Orders must carry on normally and quotes must be fresh again after."
        ),
        suite="latency",
        venue="rithmic",
        fault_class="latency",
        severity="normal",
        schedule=(
            protocol("rithmic", "stale_quotes", for_s=3.0),
            protocol("rithmic", "tick_gap", ticks=20, count=1, for_s=3.0),
        ),
        checks=(*RECOVERY_CHECKS, "quotes_resume"),
    ),
    Scenario(
        id="LATENCY-BANDWIDTH-CHOKE",
        title="The link from Rithmic is choked to 16 KB/s for 4 s",
        description=(
            "Bandwidth from Rithmic drops to 16 KB/s, so market data and order answers queue behind each "
            "other. Orders may be slow, but none may be lost or sent twice."
        ),
        suite="latency",
        venue="rithmic",
        fault_class="latency",
        severity="normal",
        schedule=(toxic("rithmic", "bandwidth", for_s=4.0, rate=16),),
        checks=RECOVERY_CHECKS,
        recovery_s=4.0,
    ),
    Scenario(
        id="LATENCY-SLICER-FRAGMENTATION",
        title="Frames from Rithmic arrive in tiny TCP fragments for 4 s",
        description=(
            "The network slices every frame into 1-16 byte pieces with small delays. The middleware must "
            "reassemble them: no message may be lost or misread."
        ),
        suite="latency",
        venue="rithmic",
        fault_class="latency",
        severity="normal",
        schedule=(toxic("rithmic", "slicer", for_s=4.0, average_size=8, size_variation=7, delay=50),),
        checks=RECOVERY_CHECKS,
    ),
    Scenario(
        id="LATENCY-PACKET-LOSS-BURSTS",
        title="Bursts of segment loss on the link from Rithmic for 5 s",
        description=(
            "Segments from Rithmic are lost in bursts (a Gilbert-Elliott chain), and each loss stalls the "
            "stream for a retransmission timeout that doubles up to 1.6 s, as TCP would. Nothing is "
            "dropped or reordered, but answers and fills arrive in jerks. Orders must not be lost, "
            "duplicated or left unknown. Uses the embedded fault plane's packet_loss extension."
        ),
        suite="latency",
        venue="rithmic",
        fault_class="latency",
        severity="normal",
        schedule=(loss_bursts("rithmic", for_s=5.0),),
        checks=RECOVERY_CHECKS,
        recovery_s=4.0,
    ),
)
