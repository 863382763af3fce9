"""The review's rules: what a trading API's spec must say before the agency builds it.

Each rule is declared once in RULES with its id, severity, why and fix; its `scope` lists what it
looks at and its `judge` yields what is wrong, both pure functions of the document (see
harness.spec.model.Rule). The name lists each rule matches on are spelled out below, so the
architect can read exactly what counts as an order, money, a cursor or a signature.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .document import (
    Operation,
    child,
    listing,
    mapping,
    media_schemas,
    normalized,
    operations,
    pointer,
    resolve,
    secured,
    security_of,
    words,
)
from .model import Document, Issue, Rule
from .schemas import Site, properties, required, types, walk

# -- has-operations ------------------------------------------------------------------------------


def _has_operations(doc: Document) -> Iterator[Issue]:
    if next(operations(doc), None) is None:
        where = pointer("paths") if "paths" in doc else pointer()
        yield Issue(where, "the spec declares no operations: there is nothing to review or to build against")


# -- idempotency-key -----------------------------------------------------------------------------

ORDER_NOUNS = frozenset({"order", "orders"})
# A POST whose path's last literal segment, operationId or the summary's first word is one of these
# acts on an order that exists (cancel, replace, amend) or places none (preview, search): the order
# id in its path or body keys it already, and the contract run judges it.
NOT_CREATION = frozenset(
    {"cancel", "cancels", "cancellation", "cancellations", "replace", "amend", "modify", "update", "edit"}
    | {"preview", "estimate", "validate", "simulate", "search", "query", "list", "get"}
)
PLACING = frozenset({"place", "create", "submit", "send", "enter", "new", "add"})
# A required body property, or a path parameter, with one of these names (any case or separator)
# keys an order: `client_order_id`, `clientOrderId`, `idempotency_key`, FIX's `ClOrdID`.
ORDER_KEYS = frozenset({"clientorderid", "idempotencykey", "clordid"})
KEY_HEADERS = frozenset({"idempotencykey", "xidempotencykey"})


def _creates_order(op: Operation) -> bool:
    """A POST under `paths` (not a webhook) whose last literal path segment or operationId names an
    order, or whose summary starts with placing one ("Place an order", "Submit a new order")."""
    if op.outgoing or op.webhook_receiver or op.method != "post":
        return False
    segment = words(op.literal_segments[-1] if op.literal_segments else "")
    operation_id = words(str(op.node.get("operationId") or ""))
    summary = words(str(op.node.get("summary") or ""))
    if any(w in NOT_CREATION for w in [*segment, *operation_id, *summary[:1]]):
        return False
    named = any(w in ORDER_NOUNS for w in [*segment, *operation_id])
    return named or (summary[:1] != [] and summary[0] in PLACING and any(w in ORDER_NOUNS for w in summary))


def _order_creations(doc: Document) -> list[Operation]:
    return [op for op in operations(doc) if _creates_order(op)]


def _idempotency_key(doc: Document) -> Iterator[Issue]:
    for op in _order_creations(doc):
        params = op.parameters(doc)
        headers = [p for p in params if p.where == "header" and normalized(p.name) in KEY_HEADERS]
        if any(p.required for p in headers):
            continue
        if any(p.where == "path" and normalized(p.name) in ORDER_KEYS for p in params):
            continue
        body, body_at = resolve(doc, op.node.get("requestBody"), child(op.at, "requestBody"))
        keyed, optional = False, []
        for _, schema, at in media_schemas(doc, mapping(body), body_at):
            names = {n for n in required(doc, schema, at) if normalized(n) in ORDER_KEYS}
            keyed = keyed or bool(names)
            optional += [n for n in properties(doc, schema, at) if normalized(n) in ORDER_KEYS]
        if keyed:
            continue
        hint = ""
        if headers:
            hint = f" (the `{headers[0].name}` header is declared but not required)"
        elif optional:
            hint = f" (`{optional[0]}` is in the body but not required)"
        yield Issue(
            op.at,
            f"{op.method.upper()} {op.path} places orders but requires no idempotency key{hint}: "
            "a client that retries after a timeout places the order twice",
        )


# -- auth-responses ------------------------------------------------------------------------------


def _judged_for_responses(doc: Document) -> list[Operation]:
    return [op for op in operations(doc) if not op.outgoing and (secured(doc, op) or not op.health)]


def _auth_responses(doc: Document) -> Iterator[Issue]:
    for op in _judged_for_responses(doc):
        responses = {r.code.upper(): r for r in op.responses(doc)}
        blocking = [code for code in ("401", "403") if secured(doc, op) and code not in responses]
        other = []
        if not op.health and not op.webhook_receiver:
            if "429" not in responses:
                other.append("429 (with a Retry-After header)")
            elif "retry-after" not in {str(h).lower() for h in mapping(responses["429"].node.get("headers"))}:
                other.append("a Retry-After header on 429")
        if not op.health and "503" not in responses:
            other.append("503")
        missing = blocking + other
        if missing:
            yield Issue(
                op.at,
                f"{op.method.upper()} {op.path} does not document {', '.join(missing)}",
                "blocker" if blocking else "major",
            )


# -- security-scheme -----------------------------------------------------------------------------


def _needs_security(doc: Document) -> list[Operation]:
    """What a trader or an admin calls: not health checks, not partners' signed webhooks."""
    return [op for op in operations(doc) if not (op.outgoing or op.health or op.webhook_receiver)]


def _security_scope(doc: Document) -> list[str]:
    root = [pointer("security")] if listing(doc.get("security")) else []
    return [op.at for op in _needs_security(doc)] + root


def _security_scheme(doc: Document) -> Iterator[Issue]:
    for op in _needs_security(doc):
        if secured(doc, op):
            continue
        requirements, at = security_of(doc, op)
        if not requirements and "security" in op.node:
            why = "its `security: []` turns authentication off"
        elif not requirements:
            why = "neither it nor the root declares `security`"
        else:
            why = f"an empty requirement `{{}}` in {at} lets anonymous callers in"
        yield Issue(op.at, f"{op.method.upper()} {op.path} can be called without credentials: {why}")
    defined = mapping(mapping(doc.get("components")).get("securitySchemes"))
    places = [(listing(doc.get("security")), pointer("security"))]
    places += [security_of(doc, op) for op in operations(doc) if "security" in op.node]
    for requirements, at in places:
        for index, requirement in enumerate(requirements):
            for scheme in mapping(requirement):
                if scheme not in defined:
                    yield Issue(
                        child(at, index),
                        f"security scheme `{scheme}` is not defined in components.securitySchemes",
                    )


# -- error-schema --------------------------------------------------------------------------------


def _is_error(code: str) -> bool:
    return code.lower() == "default" or (len(code) == 3 and code[0] in "45")


def _error_responses(doc: Document) -> dict[str, tuple[str, Any]]:
    """Each 4xx, 5xx and `default` response once, by where it is defined: (status, response)."""
    found: dict[str, tuple[str, Any]] = {}
    for op in operations(doc):
        for response in op.responses(doc):
            if _is_error(response.code):
                found.setdefault(response.at, (response.code, response.node))
    return found


def _error_schema(doc: Document) -> Iterator[Issue]:
    for at, (code, node) in _error_responses(doc).items():
        if not mapping(node.get("content")):
            yield Issue(at, f"the {code} response has no content: a client cannot tell why it failed")
            continue
        schemas = [resolve(doc, s, where)[0] for _, s, where in media_schemas(doc, node, at)]
        if not any(mapping(s) for s in schemas):
            yield Issue(at, f"the {code} response's content has no schema: a client cannot read the error")


# -- decimal-money -------------------------------------------------------------------------------

# A name carries money when one of its words (`avgPrice`, `avg_price`: avg, price), or the end of
# the name run together (`avgpx`, `realizedPnL`), is one of these, singular or plural.
MONEY_WORDS = frozenset(
    {"price", "px", "amount", "balance", "pnl", "profit", "loss", "fee", "commission", "equity"}
    | {"margin", "cash", "notional", "cost", "premium", "money"}
)
# Inside a schema whose name carries money (`price: {value, currency}`, `loss_limits: {daily: ...}`)
# these carry it too. Quantities (`qty`, `size`, `contracts`) never do: contracts are integers.
MONEY_PARTS = frozenset({"value", "limit", "total", "min", "max"})


def _is_money_word(word: str) -> bool:
    return any(form in MONEY_WORDS for form in (word, word.removesuffix("s"), word.removesuffix("es")))


def is_money(name: str) -> bool:
    joined = normalized(name)
    return any(_is_money_word(w) for w in words(name)) or any(joined.endswith(w) for w in MONEY_WORDS)


def _money_sites(doc: Document) -> Iterator[tuple[Site, set[str]]]:
    """Every place a schema that carries money is written, once, with its numeric types if any."""
    seen: set[str] = set()
    for name, raw, at in _schema_roots(doc):
        for site in walk(doc, raw, at, name, marks=is_money):
            money = is_money(site.name) or (site.marked and any(w in MONEY_PARTS for w in words(site.name)))
            if money and site.at not in seen:
                seen.add(site.at)
                yield site, types(site.node) & {"number", "integer"}


def _schema_roots(doc: Document) -> Iterator[tuple[str, Any, str]]:
    """(name, schema, where) of every schema a message can carry: the components' schemas, and each
    operation's parameters, request body, responses and response headers."""
    for name, schema in mapping(mapping(doc.get("components")).get("schemas")).items():
        yield str(name), schema, pointer("components", "schemas", name)
    for op in operations(doc):
        for param in op.parameters(doc):
            if "schema" in param.node:
                yield param.name, param.node["schema"], child(param.at, "schema")
            for _, schema, at in media_schemas(doc, param.node, param.at):
                yield param.name, schema, at
        body, body_at = resolve(doc, op.node.get("requestBody"), child(op.at, "requestBody"))
        for _, schema, at in media_schemas(doc, mapping(body), body_at):
            yield "", schema, at
        for response in op.responses(doc):
            for _, schema, at in media_schemas(doc, response.node, response.at):
                yield "", schema, at
            for header, raw in mapping(response.node.get("headers")).items():
                node, at = resolve(doc, raw, child(response.at, "headers", header))
                if "schema" in mapping(node):
                    yield str(header), mapping(node)["schema"], child(at, "schema")


def _decimal_money(doc: Document) -> Iterator[Issue]:
    for site, numeric in _money_sites(doc):
        if numeric:
            kind = "/".join(sorted(numeric))
            via = "" if site.resolved_at == site.at else f" (by {site.resolved_at})"
            yield Issue(site.at, f"`{site.name}` carries money but is `{kind}`{via}: use a decimal string")


# -- pagination ----------------------------------------------------------------------------------

LIMITS = frozenset({"limit", "pagesize", "perpage"})
CURSORS = frozenset({"cursor", "page", "pagetoken", "offset", "after", "startingafter"})
# Beside the one array, an object that is a page holds only these (any word of the name):
# `next_cursor`, `has_more`, `total_count`, `links`, Stripe's `object: "list"` and `url`.
PAGE_METADATA = frozenset(
    {"next", "prev", "previous", "cursor", "token", "page", "has", "more", "total", "count", "limit"}
    | {"offset", "after", "before", "links", "link", "meta", "object", "url", "size"}
)


def _list_operations(doc: Document) -> list[Operation]:
    """GETs whose 200 answer is an array, or an object holding one array beside page metadata only
    (`data` with `next_cursor`, `has_more`, `total`); an account with a `positions` array is no list."""
    found = []
    for op in operations(doc):
        if op.outgoing or op.method != "get":
            continue
        ok = next((r for r in op.responses(doc) if r.code == "200"), None)
        if ok is not None and any(_is_list(doc, s, at) for _, s, at in media_schemas(doc, ok.node, ok.at)):
            found.append(op)
    return found


def _is_list(doc: Document, schema: Any, at: str) -> bool:
    node, where = resolve(doc, schema, at)
    kinds = types(mapping(node))
    if "array" in kinds:
        return True
    props = properties(doc, node, where)
    arrays = [name for name, (prop, _) in props.items() if "array" in types(prop)]
    others = [name for name in props if name not in arrays]
    return len(arrays) == 1 and all(any(w in PAGE_METADATA for w in words(name)) for name in others)


def _pagination(doc: Document) -> Iterator[Issue]:
    for op in _list_operations(doc):
        query = {normalized(p.name) for p in op.parameters(doc) if p.where == "query"}
        missing = []
        if not query & LIMITS:
            missing.append("`limit`")
        if not query & CURSORS:
            missing.append("cursor (`cursor`, `page`, `page_token`, `offset`, `after` or `starting_after`)")
        if missing:
            yield Issue(op.at, f"GET {op.path} returns a list but takes no {' and no '.join(missing)}")


# -- webhook-signature ---------------------------------------------------------------------------


def _webhooks(doc: Document) -> list[Operation]:
    """Every `webhooks` entry (3.1), and every POST to a path naming a webhook."""
    return [op for op in operations(doc) if op.outgoing or op.webhook_receiver]


def _webhook_signature(doc: Document) -> Iterator[Issue]:
    for op in _webhooks(doc):
        signatures = [p for p in op.parameters(doc) if p.where == "header" and "signature" in p.name.lower()]
        if any(p.required for p in signatures):
            continue
        what = f"`{signatures[0].name}` is not required" if signatures else "no signature header is declared"
        yield Issue(op.at, f"webhook {op.method.upper()} {op.path}: {what}; a forged event would be accepted")


def _at(ops: list[Operation]) -> list[str]:
    return [op.at for op in ops]


RULES: tuple[Rule, ...] = (
    Rule(
        id="has-operations",
        title="The spec declares operations",
        severity="blocker",
        why="A spec without operations cannot be reviewed, built against or contract-tested: every "
        "other rule would have nothing to look at and could only say so.",
        fix="Describe every endpoint the middleware serves under `paths`, and what it sends in `webhooks`.",
        absent="",
        scope=lambda doc: [pointer()],
        judge=_has_operations,
        reads_operations=False,
    ),
    Rule(
        id="idempotency-key",
        title="Placing an order is idempotent",
        severity="blocker",
        why="A trader's client retries when an order times out. Without a key the middleware cannot "
        "tell a retry from a new order, and the venue gets the order twice: a duplicate position.",
        fix="Require an `Idempotency-Key` header, or a required `client_order_id` in the body, and "
        "answer a repeat with the first order.",
        absent="no operation places orders (a POST whose path, operationId or summary names an order)",
        scope=lambda doc: _at(_order_creations(doc)),
        judge=_idempotency_key,
    ),
    Rule(
        id="auth-responses",
        title="Auth, rate-limit and unavailable answers are documented",
        severity="blocker",
        why="Clients must tell a bad key (401) from a missing permission (403), back off on a rate limit "
        "(429 with Retry-After) instead of hammering a venue, and retry on 503 while a venue is down. "
        "Missing 401/403 on a secured operation is a blocker; missing 429 or 503 is major.",
        fix="Document 401 and 403 on every secured operation, 429 with a `Retry-After` header and 503 "
        "on every other than health checks (webhook receivers need 503 only).",
        absent="no operation other than unsecured health checks",
        scope=lambda doc: _at(_judged_for_responses(doc)),
        judge=_auth_responses,
    ),
    Rule(
        id="security-scheme",
        title="Every operation requires credentials",
        severity="blocker",
        why="An endpoint that places orders or changes risk limits without credentials lets anyone "
        "trade on any account. Health checks are exempt; partners' webhooks are signed instead.",
        fix="Declare `security` (at the root or per operation) naming a scheme defined in "
        "`components.securitySchemes`, with no empty `{}` alternative.",
        absent="no operation other than health checks and signed webhooks",
        scope=_security_scope,
        judge=_security_scheme,
    ),
    Rule(
        id="error-schema",
        title="Error answers have a schema",
        severity="major",
        why="A client that cannot read a reject cannot tell a risk reject from a venue outage, so it "
        "retries what it should drop, or drops what it should retry.",
        fix="Give every 4xx, 5xx and `default` response a `content` with a schema (one shared Error schema).",
        absent="no 4xx, 5xx or default response is documented",
        scope=lambda doc: list(_error_responses(doc)),
        judge=_error_schema,
    ),
    Rule(
        id="decimal-money",
        title="Money and prices are decimal strings",
        severity="blocker",
        why="A binary float cannot hold most prices exactly (0.1 + 0.2 != 0.3), so P&L, fees and "
        "balances drift and limit prices land off the tick; an integer cannot hold 4512.25.",
        fix="Type money and prices as `type: string` with `format: decimal` (or a decimal `pattern`); "
        "keep quantities integers.",
        absent="no schema names money or a price",
        scope=lambda doc: [site.at for site, _ in _money_sites(doc)],
        judge=_decimal_money,
    ),
    Rule(
        id="pagination",
        title="Lists are paginated",
        severity="major",
        why="Orders, fills and ledger entries grow without bound: an unpaginated list times out, "
        "or loads the database while the market is busiest.",
        fix="Take a `limit` and a cursor (`cursor`, `page_token`, `starting_after`, ...) on every list.",
        absent="no GET answers a list",
        scope=lambda doc: _at(_list_operations(doc)),
        judge=_pagination,
    ),
    Rule(
        id="webhook-signature",
        title="Webhooks are signed",
        severity="blocker",
        why="A webhook from Stripe, DocuSign or Rippling changes subscriptions and access; without a "
        "verified signature anyone can post a `payment succeeded` and get a funded account.",
        fix="Declare the signature header (`Stripe-Signature`, `X-DocuSign-Signature-1`, ...) as a "
        "required header parameter of every webhook.",
        absent="the spec has no webhooks (`webhooks` entries, or POSTs to a path naming a webhook)",
        scope=lambda doc: _at(_webhooks(doc)),
        judge=_webhook_signature,
    ),
)

__all__ = ["RULES", "is_money"]
