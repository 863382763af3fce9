"""The investigation as text: one table line per trader, a detail block per disagreeing one with the
records to look up, the SQL findings, and bounded output at 5,000 traders."""

from __future__ import annotations

from decimal import Decimal

from harness.lifecycle.render import MAX_ROWS, NOTHING, render_text

from .builders import World


def _broken_world() -> World:
    world = World()
    world.trader("alice", payouts=(("po_1", "500.00"),))
    world.trader("bob")
    world.deal(5002, Decimal("25000.00"), "deposit cus_bob")
    world.trader("carol")
    world.doc["middleware"]["cus_carol"]["mt5_login"] = 7777
    world.doc["sql"] = [{"name": "lifecycle.orphans", "what": "logins nobody owns", "rows": [[7777], [7778]]}]
    return world


def test_the_table_marks_each_hop_and_names_where_the_chain_broke() -> None:
    lines = render_text(_broken_world().report()).splitlines()
    assert lines[0] == "lifecycle: 3 traders, 2 disagree; broke at: deposit 1, middleware 1; 1 SQL finding"
    header, alice, bob, carol = lines[2:6]
    assert header.split() == [
        "customer", "email", "stripe", "bus", "contract", "signature", "mt5_login", "deposit", "rippling",
        "payouts", "middleware", "broke_at",
    ]  # fmt: skip
    assert alice.split() == ["cus_alice", "alice@uat.test", *["ok"] * 9, "-"]
    assert bob.split() == ["cus_bob", "bob@uat.test", *["ok"] * 5, "DUP", "ok", "BAD", "ok", "deposit"]
    assert carol.split()[-2:] == ["BAD", "middleware"]


def test_each_disagreeing_trader_gets_a_detail_block_with_its_records() -> None:
    text = render_text(_broken_world().report())
    assert (
        "cus_bob <bob@uat.test>: broke at deposit: two deposit deals for one funding: a trade/balance "
        "retried without looking the deal up\n"
        "  deposit     duplicate  two deposit deals for one funding of 25000.00: deal 102 +25000.00 "
        "'deposit cus_bob', deal 103 +25000.00 'deposit cus_bob'\n"
        "      deal deal=102 login=5002 amount=25000.00 comment=deposit cus_bob\n"
        "      deal deal=103 login=5002 amount=25000.00 comment=deposit cus_bob\n"
    ) in text
    assert (
        "middleware_view mt5_login=7777 rippling_worker_id=000000000000000000000003 envelope_id=env-0003"
        in text
    )
    assert "cus_alice <" not in text  # agreeing traders have no detail block
    assert text.endswith(
        "SQL findings (the middleware's own database disagrees with itself or the ledgers):\n"
        "  lifecycle.orphans: logins nobody owns (2 rows)\n      [7777]\n      [7778]\n"
    )


def test_unread_systems_are_listed_last() -> None:
    world = World()
    world.trader("alice")
    world.doc["missing"] = ["rippling: HTTPStatusError: 503"]
    text = render_text(world.report())
    assert text.endswith(
        "not read (hops that need these are not judged):\n  rippling: HTTPStatusError: 503\n"
    )
    assert (
        "cus_alice <alice@uat.test>: not judged: no hop disagrees, but rippling, payouts could not be judged"
        in text
    )


def test_an_empty_snapshot_says_there_is_nothing_to_investigate() -> None:
    assert render_text(World().report()) == NOTHING + "\n"


def test_five_thousand_traders_stay_readable() -> None:
    world = World()
    for n in range(5000):
        world.trader(f"t{n:04d}")
    for n in range(0, 5000, 4):  # 1,250 double deposits: more than the table lists
        world.deal(5001 + n, Decimal("25000.00"), "retry")
    text = render_text(world.report(), limit=20)
    lines = text.splitlines()
    assert lines[0] == "lifecycle: 5,000 traders, 1,250 disagree; broke at: deposit 1,250"
    assert f"… and {1250 - MAX_ROWS} more disagreeing traders (--json lists them all)" in lines
    assert "(3,750 traders agreeing on every hop, not listed)" in lines
    assert sum(1 for line in lines if line.startswith("cus_t") and "<" in line) == 20
    assert lines[-1] == "… and 1,230 more disagreeing traders (--limit N shows more)"
    assert len(lines) < MAX_ROWS + 20 * 8 + 20
