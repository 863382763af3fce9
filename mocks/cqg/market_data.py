"""Contracts, symbol resolution and market data, on the Rithmic mock's seeded price paths.

Both mocks build `mocks.rithmic.market.Market(seed)`, so a symbol they share has the same price path for a
seed. Prices go on the wire as CQG's scaled integers: price = scaled_price * correct_price_scale, with the
scale 10^-decimals of the tick size (ES 6800.25 is 680025 at 0.01).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mocks.rithmic.market import Instrument, Market, PricePath
from mocks.rithmic.market import Quote as PathQuote

from . import protocol as p
from .proto import webapi_pb2 as pb

if TYPE_CHECKING:
    from .session import Session

DOM_DEPTH = 5


@dataclass(frozen=True)
class Contract:
    contract_id: int
    instrument: Instrument

    @property
    def scale(self) -> float:
        return float(10.0**-self.instrument.decimals)

    def scaled(self, ticks: int) -> int:
        """Ticks as a scaled price (exact: the tick is a whole number of scale units)."""
        return round(ticks * self.instrument.tick_size / self.scale)

    def price(self, scaled: int) -> float:
        return round(scaled * self.scale, self.instrument.decimals)

    def metadata(self) -> pb.ContractMetadata:
        inst = self.instrument
        return pb.ContractMetadata(
            contract_id=self.contract_id,
            contract_symbol=inst.symbol,
            correct_price_scale=self.scale,
            tick_size=inst.tick_size,
            tick_value=inst.tick_size * inst.point_value,
            title=inst.symbol,
            description=inst.description,
            exchange=inst.exchange,
        )


class Contracts:
    """The listed contracts, ids 1.. in the price paths' order; resolvable by symbol or root."""

    def __init__(self, market: Market) -> None:
        self.market = market
        self.by_id = {i: Contract(i, inst) for i, inst in enumerate(market.instruments.values(), start=1)}
        self._by_name: dict[str, Contract] = {}
        for contract in self.by_id.values():
            self._by_name[contract.instrument.symbol.upper()] = contract
            self._by_name.setdefault(contract.instrument.root.upper(), contract)

    def resolve(self, symbol: str) -> Contract | None:
        return self._by_name.get(symbol.strip().upper())

    def path(self, contract: Contract) -> PricePath:
        path = self.market.lookup(contract.instrument.symbol, contract.instrument.exchange)
        assert path is not None
        return path


def resolve(contracts: Contracts, request: pb.InformationRequest) -> pb.InformationReport:
    """A symbol-resolution answer: the contract's metadata, or a status naming the field."""
    report = pb.InformationReport(id=request.id)
    if not request.HasField("symbol_resolution_request"):
        report.status_code, report.text_message = p.STATUS_INVALID, "symbol_resolution_request: missing"
        return report
    symbol = request.symbol_resolution_request.symbol
    if not symbol:
        report.status_code, report.text_message = p.STATUS_INVALID, "symbol_resolution_request.symbol: empty"
        return report
    contract = contracts.resolve(symbol)
    if contract is None:
        report.status_code = p.STATUS_FAILURE
        report.text_message = f"symbol_resolution_request.symbol: {symbol[:64]!r} is not listed"
        return report
    report.status_code = p.STATUS_OK
    report.symbol_resolution_report.contract_metadata.CopyFrom(contract.metadata())
    return report


def market_data(contract: Contract, q: PathQuote, level: int, when: int, *, snapshot: bool) -> pb.ServerMsg:
    """One RealTimeMarketData for a subscriber at `level`: 1 trades, 2/3 with the best bid and ask,
    4 with DOM_DEPTH levels a side (sizes derived from the touch, deterministically)."""
    rtmd = pb.RealTimeMarketData(contract_id=contract.contract_id, is_snapshot=snapshot)
    rtmd.quotes.add(
        type=p.Q_TRADE,
        quote_utc_time=when,
        scaled_price=contract.scaled(q.last_ticks),
        volume=p.to_decimal(q.last_size),
    )
    if level >= 2:
        rtmd.quotes.add(
            type=p.Q_BEST_BID,
            quote_utc_time=when,
            scaled_price=contract.scaled(q.bid_ticks),
            volume=p.to_decimal(q.bid_size),
        )
        rtmd.quotes.add(
            type=p.Q_BEST_ASK,
            quote_utc_time=when,
            scaled_price=contract.scaled(q.ask_ticks),
            volume=p.to_decimal(q.ask_size),
        )
    if level >= 4:
        for k in range(1, DOM_DEPTH):
            rtmd.quotes.add(
                type=p.Q_BID,
                quote_utc_time=when,
                scaled_price=contract.scaled(q.bid_ticks - k),
                volume=p.to_decimal(q.bid_size + 7 * k),
            )
            rtmd.quotes.add(
                type=p.Q_ASK,
                quote_utc_time=when,
                scaled_price=contract.scaled(q.ask_ticks + k),
                volume=p.to_decimal(q.ask_size + 5 * k),
            )
    rtmd.market_values.scaled_last_price = contract.scaled(q.last_ticks)
    rtmd.market_values.total_volume.CopyFrom(p.to_decimal(q.volume))
    return p.server(real_time_market_data=[rtmd])


def subscribe(
    contracts: Contracts, session: Session, sub: pb.MarketDataSubscription, limit: int, when: int
) -> list[pb.ServerMsg]:
    """Apply one market-data subscription: its status, then a snapshot when it subscribed."""
    status = pb.MarketDataSubscriptionStatus(
        contract_id=sub.contract_id, level=sub.level, request_id=sub.request_id
    )
    contract = contracts.by_id.get(sub.contract_id)
    if contract is None:
        status.status_code = p.STATUS_INVALID
        status.text_message = f"contract_id: {sub.contract_id} is unknown (resolve the symbol first)"
        return [p.server(market_data_subscription_statuses=[status])]
    if sub.level > 4:
        status.status_code, status.text_message = p.STATUS_INVALID, f"level: {sub.level} is not 0..4"
        return [p.server(market_data_subscription_statuses=[status])]
    if sub.level == 0:
        session.market_data.pop(contract.contract_id, None)
        status.status_code = p.STATUS_OK
        return [p.server(market_data_subscription_statuses=[status])]
    if contract.contract_id not in session.market_data and len(session.market_data) >= limit:
        status.status_code = p.STATUS_LIMIT
        status.text_message = f"level: at most {limit} market-data subscriptions per session"
        return [p.server(market_data_subscription_statuses=[status])]
    session.market_data[contract.contract_id] = sub.level
    status.status_code = p.STATUS_OK
    quote = contracts.path(contract).quote
    return [
        p.server(market_data_subscription_statuses=[status]),
        market_data(contract, quote, sub.level, when, snapshot=True),
    ]
