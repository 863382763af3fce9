"""Symbol resolution, market-data subscriptions and the seeded prices the CQG and Rithmic mocks share."""

from __future__ import annotations

import asyncio

import pytest

from mocks.cqg import CQGGateway
from mocks.cqg import market_data as md
from mocks.cqg.proto import webapi_pb2 as pb
from mocks.rithmic import RithmicGateway
from reference_middleware.venues.cqg import CQGError
from tests.mocks.venue_thread import VenueThread

from .conftest import Raw, client, creds, run


def test_shared_symbols_follow_the_same_price_path_as_rithmic() -> None:
    cqg, rithmic = CQGGateway(seed=42), RithmicGateway(seed=42)
    for contract in cqg.contracts.by_id.values():
        inst = contract.instrument
        ours, theirs = cqg.contracts.path(contract), rithmic.market.lookup(inst.symbol, inst.exchange)
        assert theirs is not None
        for _ in range(50):
            a, b = ours.step(), theirs.step()
            assert (a.bid_ticks, a.ask_ticks, a.last_ticks, a.volume) == (
                b.bid_ticks,
                b.ask_ticks,
                b.last_ticks,
                b.volume,
            )
    other = CQGGateway(seed=43).contracts
    first = [other.path(c).step().last_ticks for c in other.by_id.values()]
    again = [CQGGateway(seed=42).contracts.path(c).step().last_ticks for c in other.by_id.values()]
    assert first != again  # a different seed gives different paths


def test_scaled_prices_round_trip_on_the_tick_grid() -> None:
    contracts = CQGGateway(seed=1).contracts
    es = contracts.resolve("ES")
    assert es is not None and es.instrument.symbol == "ESZ6"
    quote = contracts.path(es).quote
    msg = md.market_data(es, quote, 4, 10, snapshot=True)
    rtmd = msg.real_time_market_data[0]
    trade, bid, ask = rtmd.quotes[0], rtmd.quotes[1], rtmd.quotes[2]
    assert (trade.type, bid.type, ask.type) == (0, 1, 2)
    assert es.price(bid.scaled_price) == es.instrument.price(quote.bid_ticks)
    assert ask.scaled_price - bid.scaled_price == es.scaled(1) * (quote.ask_ticks - quote.bid_ticks)
    assert len(rtmd.quotes) == 3 + 2 * (md.DOM_DEPTH - 1)  # level 4: depth on both sides
    assert es.metadata().correct_price_scale == pytest.approx(0.01)


def test_resolve_subscribe_and_stream(cqg: VenueThread) -> None:
    c = client(cqg)

    async def scenario() -> tuple[int, dict[str, int], int]:
        await c.connect()
        contract = await c.resolve("CLF7")
        with pytest.raises(CQGError) as unknown:
            await c.resolve("XXZ9")
        assert unknown.value.code == 101 and "symbol" in str(unknown.value)
        updates: list[pb.RealTimeMarketData] = []
        c.on_message.append(lambda m: updates.extend(m.real_time_market_data))
        await c.subscribe_market_data(contract.contract_id, 2)
        for _ in range(100):
            if len(updates) >= 3:
                break
            await asyncio.sleep(0.02)
        await c.close()
        return contract.contract_id, c.quotes[contract.contract_id], len(updates)

    contract_id, quote, count = run(scenario())
    assert contract_id == 3 and count >= 3
    assert quote["ask"] > quote["bid"] > 0 and quote["trade"] > 0


def test_subscription_errors_name_the_field(cqg: VenueThread) -> None:
    async def scenario() -> list[pb.MarketDataSubscriptionStatus]:
        raw = await Raw.open(cqg.url)
        await raw.logon(creds(cqg))
        statuses = []
        for sub in (
            pb.MarketDataSubscription(contract_id=99, level=1, request_id=1),
            pb.MarketDataSubscription(contract_id=1, level=9, request_id=2),
        ):
            await raw.send(market_data_subscriptions=[sub])
            statuses.append(
                (await raw.expect("market_data_subscription_statuses")).market_data_subscription_statuses[0]
            )
        await raw.send(information_requests=[pb.InformationRequest(id=5)])
        report = (await raw.expect("information_reports")).information_reports[0]
        await raw.close()
        assert report.status_code == 103 and "symbol_resolution_request" in report.text_message
        return statuses

    first, second = run(scenario())
    assert first.status_code == 103 and "contract_id" in first.text_message
    assert second.status_code == 103 and "level" in second.text_message
