"""The indexed request matching gives every message to the same request as the library's own
walk over all requests in flight, with real R|Protocol messages."""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

from async_rithmic.helpers.request_manager import RequestManager
from async_rithmic.protocol_buffers import (
    exchange_order_notification_pb2,
    response_new_order_pb2,
    response_show_orders_pb2,
)

from reference_middleware.venues.rithmic_requests import Expectations, IndexedRequestManager


class _Plant:
    logger: Any = None


def _new_order_answer(request_id: str) -> Any:
    m = response_new_order_pb2.ResponseNewOrder()
    m.template_id = 313
    m.user_msg.append(request_id)
    m.rp_code.append("0")
    return m


def _notification(account: str, *, snapshot: bool, tag: str) -> Any:
    m = exchange_order_notification_pb2.ExchangeOrderNotification()
    m.template_id = 352
    m.account_id = account
    m.is_snapshot = snapshot
    m.user_tag = tag
    return m


def _show_orders_answer(request_id: str) -> Any:
    m = response_show_orders_pb2.ResponseShowOrders()
    m.template_id = 321
    m.user_msg.append(request_id)
    return m


def _owner(manager: RequestManager, response: Any) -> str | None:
    """Which request took the response (None: it goes on to the plant's callbacks)."""
    before = {rid: len(rs) for rid, rs in manager.responses.items()}
    if not manager.handle_response(response):
        return None
    return str(next(rid for rid, rs in manager.responses.items() if len(rs) != before.get(rid, 0)))


def test_every_message_reaches_the_request_the_library_would_pick() -> None:
    rng = random.Random(7)
    library, indexed = RequestManager(_Plant()), IndexedRequestManager(_Plant())
    in_flight: list[str] = []
    decided: defaultdict[str, int] = defaultdict(int)
    for step in range(3000):
        action = rng.random()
        if action < 0.35 or not in_flight:
            rid = f"req-{step}"
            if rng.random() < 0.8:  # a new order: answered by user_msg
                expected: dict[str, Any] = {"template_id": 313, "user_msg": [rid]}
            else:  # show orders: its replay is matched by account and the snapshot flag
                expected = {"template_id": 352, "is_snapshot": True, "account_id": rng.choice("AB")}
            for manager in (library, indexed):
                manager.start(rid, {"template_id": expected["template_id"] - 1}, dict(expected))
            in_flight.append(rid)
        elif action < 0.5:  # a request completes or times out
            rid = in_flight.pop(rng.randrange(len(in_flight)))
            for manager in (library, indexed):
                manager.expected_responses.pop(rid, None)
        else:
            pick = rng.random()
            if pick < 0.3:
                response = _new_order_answer(rng.choice([*in_flight, "req-never"]))
            elif pick < 0.4:
                response = _show_orders_answer(rng.choice(in_flight))
            else:
                response = _notification(rng.choice("AB"), snapshot=rng.random() < 0.5, tag="t")
            owner = _owner(library, response)
            assert _owner(indexed, response) == owner, response
            decided["matched" if owner else "passed on"] += 1
    # the sequence exercised both outcomes, many times
    assert decided["matched"] > 300 and decided["passed on"] > 300


def test_the_index_follows_additions_and_removals() -> None:
    expectations = Expectations()
    expectations["a"] = {"template_id": 313, "user_msg": ["a"]}
    expectations["b"] = {"template_id": 352, "is_snapshot": True, "account_id": "A"}
    expectations["c"] = {"template_id": 313, "user_msg": ["c"]}
    assert list(expectations.candidates(_new_order_answer("c"))) == ["c"]
    assert list(expectations.candidates(_notification("A", snapshot=True, tag=""))) == ["b"]
    assert expectations.pop("b") == {"template_id": 352, "is_snapshot": True, "account_id": "A"}
    assert list(expectations.candidates(_notification("A", snapshot=True, tag=""))) == []
    del expectations["c"]
    assert list(expectations.candidates(_new_order_answer("c"))) == []
    assert expectations.pop("missing", None) is None
    assert dict(expectations) == {"a": {"template_id": 313, "user_msg": ["a"]}}


def test_a_notification_is_compared_with_no_new_order_in_flight() -> None:
    """The point of the index: an order notification is not walked past every new order."""
    expectations = Expectations()
    for i in range(1000):
        expectations[f"r{i}"] = {"template_id": 313, "user_msg": [f"r{i}"]}
    assert list(expectations.candidates(_notification("A", snapshot=False, tag="x"))) == []
    assert list(expectations.candidates(_new_order_answer("r500"))) == ["r500"]
