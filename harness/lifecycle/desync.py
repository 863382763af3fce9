"""The middleware hop: does the middleware's own state agree with the other systems? Trading must be
enabled exactly while the trader is signed and not cancelled, and the records its lifecycle view
names (an MT5 login, a Rippling worker, a DocuSign envelope) must be the ones those systems hold for
the trader: a middleware that thinks it provisioned login X while MT5 has Y is out of step with the
world, whatever its API answers.
"""

from __future__ import annotations

from typing import Any

from . import evidence
from .judging import Ledgers, Problem, ident, provisioned, verdict
from .model import SIGNED, Chain
from .report import MISMATCH, MISSING, NOT_EXPECTED, Hop

NO_VIEW = "the target declares no lifecycle view"
# The view's keys this hop reads: (dotted path, the system, what the record is called there)
VIEW_KEYS = (
    ("mt5_login", "MT5", "login"),
    ("rippling_worker_id", "Rippling", "worker"),
    ("contract.envelope_id", "DocuSign", "envelope"),
)
_ABSENT = object()


def lookup(view: Any, dotted: str) -> Any:
    """A key of the view by its dotted path (`contract.envelope_id`), nested or written flat; _ABSENT
    when the view does not have it."""
    node = view
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            break
        node = node[part]
    else:
        return node
    return view[dotted] if isinstance(view, dict) and dotted in view else _ABSENT


def _trading(chain: Chain, ledgers: Ledgers) -> tuple[list[Problem], str]:
    trader = chain.trader
    signed = provisioned(chain, ledgers)
    want = signed and not trader.cancelled
    shown = chain.trading_enabled()
    if want and shown is None:
        return [
            Problem(
                MISSING,
                "the admin API shows no account for the trader",
                "the trader was provisioned but the middleware shows no account for them",
            )
        ], ""
    if want and not shown:
        return [
            Problem(
                MISMATCH,
                "trading is disabled",
                "the contract was signed and the trader provisioned, but the middleware never enabled "
                "trading",
            )
        ], ""
    if not want and shown and signed:
        return [
            Problem(
                MISMATCH,
                "trading is still enabled after the cancellation",
                "the trader was cancelled but the middleware still lets them trade",
            )
        ], ""
    if not want and shown:
        return [
            Problem(
                MISMATCH,
                "trading is enabled, but DocuSign holds no signature from the trader",
                "the middleware enabled trading before (or without) the signature",
            )
        ], ""
    state = "no account" if shown is None else "trading enabled" if shown else "trading disabled"
    return [], f"{state}, as expected"


def _named(chain: Chain, ledgers: Ledgers, key: str, system: str, noun: str, value: Any) -> list[Problem]:
    """One record the view names, held against the trader's records in that system."""
    mine = {
        "mt5_login": [ident(u.get("login")) for u in chain.mt5_users],
        "rippling_worker_id": [ident(w.get("id")) for w in chain.workers],
        "contract.envelope_id": [ident(e.get("envelope_id")) for e in chain.envelopes],
    }[key]
    owners = {"mt5_login": ledgers.logins, "rippling_worker_id": ledgers.workers, "contract.envelope_id": {}}[
        key
    ]
    has = ", ".join(mine) or "none for the trader"
    named = ident(value)
    if not named:
        if not mine:
            return []
        return [
            Problem(
                MISMATCH,
                f"the view names no {system} {noun}, {system} has {has}",
                f"{system} holds {noun} {has} for the trader but the middleware has no record of it: "
                "it lost track of what it provisioned",
            )
        ]
    if named in mine:
        return _stale_envelope(chain, named) if key == "contract.envelope_id" else []
    elsewhere = owners.get(named) or (
        "another trader" if key == "contract.envelope_id" and named in ledgers.envelopes else None
    )
    where = f"which belongs to {elsewhere}" if elsewhere else f"which {system} does not have"
    return [
        Problem(
            MISMATCH,
            f"the view names {system} {noun} {named}, {where} ({system} has {has})",
            f"the middleware thinks it provisioned {system} {noun} {named} but {system} has {has}: "
            f"its database and {system} disagree",
        )
    ]


def _stale_envelope(chain: Chain, named: str) -> list[Problem]:
    """The view's envelope exists, but it is a dead one while the trader signed another."""
    status = next(str(e.get("status")) for e in chain.envelopes if ident(e.get("envelope_id")) == named)
    signed = [ident(e.get("envelope_id")) for e in chain.signed]
    if status == SIGNED or not signed or status not in ("voided", "declined"):
        return []
    return [
        Problem(
            MISMATCH,
            f"the view tracks envelope {named} ({status}), but {signed[0]} was signed",
            "the middleware tracks a dead envelope, not the one the trader signed",
        )
    ]


def _view(chain: Chain, ledgers: Ledgers) -> tuple[list[Problem], dict[str, Any]]:
    view = chain.middleware
    if view is None:
        if provisioned(chain, ledgers):
            return [
                Problem(
                    MISSING,
                    "the lifecycle view has no record of the trader",
                    "the middleware has no lifecycle record of a provisioned trader: it lost track of them",
                )
            ], {}
        return [], {}
    found = {key: lookup(view, key) for key, _, _ in VIEW_KEYS}
    shown = {key.rsplit(".", 1)[-1]: v for key, v in found.items() if v is not _ABSENT}
    if not shown and isinstance(view, dict) and "error" in view:
        return [
            Problem(
                MISSING,
                f"the lifecycle view answered an error: {str(view['error'])[: evidence.MAX_TEXT]}",
                "the middleware could not answer its lifecycle view for the trader",
            )
        ], {}
    problems = []
    for key, system, noun in VIEW_KEYS:
        if found[key] is not _ABSENT:
            problems += _named(chain, ledgers, key, system, noun, found[key])
    return problems, {"kind": "middleware_view", **shown}


def middleware(chain: Chain, ledgers: Ledgers) -> Hop:
    problems, trading = _trading(chain, ledgers)
    records = [evidence.account(a) for a in chain.accounts if isinstance(a, dict)]
    if not ledgers.declares_view:
        return verdict("middleware", problems, records, f"{NO_VIEW}; {trading}", NOT_EXPECTED)
    more, shown = _view(chain, ledgers)
    keys = ", ".join(f"{k} {v}" for k, v in shown.items() if k != "kind")
    fine = f"{trading}; the lifecycle view names {keys}" if keys else trading
    return verdict("middleware", problems + more, records + ([shown] if shown else []), fine)
