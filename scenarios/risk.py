"""Risk: limits, losses, partial fills, cancels and stale quotes, judged from the venue's ledger.

The runner sets each scenario's limits on every trader's account, the market moves in a seeded regime
(crash, trend, gap, halt, thin liquidity: the Rithmic mock's regime faults), and the risk checkers
replay the venue's ledger to find any order that reached the venue while its account was past a limit.
"""

from __future__ import annotations

from harness.scenario import ORDER_CHECKS, Evidence, Limits, Scenario, action, down, protocol, toxic

SUITE = "risk"
RISK_CHECKS = (*ORDER_CHECKS, "risk_limits_hold", "fill_prices_match")

SCENARIOS = (
    Scenario(
        id="RISK-LIMITS-NORMAL-FLOW",
        title="Order size and position limits under normal flow",
        description=(
            "Traders send orders of 1 to 5 contracts against a 3-contract order limit and a 6-contract "
            "position limit, in a quiet market. Every order over a limit must be refused before it reaches "
            "the venue; the venue's ledger must never show an account past either."
        ),
        suite=SUITE,
        venue="rithmic",
        fault_class="risk limits",
        severity="blocker",
        schedule=(),
        checks=RISK_CHECKS,
        limits=Limits(max_order_qty=3, max_position=6),
        qty_range=(1, 5),
        steady_s=4.0,
        recovery_s=1.0,
        evidence=Evidence(risk_refusals=3),
    ),
    Scenario(
        id="RISK-WORKING-ORDERS-COUNT",
        title="Resting orders count against the position limit",
        description=(
            "Most orders are limit buys far below the market: they rest, unfilled. Their quantity is "
            "exposure all the same, since any of them may fill: once the resting buys reach the 4-contract "
            "position limit, further buys must be refused, though no contract has filled."
        ),
        suite=SUITE,
        venue="rithmic",
        fault_class="risk limits",
        severity="blocker",
        schedule=(),
        checks=RISK_CHECKS,
        limits=Limits(max_order_qty=5, max_position=4),
        resting_limit_rate=0.6,
        steady_s=4.0,
        recovery_s=1.0,
        evidence=Evidence(risk_refusals=3, venue_fills=1),
    ),
    Scenario(
        id="RISK-CONCURRENT-ORDERS-RACE",
        title="Concurrent orders race one account's position limit",
        description=(
            "Each trader fires four 2-lot orders at once against a 3-contract position limit. Checked one "
            "at a time, at most one of each side's orders fits; a middleware that checks them concurrently "
            "without serialising on the account lets two through together."
        ),
        suite=SUITE,
        venue="rithmic",
        fault_class="risk limits",
        severity="blocker",
        schedule=(),
        checks=RISK_CHECKS,
        limits=Limits(max_order_qty=5, max_position=3),
        qty_range=(2, 2),
        burst=4,
        order_interval_s=(0.3, 0.6),
        steady_s=4.0,
        recovery_s=1.0,
        evidence=Evidence(risk_refusals=4),
    ),
    Scenario(
        id="RISK-CRASH-DAILY-LOSS",
        title="A crash (-3% in 8 s) takes traders past their daily loss limit",
        description=(
            "The market falls 3% in 8 s while traders are mostly buying. Their losses, realised as they "
            "sell and with the venue's fees counted, cross the $3,000 daily loss limit: from then on the "
            "middleware must refuse every order that does not reduce the position."
        ),
        suite=SUITE,
        venue="rithmic",
        fault_class="market regime",
        severity="blocker",
        schedule=(protocol("rithmic", "crash", pct=3.0, over_s=8.0, symbol="ESZ6", for_s=9.0),),
        checks=RISK_CHECKS,
        limits=Limits(max_order_qty=3, max_position=6, daily_loss_limit=3_000.0),
        buy_rate=0.7,
        qty_range=(1, 3),
        recovery_s=2.0,
        evidence=Evidence(risk_refusals=3),
    ),
    Scenario(
        id="RISK-TREND-DOWN-LOSS",
        title="A market trending down erodes traders to their loss limit",
        description=(
            "The market drifts down steadily for 8 s. Traders who keep buying and selling realise losses "
            "(and pay fees) until the $1,500 daily loss limit; past it their orders must be refused."
        ),
        suite=SUITE,
        venue="rithmic",
        fault_class="market regime",
        severity="critical",
        schedule=(protocol("rithmic", "trend_down", ticks_per_step=1.0, symbol="ESZ6", for_s=8.0),),
        checks=RISK_CHECKS,
        limits=Limits(max_order_qty=3, max_position=6, daily_loss_limit=1_500.0),
        buy_rate=0.65,
        qty_range=(1, 3),
        recovery_s=2.0,
        evidence=Evidence(risk_refusals=2),
    ),
    Scenario(
        id="RISK-GAP-DOWN",
        title="The market gaps down 1% in one step",
        description=(
            "Prices jump 1% lower between two ticks, with no trade in between: long positions lose at once "
            "($3,400 per ES contract). Orders after the gap that add to the loss past the $2,000 limit must "
            "be refused, and fills across the gap must be booked at the venue's prices."
        ),
        suite=SUITE,
        venue="rithmic",
        fault_class="market regime",
        severity="critical",
        schedule=(protocol("rithmic", "gap", pct=-1.0, symbol="ESZ6", count=1, at=1.0, for_s=2.0),),
        checks=RISK_CHECKS,
        limits=Limits(max_order_qty=3, max_position=6, daily_loss_limit=2_000.0),
        buy_rate=0.65,
        qty_range=(1, 2),
        recovery_s=3.0,
        evidence=Evidence(risk_refusals=2),
    ),
    Scenario(
        id="RISK-FEES-REACH-LOSS-LIMIT",
        title="Fees alone reach the daily loss limit",
        description=(
            "Traders only buy, so no position is closed and no price P&L is realised; but the venue charges "
            "$2.25 a contract a side, and against a $5 daily loss limit three contracts' fees are enough. "
            "From then on every order (none reduces a position) must be refused: a middleware that leaves "
            "fees out of the loss it counts trades on to the position limit."
        ),
        suite=SUITE,
        venue="rithmic",
        fault_class="risk limits",
        severity="critical",
        schedule=(),
        checks=RISK_CHECKS,
        limits=Limits(max_order_qty=3, max_position=12, daily_loss_limit=5.0),
        buy_rate=1.0,
        qty_range=(1, 2),
        steady_s=4.0,
        recovery_s=1.0,
        evidence=Evidence(risk_refusals=2),
    ),
    Scenario(
        id="RISK-THIN-LIQUIDITY-PARTIAL-FILLS",
        title="Thin liquidity fills orders in pieces over seconds",
        description=(
            "The book shows one contract a side and an order takes one contract every half second, so a "
            "5-lot fills in five pieces at moving prices. Quantities, positions and each order's average "
            "price must match the venue's fills, and working orders still count against the limits."
        ),
        suite=SUITE,
        venue="rithmic",
        fault_class="market regime",
        severity="critical",
        schedule=(protocol("rithmic", "thin_liquidity", every=5, symbol="ESZ6", for_s=6.0),),
        checks=RISK_CHECKS,
        limits=Limits(max_order_qty=5, max_position=10),
        qty_range=(2, 5),
        order_interval_s=(0.4, 0.8),
        recovery_s=3.0,
        evidence=Evidence(multi_fill_orders=3),
    ),
    Scenario(
        id="RISK-HALT-STALE-QUOTES",
        title="A trading halt freezes the market for 6 s",
        description=(
            "ES halts: no trades and no quotes for 6 s. Orders sent early in the halt rest at the venue and "
            "fill when it lifts; once the last quote is older than the target's stale-quote bound, a market "
            "order has no price to go by and must be refused."
        ),
        suite=SUITE,
        venue="rithmic",
        fault_class="stale market data",
        severity="critical",
        schedule=(protocol("rithmic", "halt", symbol="ESZ6", for_s=6.0),),
        checks=(*RISK_CHECKS, "stale_orders_refused"),
        limits=Limits(),
        stale_during=("rithmic:halt",),
        recovery_s=3.0,
        evidence=Evidence(risk_refusals=2),
    ),
    Scenario(
        id="RISK-STALE-FEED-MARKET-ORDERS",
        title="The market-data plant goes mute while orders continue",
        description=(
            "Rithmic's ticker plant stays connected but sends nothing for 7 s; the order plant is healthy. "
            "Market orders priced on a feed older than the stale-quote bound must be refused (limit orders "
            "may go), and quotes must resume after."
        ),
        suite=SUITE,
        venue="rithmic",
        fault_class="stale market data",
        severity="blocker",
        schedule=(protocol("rithmic", "silent", plant="ticker", for_s=7.0),),
        checks=(*ORDER_CHECKS, "risk_limits_hold", "stale_orders_refused"),
        limits=Limits(),
        stale_during=("rithmic:silent",),
        recovery_s=4.0,
        evidence=Evidence(risk_refusals=2),
    ),
    Scenario(
        id="RISK-QUOTES-AND-PNL-ON-TREND",
        title="Quotes and P&L follow a market trending down",
        description=(
            "The market drifts down for 8 s while traders, mostly selling, trade in and out and end with "
            "open positions. Every quote the middleware shows on its API and stream must be one the venue "
            "showed within the declared conflation interval, and each account's realised P&L (fees "
            "included) and unrealised P&L must agree with the venue's fills marked at the venue's prices."
        ),
        suite=SUITE,
        venue="rithmic",
        fault_class="market regime",
        severity="critical",
        schedule=(protocol("rithmic", "trend_down", ticks_per_step=1.0, symbol="ESZ6", for_s=8.0),),
        checks=(*ORDER_CHECKS, "quotes_match_venue", "pnl_reconciles"),
        buy_rate=0.3,
        qty_range=(1, 3),
        recovery_s=2.0,
    ),
    Scenario(
        id="RISK-STALE-QUOTES-FLAGGED",
        title="A halted market's last quote is shown as stale, not live",
        description=(
            "ES halts for 8 s: the venue shows no new price. Once the last quote is older than the "
            "target's stale-quote bound, the middleware must flag it stale on its API and stream (or "
            "decline to show it), and the quotes it shows after the halt must be the venue's again."
        ),
        suite=SUITE,
        venue="rithmic",
        fault_class="stale market data",
        severity="critical",
        schedule=(protocol("rithmic", "halt", symbol="ESZ6", for_s=8.0),),
        checks=(*ORDER_CHECKS, "quotes_match_venue", "stale_quotes_flagged"),
        recovery_s=2.0,
    ),
    Scenario(
        id="RISK-SUBSCRIPTION-CANCELLED",
        title="A trader's subscription is cancelled in the middle of the session",
        description=(
            "Stripe tells the middleware that trader 1's subscription is cancelled while they are trading. "
            "Trading must stop for that account within the in-flight tolerance of the webhook being "
            "acknowledged: no later order of theirs may reach the venue. The other traders carry on."
        ),
        suite=SUITE,
        venue="stripe",
        fault_class="trading status",
        severity="blocker",
        schedule=(
            action(
                "stripe", "stripe_send", at=0.5, customer="trader", types=("customer.subscription.deleted",)
            ),
        ),
        checks=(*ORDER_CHECKS, "risk_limits_hold"),
        limits=Limits(),
        steady_s=2.0,
        recovery_s=3.0,
        evidence=Evidence(risk_refusals=2, webhook_sends=1),
    ),
    Scenario(
        id="RISK-CANCEL-RACING-FILL",
        title="Cancels race the fills of orders filling in pieces",
        description=(
            "Orders fill one contract at a time (thin liquidity) and their traders cancel them half a "
            "second after the order is taken, while the venue's news reaches the middleware 400 ms late. "
            "Some cancels arrive first, some after the last piece: the middleware must end each order as "
            "the venue did, cancelled with its filled part or filled, never cancelled when the venue "
            "filled it."
        ),
        suite=SUITE,
        venue="rithmic",
        fault_class="cancels",
        severity="blocker",
        schedule=(
            protocol("rithmic", "thin_liquidity", every=4, symbol="ESZ6", for_s=7.0),
            toxic("rithmic", "latency", for_s=7.0, latency=400),
        ),
        checks=(*RISK_CHECKS, "cancels_consistent"),
        limits=Limits(max_order_qty=5, max_position=12),
        qty_range=(2, 5),
        cancel_after_s=0.5,
        order_interval_s=(0.1, 0.3),
        recovery_s=3.0,
        evidence=Evidence(cancels=3, multi_fill_orders=2),
    ),
    Scenario(
        id="RISK-CANCEL-PLANT-DOWN",
        title="Cancels sent while the order plant is down",
        description=(
            "Traders leave limit buys resting (and send some market orders) and cancel each order soon "
            "after; the connection to Rithmic drops "
            "for 3 s meanwhile. A cancel sent during the drop must be refused at once, and the order must "
            "stay working in the middleware as it does at the venue; cancels after recovery must work."
        ),
        suite=SUITE,
        venue="rithmic",
        fault_class="cancels",
        severity="critical",
        schedule=(down("rithmic", at=0.3, for_s=3.0),),
        checks=(*ORDER_CHECKS, "cancels_consistent", "fast_fail"),
        limits=Limits(max_order_qty=5, max_position=50),
        resting_limit_rate=0.7,
        cancel_after_s=0.3,
        recovery_s=3.0,
        evidence=Evidence(cancels=2, resting_orders=0),  # every resting order is cancelled
    ),
)
