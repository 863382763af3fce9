"""The stream hub: who gets which message, conflation of quotes, and slow clients."""

from __future__ import annotations

import asyncio
import json
import time

from reference_middleware.hub import FLUSH_BATCH, STREAM_QUEUE, Hub


def _drain(client_queue: asyncio.Queue[str]) -> list[dict[str, object]]:
    out = []
    while not client_queue.empty():
        out.append(json.loads(client_queue.get_nowait()))
    return out


def _order(account: str, coid: str) -> dict[str, object]:
    return {"type": "order", "order": {"account": account, "client_order_id": coid, "status": "working"}}


def test_order_updates_reach_only_that_accounts_watchers_and_the_watch_all_clients() -> None:
    hub = Hub()
    a, b, everything = hub.add("A"), hub.add("B"), hub.add()
    hub.publish(_order("A", "1"))
    assert [m["order"]["client_order_id"] for m in _drain(a.queue)] == ["1"]  # type: ignore[index]
    assert _drain(b.queue) == []
    assert len(_drain(everything.queue)) == 1
    assert hub.sent == 2


def test_quotes_are_conflated_to_the_latest_snapshot_per_symbol_and_filtered_by_subscription() -> None:
    hub = Hub(quote_interval_s=0.25)
    es_only, every_symbol = hub.add("A", frozenset({"ESZ6"})), hub.add("B")
    for price in (100.0, 100.25, 100.5):
        hub.on_quote({"symbol": "ESZ6", "exchange": "CME", "trade_price": price})
    hub.on_quote({"symbol": "NQZ6", "exchange": "CME", "bid_price": 7.0})
    assert _drain(es_only.queue) == []  # nothing until the interval's flush
    asyncio.run(hub.flush_paced())
    es = _drain(es_only.queue)
    assert [(m["quote"]["symbol"], m["quote"]["trade_price"]) for m in es] == [("ESZ6", 100.5)]  # type: ignore[index]
    assert sorted(m["quote"]["symbol"] for m in _drain(every_symbol.queue)) == ["ESZ6", "NQZ6"]  # type: ignore[index]
    asyncio.run(hub.flush_paced())  # nothing changed since: nothing sent
    assert _drain(es_only.queue) == [] and _drain(every_symbol.queue) == []


def test_without_conflation_every_quote_goes_out_at_once() -> None:
    hub = Hub(quote_interval_s=0)
    client = hub.add()
    hub.on_quote({"symbol": "ESZ6", "trade_price": 1.0})
    hub.on_quote({"symbol": "ESZ6", "trade_price": 2.0})
    assert [m["quote"]["trade_price"] for m in _drain(client.queue)] == [1.0, 2.0]  # type: ignore[index]


def test_a_new_client_first_gets_the_snapshot_of_its_symbols() -> None:
    hub = Hub()
    hub.on_quote({"symbol": "ESZ6", "trade_price": 1.0})
    hub.on_quote({"symbol": "CLF7", "trade_price": 2.0})
    client = hub.add(None, frozenset({"CLF7"}))
    assert [json.loads(t)["quote"]["symbol"] for t in hub.snapshot_for(client)] == ["CLF7"]


def test_a_slow_client_loses_its_oldest_messages_and_never_blocks_the_others() -> None:
    hub = Hub()
    slow, fast = hub.add("A"), hub.add("A")
    for i in range(STREAM_QUEUE + 5):
        hub.publish(_order("A", str(i)))
        _drain(fast.queue)
    kept = _drain(slow.queue)
    assert len(kept) == STREAM_QUEUE
    assert kept[0]["order"]["client_order_id"] == "5"  # type: ignore[index]
    assert kept[-1]["order"]["client_order_id"] == str(STREAM_QUEUE + 4)  # type: ignore[index]


def test_removed_clients_leave_no_index_behind() -> None:
    hub = Hub()
    client = hub.add("A", frozenset({"ESZ6"}))
    hub.remove(client)
    assert len(hub) == 0
    hub.publish(_order("A", "1"))
    hub.on_quote({"symbol": "ESZ6", "trade_price": 1.0})
    asyncio.run(hub.flush_paced())
    assert hub.sent == 0 and client.queue.empty()


def test_a_paced_flush_reaches_every_client_and_lets_the_loop_read_its_sockets_between_batches() -> None:
    """5,000 subscribers: every one gets the quote once, and a task woken meanwhile (an order's answer
    arriving) runs after at most one batch of offers, not after all of them."""

    async def scenario() -> tuple[int, int, list[int]]:
        hub = Hub(quote_interval_s=0.25)
        clients = [hub.add(f"A{i}", frozenset({"ESZ6"})) for i in range(5000)]
        hub.on_quote({"symbol": "ESZ6", "exchange": "CME", "trade_price": 100.0})
        offered_when_woken: list[int] = []

        async def answer_arrives() -> None:  # ready to run as the flush begins
            offered_when_woken.append(sum(not c.queue.empty() for c in clients))

        waiter = asyncio.create_task(answer_arrives())
        await hub.flush_paced()
        await waiter
        return sum(c.queue.qsize() for c in clients), hub.sent, offered_when_woken

    delivered, sent, offered_when_woken = asyncio.run(scenario())
    assert delivered == 5000 and sent == 5000
    assert offered_when_woken and 0 < offered_when_woken[0] <= FLUSH_BATCH


def test_a_stale_quote_states_an_age_above_its_bound_never_the_bound_itself() -> None:
    hub = Hub(stale_quote_s=1.0)
    hub.on_quote({"symbol": "ESZ6", "exchange": "CME", "bid_price": 1.0, "ask_price": 1.25})
    hub.quotes["ESZ6"].update(at=time.time() - 1.00001, stale=True)  # just past the bound
    age = json.loads(hub._quote_text("ESZ6"))["quote"]["age_s"]
    assert age > 1.0 and hub.is_stale(age), age
