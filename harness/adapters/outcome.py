"""What an adapter gives back: a Jepsen outcome, and for reads a typed view of the answer.

The views are the harness's own vocabulary. Every adapter, declared or coded, translates the
middleware's answer into them, so no checker ever looks at a middleware's field names."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any, Literal

OutcomeType = Literal["ok", "fail", "info"]

# The harness's order states. An adapter maps the API's states onto these.
ORDER_STATES = (
    "pending",  # taken by the middleware, not yet acknowledged by the venue
    "working",  # acknowledged and resting
    "partially_filled",
    "filled",
    "cancelled",
    "rejected",  # refused by the venue or by the middleware's risk checks
    "failed",  # the middleware gave up on it definitively (never reached the venue)
    "unknown",  # the middleware itself does not know yet
    "missing",  # the middleware has no such order
)
# An order in one of these states has a known outcome (its truth is then judged against the ledger).
KNOWN_STATES = frozenset({"working", "partially_filled", "filled", "cancelled", "rejected", "failed"})


@dataclass(frozen=True)
class OrderView:
    status: str  # one of ORDER_STATES
    filled_qty: int = 0
    raw: Any = None  # the middleware's own answer, kept for evidence
    avg_price: float | None = None  # its average fill price, where the API reports one

    @classmethod
    def missing(cls, raw: Any = None) -> OrderView:
        return cls("missing", 0, raw)


@dataclass(frozen=True)
class PositionView:
    symbol: str
    net_qty: int
    venue: str = "rithmic"


@dataclass(frozen=True)
class AccountView:
    account_id: str
    trading_enabled: bool | None = None
    tt_status: str | None = None  # "provisioned" once the TT account exists
    tt_account_id: str | None = None
    payment_invoices: tuple[str, ...] = ()  # one entry per payment booked (an invoice twice = twice)
    raw: Any = None


@dataclass(frozen=True)
class HealthView:
    healthy: bool
    quote_age_s: float | None = None  # age of the freshest quote, where the API reports it
    database_ok: bool | None = None  # what it says of its own database, where the API reports it


@dataclass(frozen=True)
class QuoteView:
    """What the middleware shows a trader of a symbol's market (its API's quote, or a stream quote)."""

    symbol: str
    bid: float | None
    ask: float | None
    stale: bool | None = None  # whether it calls the quote stale, where it says
    raw: Any = None


@dataclass(frozen=True)
class PnlView:
    """An account's profit and loss as the middleware reports it (money, in the account's currency)."""

    realized: float
    unrealized: float | None = None
    raw: Any = None


@dataclass(frozen=True)
class KeyView:
    """A trader's credential the back office minted (issue_key): secret, shown once."""

    key: str
    key_id: str = ""
    expires_at: str = ""


@dataclass(frozen=True)
class PositionsView:
    positions: tuple[PositionView, ...]


@dataclass(frozen=True)
class AccountsView:
    """The accounts a customer's onboarding created."""

    ids: tuple[str, ...]


View = (
    OrderView | PositionsView | AccountView | AccountsView | HealthView | QuoteView | PnlView | KeyView | None
)


@dataclass(frozen=True)
class Outcome:
    type: OutcomeType
    status: int | None
    body: Any  # the raw answer, for evidence only
    latency_ms: float
    error: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    view: View = None  # the typed reading of a 2xx answer
    malformed: str = ""  # why a 2xx answer could not be read (the middleware's fault, with evidence)

    @property
    def ok(self) -> bool:
        return self.type == "ok"

    # Typed accessors: None unless the call succeeded and the answer was readable.
    @property
    def order(self) -> OrderView | None:
        return self.view if isinstance(self.view, OrderView) else None

    @property
    def positions(self) -> tuple[PositionView, ...] | None:
        return self.view.positions if isinstance(self.view, PositionsView) else None

    @property
    def account(self) -> AccountView | None:
        return self.view if isinstance(self.view, AccountView) else None

    @property
    def accounts(self) -> tuple[str, ...] | None:
        return self.view.ids if isinstance(self.view, AccountsView) else None

    @property
    def health(self) -> HealthView | None:
        return self.view if isinstance(self.view, HealthView) else None

    @property
    def quote(self) -> QuoteView | None:
        return self.view if isinstance(self.view, QuoteView) else None

    @property
    def key(self) -> KeyView | None:
        return self.view if isinstance(self.view, KeyView) else None

    @property
    def pnl(self) -> PnlView | None:
        return self.view if isinstance(self.view, PnlView) else None

    def evidence(self) -> dict[str, Any]:
        """What a verdict shows of this call when it convicts the middleware."""
        out: dict[str, Any] = {"outcome": self.type, "status": self.status}
        if self.error:
            out["error"] = self.error
        if self.malformed:
            out["malformed"] = self.malformed
            out["answer"] = self.body if not isinstance(self.body, str) else self.body[:500]
        return out


def view_json(view: View) -> Any:
    """A typed view as JSON-ready data, without the raw answer (kept apart as the response)."""
    if is_dataclass(view) and not isinstance(view, type):
        data = asdict(view)
        data.pop("raw", None)
        if isinstance(view, KeyView):
            data["key"] = "<secret>"  # a credential never goes into a history or a report
        return data
    return view
