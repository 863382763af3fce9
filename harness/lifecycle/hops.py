"""The onboarding hops of one trader's chain, each judged on the records `join` found: paid at
Stripe, carried by the bus, a contract sent and signed at DocuSign, then what signing provisions (an
MT5 login, its deposit, a Rippling worker). Each judge says what it saw and, when it broke, why in
the words an architect would use to the agency.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from . import evidence
from .judging import Ledgers, Problem, count, deals, ident, listed, provisioned, verdict
from .model import Chain, money
from .report import DUPLICATE, MISMATCH, MISSING, NOT_EXPECTED, Hop

FAILED_RUN = ("errored", "halted", "dropped")
PENDING_RUN = ("queued", "running")
NO_SIGNATURE = "not expected: DocuSign holds no signature from the trader"


def stripe(chain: Chain, ledgers: Ledgers) -> Hop:
    records = [evidence.checkout(e) for e in chain.checkouts]
    if not chain.checkouts:
        problem = Problem(
            MISSING,
            f"no checkout.session.completed for {chain.customer}",
            "Stripe holds no paid checkout for the customer: the lifecycle never started",
        )
        return verdict("stripe", [problem], records, "")
    return verdict("stripe", [], records, f"{count(len(chain.checkouts), 'paid checkout')}")


def _run_note(run: dict[str, Any]) -> str:
    error = f" ({str(run.get('error'))[:80]})" if run.get("error") else ""
    return f"{ident(run.get('run_id'))} {run.get('state')}{error}"


def bus(chain: Chain, ledgers: Ledgers) -> Hop:
    runs = chain.zap_runs
    records = [evidence.run(r) for r in runs]
    if not runs:
        problem = Problem(
            MISSING,
            "no Zap run names the trader",
            "no Zap run names the trader: the paid checkout never reached the automation bus",
        )
        return verdict("bus", [problem], records, "")
    notes = []
    failed = [r for r in runs if r.get("state") in FAILED_RUN]
    if failed:
        notes.append("failed: " + ", ".join(_run_note(r) for r in failed[:4]))
    pending = [r for r in runs if r.get("state") in PENDING_RUN]
    if pending:
        notes.append("unfinished: " + ", ".join(_run_note(r) for r in pending[:4]))
    for key, word in (("replay_of", "replay"), ("duplicate_of", "duplicate")):
        again = [r for r in runs if r.get(key)]
        if again:
            notes.append(
                f"{word}s: "
                + ", ".join(f"{ident(r.get('run_id'))} of {ident(r.get(key))}" for r in again[:4])
            )
    succeeded = [r for r in runs if r.get("state") == "success"]
    if not succeeded:
        states = ", ".join(f"{n} {s}" for s, n in Counter(str(r.get("state")) for r in runs).items())
        problem = Problem(
            MISSING,
            "; ".join([f"no Zap run ended success ({states})", *notes]),
            "every Zap run about the trader ended without success: the bus never finished the onboarding",
        )
        return verdict("bus", [problem], records, "")
    return verdict("bus", [], records, "; ".join([f"{len(succeeded)} of {len(runs)} runs succeeded", *notes]))


def _replayed(chain: Chain) -> str:
    again = [r for r in chain.zap_runs if r.get("replay_of") or r.get("duplicate_of")]
    return " by a replayed or duplicated Zap run" if again else ""


def contract(chain: Chain, ledgers: Ledgers) -> Hop:
    live = chain.live_envelopes
    ended = [e for e in chain.envelopes if e not in live]
    records = [evidence.envelope(e) for e in chain.envelopes]
    also = f"; also {listed(ended, 'envelope_id')}" if ended else ""
    if not chain.envelopes:
        problem = Problem(
            MISSING,
            f"no envelope addressed to {chain.trader.email}",
            "DocuSign holds no envelope for the trader: the bus's envelope step never ran or failed",
        )
        return verdict("contract", [problem], records, "")
    if len(live) > 1:
        problem = Problem(
            DUPLICATE,
            f"{count(len(live), 'live envelope')}: {listed(live, 'envelope_id')}{also}",
            f"{count(len(live), 'live contract')} for one trader: the envelope was created again"
            f"{_replayed(chain)} without looking up or voiding the first",
        )
        return verdict("contract", [problem], records, "")
    if not live and chain.trader.signs:
        problem = Problem(
            MISSING,
            f"no live envelope: {listed(ended, 'envelope_id')}",
            "every envelope sent to the trader was voided or declined and none replaced it: "
            "there was no contract left to sign",
        )
        return verdict("contract", [problem], records, "")
    if not live:
        return verdict("contract", [], records, f"no live envelope ({listed(ended, 'envelope_id')})")
    return verdict("contract", [], records, f"{listed(live, 'envelope_id')}{also}")


def signature(chain: Chain, ledgers: Ledgers) -> Hop:
    signed = chain.signed
    records = [evidence.envelope(e) for e in chain.envelopes]
    if not chain.trader.signs:
        if signed:
            problem = Problem(
                MISMATCH,
                f"{listed(signed, 'envelope_id')}, but the trader did not sign",
                "DocuSign shows a signature the trader never gave",
            )
            return verdict("signature", [problem], records, "")
        return verdict("signature", [], records, "the trader did not sign", NOT_EXPECTED)
    if not signed:
        problem = Problem(
            MISSING,
            "no completed envelope"
            + (f" ({listed(chain.envelopes, 'envelope_id')})" if chain.envelopes else ""),
            "the trader signed, but DocuSign holds no completed envelope: the signature never reached it",
        )
        return verdict("signature", [problem], records, "")
    if len(signed) > 1:
        problem = Problem(
            DUPLICATE,
            f"{count(len(signed), 'completed envelope')}: {listed(signed, 'envelope_id')}",
            f"the trader signed {count(len(signed), 'contract')}: a second envelope went out and was signed",
        )
        return verdict("signature", [problem], records, "")
    return verdict("signature", [], records, f"{listed(signed, 'envelope_id')}")


def mt5_login(chain: Chain, ledgers: Ledgers) -> Hop:
    users = chain.mt5_users
    records = [evidence.user(u) for u in users]
    logins = ", ".join(ident(u.get("login")) for u in users)
    if not provisioned(chain, ledgers):
        if users:
            problem = Problem(
                MISMATCH,
                f"MT5 login {logins}, but DocuSign holds no signature from the trader",
                "an MT5 login exists for a trader who has not signed: provisioned before (or without) "
                "the signature",
            )
            return verdict("mt5_login", [problem], records, "")
        return verdict("mt5_login", [], records, NO_SIGNATURE, NOT_EXPECTED)
    problems = []
    if not users:
        problems.append(
            Problem(
                MISSING,
                f"no MT5 user with email {chain.trader.email}",
                "the contract was signed at DocuSign but no MT5 login exists: provisioning never ran "
                "or failed",
            )
        )
    elif len(users) > 1:
        problems.append(
            Problem(
                DUPLICATE,
                f"{count(len(users), 'MT5 login')} for one email: {logins}",
                f"{count(len(users), 'MT5 login')} for one trader: user/add was retried without looking "
                "the user up by email",
            )
        )
    enabled = [u for u in users if u.get("enabled") is True]
    disabled = [u for u in users if u.get("enabled") is False]
    if chain.trader.cancelled and enabled:
        problems.append(
            Problem(
                MISMATCH,
                f"login {ident(enabled[0].get('login'))} is still enabled after the cancellation",
                "the trader was cancelled but the MT5 login is still enabled: the cancellation never "
                "disabled it",
            )
        )
    elif not chain.trader.cancelled and disabled and not enabled:
        problems.append(
            Problem(
                MISMATCH,
                f"login {ident(disabled[0].get('login'))} is disabled",
                "the MT5 login is disabled though the trader was never cancelled",
            )
        )
    return verdict("mt5_login", problems, records, f"login {logins}")


def deposit(chain: Chain, ledgers: Ledgers) -> Hop:
    want = chain.trader.deposit
    found = chain.deposits
    records = [evidence.deal(d) for d in found]
    if not provisioned(chain, ledgers) or want <= 0:
        if found:
            problem = Problem(
                MISMATCH,
                f"{deals(found)}, but DocuSign holds no signature from the trader",
                "a deposit was booked for a trader who has not signed: funded before the signature",
            )
            return verdict("deposit", [problem], records, "")
        return verdict("deposit", [], records, NO_SIGNATURE, NOT_EXPECTED)
    if not found:
        if not chain.mt5_users:
            problem = Problem(
                MISSING, "no deposit: no MT5 login to book it on", "no MT5 login, so no deposit"
            )
        else:
            problem = Problem(
                MISSING,
                f"no deposit deal on login {ident(chain.mt5_users[0].get('login'))}",
                "the MT5 login exists but no deposit was booked: trade/balance never ran or failed",
            )
        return verdict("deposit", [problem], records, "")
    if len(found) > 1:
        problem = Problem(
            DUPLICATE,
            f"{count(len(found), 'deposit deal')} for one funding of {want}: {deals(found)}",
            f"{count(len(found), 'deposit deal')} for one funding: a trade/balance retried without looking "
            "the deal up",
        )
        return verdict("deposit", [problem], records, "")
    booked = money(found[0].get("amount"))
    if booked != want:
        problem = Problem(
            MISMATCH,
            f"{deals(found)}, but the checkout funded {want}",
            f"the deposit booked {booked} where the checkout funded {want}",
        )
        return verdict("deposit", [problem], records, "")
    return verdict("deposit", [], records, deals(found))


def rippling(chain: Chain, ledgers: Ledgers) -> Hop:
    workers = chain.workers
    records = [evidence.worker(w) for w in workers]
    ids = listed(workers, "id")
    if not provisioned(chain, ledgers):
        if workers:
            problem = Problem(
                MISMATCH,
                f"worker {ids}, but DocuSign holds no signature from the trader",
                "a Rippling worker was hired for a trader who has not signed",
            )
            return verdict("rippling", [problem], records, "")
        return verdict("rippling", [], records, NO_SIGNATURE, NOT_EXPECTED)
    problems = []
    if not workers:
        problems.append(
            Problem(
                MISSING,
                f"no worker with work email {chain.trader.email}",
                "the contract was signed but Rippling holds no worker for the trader: the hire never "
                "ran or failed",
            )
        )
    elif len(workers) > 1:
        problems.append(
            Problem(
                DUPLICATE,
                f"{count(len(workers), 'worker')} for one email: {ids}",
                f"{count(len(workers), 'Rippling worker')} for one trader: the hire was retried without "
                "looking the worker up by work_email or external_id",
            )
        )
    active = chain.active_workers
    if chain.trader.cancelled and active:
        problems.append(
            Problem(
                MISMATCH,
                f"worker {listed(active, 'id')} after the cancellation",
                "the trader was cancelled but the Rippling worker is still ACTIVE: the termination never "
                "reached Rippling",
            )
        )
    elif not chain.trader.cancelled and workers and not active:
        problems.append(
            Problem(
                MISMATCH,
                f"worker {ids}, but the trader was never cancelled",
                "the Rippling worker is TERMINATED though the trader was never cancelled",
            )
        )
    return verdict("rippling", problems, records, f"worker {ids}")
