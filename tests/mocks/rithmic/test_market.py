"""Seeded price paths: deterministic per seed and symbol, always on the instrument's tick grid."""

from __future__ import annotations

from mocks.rithmic import RithmicGateway
from mocks.rithmic.market import INSTRUMENTS, Market, PricePath


def test_listed_instruments_have_real_tick_sizes_and_exchanges() -> None:
    table = {(i.root, i.symbol, i.exchange, i.tick_size) for i in INSTRUMENTS}
    assert table == {
        ("ES", "ESZ6", "CME", 0.25),
        ("NQ", "NQZ6", "CME", 0.25),
        ("CL", "CLF7", "NYMEX", 0.01),
        ("GC", "GCG7", "COMEX", 0.10),
    }


def test_same_seed_same_path_and_different_seed_different_path() -> None:
    def prices(seed: int) -> list[tuple[int, int, int]]:
        path = PricePath(INSTRUMENTS[0], seed)
        return [(q.bid_ticks, q.ask_ticks, q.volume) for q in (path.step() for _ in range(200))]

    assert prices(5) == prices(5)
    assert prices(5) != prices(6)


def test_a_symbols_path_does_not_depend_on_the_others() -> None:
    market = Market(3)
    alone = PricePath(INSTRUMENTS[2], 3)
    for _ in range(50):
        for path in market.paths.values():
            path.step()
        alone.step()
    assert market.paths[("CLF7", "NYMEX")].quote.bid_ticks == alone.quote.bid_ticks


def test_prices_stay_on_the_grid_and_the_touch_is_never_crossed() -> None:
    for inst in INSTRUMENTS:
        path = PricePath(inst, 11)
        for _ in range(500):
            q = path.step()
            bid, ask, last = inst.price(q.bid_ticks), inst.price(q.ask_ticks), inst.price(q.last_ticks)
            assert ask > bid and last in (bid, ask)
            for price in (bid, ask):
                assert abs(price / inst.tick_size - round(price / inst.tick_size)) < 1e-6
                assert len(repr(price).split(".")[1]) <= inst.decimals or price == int(price)


def test_reset_replays_the_same_path() -> None:
    market = Market(9)
    first = [market.paths[("ESZ6", "CME")].step().bid_ticks for _ in range(20)]
    market.reset()
    assert [market.paths[("ESZ6", "CME")].step().bid_ticks for _ in range(20)] == first


def test_one_seed_fixes_the_gateways_credentials_and_prices() -> None:
    a, b, c = RithmicGateway(seed=5), RithmicGateway(seed=5), RithmicGateway(seed=6)
    for gw in (a, b, c):
        for _ in range(30):
            gw.clock.step()

    def touch(gw: RithmicGateway) -> list[tuple[int, int, int]]:
        return [(q.bid_ticks, q.ask_ticks, q.volume) for q in (p.quote for p in gw.market.paths.values())]

    assert a.describe() == b.describe() and a.describe()["password"] != c.describe()["password"]
    assert touch(a) == touch(b) != touch(c)
