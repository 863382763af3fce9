"""What one clock step of the Rithmic mock's matching engine costs as a run's order history grows.

    python bench/mock_step_history.py [--history 0,1000,10000,30000] [--resting 200] [--steps 2000]

A load run leaves tens of thousands of finished orders in the engine. A step must cost what its
instrument's resting orders cost, not the history: when it walked every order ever accepted, a
5,000-trader run lagged the mock's loop by seconds and the middleware timed orders out. For each
history size it times `on_step` with the same resting orders, and prints microseconds per step and
the ratio to the run with no history, measured in the same invocation.
"""

from __future__ import annotations

import argparse
import time

from mocks.rithmic.market import Market
from mocks.rithmic.orders import BUY, LIMIT, MARKET, MatchingEngine, Order

ES = ("ESZ6", "CME")


def _order(engine: MatchingEngine, order_type: int, price: float) -> Order:
    return Order(
        basket_id=engine.next_basket_id(),
        user_tag="bench",
        user="u",
        account_id="A",
        symbol=ES[0],
        exchange=ES[1],
        side=BUY,
        qty=1,
        price_type=order_type,
        price=price,
        trigger_price=0.0,
        duration=1,
        trade_route="simulator",
        manual_or_auto=1,
    )


def per_step_us(history: int, resting: int, steps: int) -> float:
    """Microseconds per `on_step` with `history` filled orders and `resting` limit orders far below."""
    engine = MatchingEngine(Market(7))
    for _ in range(history):
        engine.accept(_order(engine, MARKET, 0.0))
    floor = engine.market.paths[ES].quote.bid_ticks * engine.market.paths[ES].instrument.tick_size
    for _ in range(resting):
        engine.accept(_order(engine, LIMIT, round(floor * 0.5)))
    started = time.perf_counter()
    for _ in range(steps):
        engine.on_step(*ES)
    return (time.perf_counter() - started) / steps * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--history", default="0,1000,10000,30000")
    parser.add_argument("--resting", type=int, default=200)
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args()
    sizes = [int(x) for x in args.history.split(",")]
    print(f"{'history':>8} {'resting':>8} {'us/step':>9} {'vs no history':>14}")
    baseline = per_step_us(0, args.resting, args.steps)
    for size in sizes:
        cost = baseline if size == 0 else per_step_us(size, args.resting, args.steps)
        print(f"{size:>8} {args.resting:>8} {cost:>9.1f} {cost / baseline:>13.2f}x")


if __name__ == "__main__":
    main()
