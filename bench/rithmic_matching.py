"""What an order notification costs the middleware's Rithmic client as requests pile up in flight:
async-rithmic's own RequestManager (a walk over every request in flight) against the indexed one
the reference middleware installs (reference_middleware/venues/rithmic_requests.py).

    python bench/rithmic_matching.py [--in-flight 10,100,1000,3000] [--messages 20000]

For each number of new orders in flight it times handle_response over a mix of live order
notifications (which match no request) and new-order answers (which match one), and prints
microseconds per message for both and their ratio, measured in the same run.
"""

from __future__ import annotations

import argparse
import random
import time
from typing import Any

from async_rithmic.helpers.request_manager import RequestManager
from async_rithmic.protocol_buffers import exchange_order_notification_pb2, response_new_order_pb2

from reference_middleware.venues.rithmic_requests import IndexedRequestManager


class _Plant:
    logger: Any = None


def _messages(in_flight: int, count: int) -> list[Any]:
    rng = random.Random(7)
    out: list[Any] = []
    for _ in range(count):
        if rng.random() < 0.25:
            m: Any = response_new_order_pb2.ResponseNewOrder()
            m.template_id = 313
            m.user_msg.append(f"r{rng.randrange(in_flight)}")
        else:
            m = exchange_order_notification_pb2.ExchangeOrderNotification()
            m.template_id = 352
            m.account_id = "UAT-0001"
            m.user_tag = "load-order"
        out.append(m)
    return out


def _time(manager: RequestManager, in_flight: int, messages: list[Any]) -> float:
    for i in range(in_flight):
        manager.start(f"r{i}", {"template_id": 312}, {"template_id": 313, "user_msg": [f"r{i}"]})
    began = time.perf_counter()
    for m in messages:
        manager.handle_response(m)
    elapsed = time.perf_counter() - began
    return elapsed / len(messages) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--in-flight", default="10,100,1000,3000")
    parser.add_argument("--messages", type=int, default=20_000)
    args = parser.parse_args()
    print(f"{'in flight':>10}  {'library us/msg':>15}  {'indexed us/msg':>15}  {'ratio':>7}")
    for n in (int(x) for x in args.in_flight.split(",")):
        messages = _messages(n, args.messages)
        library = _time(RequestManager(_Plant()), n, messages)
        indexed = _time(IndexedRequestManager(_Plant()), n, messages)
        print(f"{n:>10}  {library:>15.2f}  {indexed:>15.2f}  {library / indexed:>6.1f}x")


if __name__ == "__main__":
    main()
