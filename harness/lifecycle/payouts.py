"""The payouts hop: each accepted payout is one MT5 withdrawal and one Rippling pay item, and the MT5
balance is the deposit less what was paid out. Neither MT5 nor Rippling dedupes, so a payout retried
blindly shows here as a second deal or a second pay item.

A withdrawal is matched to its payout by the payout id in its comment when the middleware wrote one
there, otherwise by amount; a pay item by its `reference`, which the middleware sets to the payout id.
"""

from __future__ import annotations

import re
from typing import Any

from . import evidence
from .judging import Ledgers, Problem, amount, count, deals, ident, listed, provisioned, verdict
from .model import Chain, Payout, money
from .report import DUPLICATE, MISMATCH, MISSING, NOT_EXPECTED, Hop

Record = dict[str, Any]


_WORD = re.compile(r"[\w-]+")


def _names(comment: Any, payout_id: str) -> bool:
    """The payout id as a whole word of a deal's comment (`po_1` is not in `po_12`)."""
    return payout_id in _WORD.findall(str(comment or ""))


def assign(payouts: list[Payout], withdrawals: list[Record]) -> tuple[dict[str, list[Record]], list[Record]]:
    """Each payout's withdrawal deals (by comment, then by amount: a second deal of a payout's amount
    is that payout's duplicate), and the withdrawals that belong to no accepted payout."""
    mine: dict[str, list[Record]] = {p.payout_id: [] for p in payouts}
    loose = []
    for deal in withdrawals:
        owner = next((p for p in payouts if _names(deal.get("comment"), p.payout_id)), None)
        if owner is not None:
            mine[owner.payout_id].append(deal)
        else:
            loose.append(deal)
    for first_pass in (True, False):
        left = []
        for deal in loose:
            paid = -money(deal.get("amount"))
            owner = next(
                (p for p in payouts if p.amount == paid and (not first_pass or not mine[p.payout_id])), None
            )
            if owner is not None:
                mine[owner.payout_id].append(deal)
            else:
                left.append(deal)
        loose = left
    return mine, loose


def _one_payout(payout: Payout, withdrawals: list[Record], items: list[Record]) -> list[Problem]:
    pid, want = payout.payout_id, payout.amount
    found = []
    if not withdrawals and not items:
        return [
            Problem(
                MISSING,
                f"payout {pid} ({want}): no withdrawal deal and no pay item",
                f"payout {pid} was accepted but reached neither MT5 nor Rippling: the payout never ran",
            )
        ]
    if not withdrawals:
        found.append(
            Problem(
                MISSING,
                f"payout {pid} ({want}): no withdrawal deal",
                f"payout {pid} was accepted but MT5 booked no withdrawal for it: the withdrawal never "
                "ran or failed",
            )
        )
    elif len(withdrawals) > 1:
        found.append(
            Problem(
                DUPLICATE,
                f"payout {pid}: {count(len(withdrawals), 'withdrawal deal')}: {deals(withdrawals)}",
                f"{count(len(withdrawals), 'withdrawal deal')} for one payout: a trade/balance retried "
                "without looking the deal up",
            )
        )
    elif money(withdrawals[0].get("amount")) != -want:
        found.append(
            Problem(
                MISMATCH,
                f"payout {pid}: {deals(withdrawals)}, expected {amount(-want)}",
                f"the withdrawal for payout {pid} booked {money(withdrawals[0].get('amount'))} where "
                f"{amount(-want)} was paid out",
            )
        )
    if not items:
        found.append(
            Problem(
                MISSING,
                f"payout {pid}: no Rippling pay item with reference {pid}",
                f"payout {pid} was accepted but Rippling holds no pay item referencing it: the payroll step "
                "never ran or failed",
            )
        )
    elif len(items) > 1:
        found.append(
            Problem(
                DUPLICATE,
                f"payout {pid}: {count(len(items), 'pay item')}: {listed(items, 'id', 'amount')}",
                f"{count(len(items), 'Rippling pay item')} reference payout {pid}: the pay item was posted "
                "again without looking it up by reference",
            )
        )
    elif money(items[0].get("amount")) != want:
        found.append(
            Problem(
                MISMATCH,
                f"payout {pid}: pay item {ident(items[0].get('id'))} is {money(items[0].get('amount'))}, "
                f"expected {want}",
                f"the pay item for payout {pid} pays {money(items[0].get('amount'))} where {want} was "
                "paid out",
            )
        )
    return found


def _strays(loose: list[Record], items: list[Record], refused: list[Payout]) -> list[Problem]:
    """Withdrawals and pay items that belong to no accepted payout (a refused one that took effect)."""
    found = []
    refused_ids = {p.payout_id for p in refused}
    for deal in loose:
        why = next(
            (
                f" (payout {p.payout_id} was refused)"
                for p in refused
                if p.amount == -money(deal.get("amount"))
            ),
            "",
        )
        found.append(
            Problem(
                MISMATCH,
                f"{deals([deal])} matches no accepted payout{why}",
                f"MT5 booked a withdrawal for no accepted payout{why}",
            )
        )
    for item in items:
        ref = ident(item.get("reference"))
        why = " (a refused payout)" if ref in refused_ids else ""
        found.append(
            Problem(
                MISMATCH,
                f"pay item {ident(item.get('id'))} references {ref or 'nothing'}, no accepted payout{why}",
                f"Rippling holds a pay item for no accepted payout{why}",
            )
        )
    return found


def _balance(chain: Chain) -> tuple[list[Problem], str]:
    trader = chain.trader
    want = trader.deposit - trader.paid_out
    have = chain.mt5_balance()
    found = []
    if have != want:
        found.append(
            Problem(
                MISMATCH,
                f"MT5 balance {have}, expected {want} "
                f"(deposit {trader.deposit} less {trader.paid_out} paid out)",
                "the MT5 balance is not the deposit less the payouts",
            )
        )
    total = chain.deal_total()
    if total != have:
        found.append(
            Problem(
                MISMATCH,
                f"the logins' balance {have} is not the sum of their balance deals {total}",
                "MT5's balance disagrees with its own deals: a balance changed without a deal",
            )
        )
    return found, f"balance {have} = deposit {trader.deposit} less {trader.paid_out} paid out"


def payouts(chain: Chain, ledgers: Ledgers) -> Hop:
    accepted = [p for p in chain.trader.payouts if p.accepted]
    refused = [p for p in chain.trader.payouts if not p.accepted]
    withdrawals = chain.withdrawals
    records = [evidence.deal(d) for d in withdrawals] + [evidence.pay_item(i) for i in chain.pay_items]
    expected = provisioned(chain, ledgers)
    if not expected and not accepted:
        if withdrawals or chain.pay_items:
            stray = _strays(withdrawals, chain.pay_items, refused)
            return verdict("payouts", stray, records, "")
        return verdict("payouts", [], records, "no payout expected", NOT_EXPECTED)
    mine, loose = assign(accepted, withdrawals)
    ids = {p.payout_id for p in accepted}
    problems = []
    for payout in accepted:
        items = [i for i in chain.pay_items if ident(i.get("reference")) == payout.payout_id]
        problems += _one_payout(payout, mine[payout.payout_id], items)
    problems += _strays(loose, [i for i in chain.pay_items if ident(i.get("reference")) not in ids], refused)
    fine = (
        f"{count(len(accepted), 'payout')}, each one withdrawal and one pay item" if accepted else "no payout"
    )
    if expected and chain.mt5_users:
        found, summary = _balance(chain)
        problems += found
        fine = f"{fine}; {summary}"
    return verdict("payouts", problems, records, fine)
