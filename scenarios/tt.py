"""TT: the REST venue's token lifecycle, rate limits, redirects and paging, judged through the
middleware's account provisioning and TT fills reconciliation (TT has no order entry here)."""

from __future__ import annotations

from harness.scenario import Evidence, Scenario, action, protocol

ONBOARD = ("checkout.session.completed",)
# Without TT fills seeded there is no TT position to reconcile: those scenarios judge provisioning only.
PROVISIONED = ("tt_provisioned",)


def _tt(id_: str, title: str, description: str, *schedule: object, **extra: object) -> Scenario:
    fields: dict[str, object] = {
        "suite": "tt",
        "venue": "tt",
        "fault_class": "TT API",
        "severity": "critical",
        "checks": ("tt_provisioned", "tt_positions_reconcile"),
        "workload": "quiet",
        "traders": 1,
        "steady_s": 1.5,
        "recovery_s": 1.0,
        **extra,
    }
    return Scenario(id=id_, title=title, description=description, schedule=schedule, **fields)  # type: ignore[arg-type]


SCENARIOS = (
    _tt(
        "TT-TOKEN-EXPIRY",
        "TT access tokens expire every 2 s during a run",
        "TT issues tokens that live 2 s, and a trader signs up after the first one has expired. The "
        "middleware must refresh its token (before expiry, or after a 401) so provisioning still works.",
        action("stripe", "stripe_send", at=2.5, types=ONBOARD),
        mock_setup=(("tt", "/tt/config", {"token_ttl_s": 2}),),
        checks=PROVISIONED,
        # the first token expired before the signup: the middleware must have asked for another
        evidence=Evidence(mock_events=(("tt", "token_request", 2),)),
    ),
    _tt(
        "TT-EARLY-TOKEN-EXPIRY",
        "TT revokes the live token before its advertised expiry",
        "TT expires every live token early, so the next call gets 401. The middleware must fetch a new "
        "token and retry; a trader signing up then is still provisioned.",
        protocol("tt", "early_token_expiry", count=1, for_s=1.0),
        action("stripe", "stripe_send", at=0.2, types=ONBOARD),
        checks=PROVISIONED,
    ),
    _tt(
        "TT-429-STORM",
        "TT answers 429 with Retry-After: 1 to three provisioning calls",
        "TT rate-limits account provisioning three times in a row. The middleware must wait Retry-After "
        "between attempts (hammering a rate-limited API gets the firm's key suspended) and then succeed.",
        protocol("tt", "rate_limit_storm", retry_after=1, path="/ttaccount", count=3, for_s=4.0),
        action("stripe", "stripe_send", at=0.1, types=ONBOARD),
        checks=("tt_provisioned", "tt_rate_limit_honoured"),
    ),
    _tt(
        "TT-303-REDIRECT",
        "TT answers every GET with a 303 redirect first",
        "TT redirects each GET once (303 to the same URL). The middleware must follow it: provisioning and "
        "fills reconciliation keep working, and TT positions match TT's fills.",
        action("tt", "tt_fills", at=0.1, count=40, symbol="ESZ6"),
        action("stripe", "stripe_send", at=0.2, types=ONBOARD),
        mock_setup=(("tt", "/tt/config", {"redirect": True}),),
        recovery_s=3.0,
        # the seeded fills, and at least one 303 the middleware was sent (and had to follow)
        evidence=Evidence(mock_events=(("tt", "fills_seeded", 1), ("tt", "redirected", 1))),
    ),
    _tt(
        "TT-FILLS-PAGED",
        "More than 500 TT fills must be read page by page",
        "1,100 fills land on a trader's TT account at once, more than two pages of TT's fills API. The "
        "middleware must read every page: its TT positions must equal the signed sum of TT's fills.",
        action("tt", "tt_fills", at=0.1, count=1100, symbol="ESZ6"),
        recovery_s=3.0,
    ),
)
