"""`StripeEmitter`: sends signed Stripe webhook events to a URL, with delivery faults on request.

It has no venue listener (Stripe calls the middleware, not the other way round), so `start` only
opens the HTTP client; all of its surface is the control API:

| Path | What it does |
|---|---|
| POST /send | `{"type" or "types", "url", "customer"?, "faults"?, "metadata"?, "client_reference_id"?,
|            |   "retry"?, "wait"?}`: build, sign and deliver events; 200 with the deliveries |
| GET /sent | every event built so far, in creation order |
| GET /stripe | the secret(s), api_version and event types |
| POST /stripe/credentials/rotate | `{"grace_s"?}`: a new signing secret; both sign for `grace_s` more |
| GET /stripe/credentials | the secret's generation and grace deadline (never the value) |

Faults, named in `faults` of one send, or armed through `POST /faults` (then each firing applies
to the next event sent, or for `reorder` to the next batch of two or more): `duplicate`,
`reorder`, `bad_signature`, `stale_timestamp` (`age_s`), `rotated_secret`, `tampered_body`.

After a rotation every delivery carries two v1 entries (previous secret first) until the grace period
ends, then only the current one. Each `delivery` event's `signed_with` lists the generations that
signed it. `rotated_secret`'s old secret is the previous generation once there is one.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import Any

import httpx
from aiohttp import web

from mocks.common import Delivery, FaultError, FaultKind, MockVenue, RetryPolicy, Route, read_json
from mocks.common.credentials import CredentialRing, credential_routes
from mocks.common.urls import check_delivery_url

from . import signing
from .delivery import Signing, deliver
from .events import DEFAULT_API_VERSION, EVENT_TYPES, EventFactory

FAULTS = [
    FaultKind("duplicate", "deliver the same event (same id and body) twice"),
    FaultKind("reorder", "deliver a batch of events in an order different from the one asked"),
    FaultKind("bad_signature", "a well-formed v1 signature that does not match"),
    FaultKind(
        "stale_timestamp",
        "sign with a timestamp `age_s` seconds old (the stripe library's tolerance is 300 s)",
        {"age_s": (int, 600)},
        bounds={"age_s": (1, 10**8)},
    ),
    FaultKind("rotated_secret", "two v1 entries: the old secret's first, then the current one's"),
    FaultKind("tampered_body", "sign the event, then change the body that is sent"),
]
PER_EVENT = ("duplicate", "bad_signature", "stale_timestamp", "rotated_secret", "tampered_body")
SEND_FIELDS = {
    "type",
    "types",
    "url",
    "customer",
    "faults",
    "metadata",
    "client_reference_id",
    "retry",
    "wait",
}
MAX_BATCH = 100


class StripeEmitter(MockVenue):
    name = "stripe"
    listens = False  # no venue listener, so no proxy on the fault plane; only the control API

    def __init__(
        self,
        seed: int = 0,
        retry: RetryPolicy | None = None,
        allowed_hosts: tuple[str, ...] = (),
        api_version: str = DEFAULT_API_VERSION,
    ) -> None:
        super().__init__(seed)
        self.secrets = CredentialRing(
            "webhook_secret", lambda g: signing.secret_from_seed(seed, "current" if g == 0 else f"gen{g}")
        )
        self.seeded_old = signing.secret_from_seed(seed, "previous")
        self.retry = retry or RetryPolicy()
        self.allowed_hosts = allowed_hosts
        self.api_version = api_version
        self.factory = EventFactory(random.Random(f"stripe-events-{seed}"), api_version)
        self.sent: list[dict[str, Any]] = []
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    def fault_catalogue(self) -> list[FaultKind]:
        return list(FAULTS)

    @property
    def secret(self) -> str:
        """The current signing secret."""
        return self.secrets.current

    @property
    def old_secret(self) -> str:
        """What `rotated_secret` signs with first: the previous generation, or a seeded stand-in."""
        ring = self.secrets
        return ring.value(ring.generation - 1) if ring.generation else self.seeded_old

    @property
    def url(self) -> str:
        return ""  # no listener: Stripe is the caller

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        if self._client is None:
            self._client = httpx.AsyncClient(follow_redirects=False, trust_env=False)
        self.events.add("started")

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def on_reset(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self.factory = EventFactory(random.Random(f"stripe-events-{self.seed}"), self.api_version)
        self.sent.clear()
        self.secrets.reset()

    def describe(self) -> dict[str, Any]:
        return {"secret": self.secret, "old_secret": self.old_secret, "api_version": self.api_version}

    # -- sending ------------------------------------------------------------------------------

    def parse_faults(self, raw: Any) -> dict[str, dict[str, Any]]:
        """`["duplicate", {"fault": "stale_timestamp", "params": {"age_s": 900}}]` -> {name: params}."""
        if raw is None:
            return {}
        if not isinstance(raw, list):
            raise FaultError("faults", "must be a list")
        chosen: dict[str, dict[str, Any]] = {}
        for n, item in enumerate(raw):
            if isinstance(item, str):
                name, params = item, None
            elif isinstance(item, dict) and isinstance(item.get("fault"), str):
                if set(item) - {"fault", "params"}:
                    raise FaultError(f"faults[{n}]", "only 'fault' and 'params' are allowed")
                name, params = item["fault"], item.get("params")
            else:
                raise FaultError(f"faults[{n}]", "must be a fault name or {'fault', 'params'}")
            kind = self.faults.catalogue.get(name)
            if kind is None:
                raise FaultError(
                    f"faults[{n}]", f"unknown fault {name!r}; known: {', '.join(self.faults.catalogue)}"
                )
            try:
                chosen[name] = kind.validate(params)
            except FaultError as exc:
                raise FaultError(f"faults[{n}].{exc.field}", exc.message) from None
        return chosen

    def check_url(self, url: Any) -> str:
        return check_delivery_url(url, self.allowed_hosts, what="webhook URL")

    def build(self, types: list[str], customer: str | None = None, **extra: Any) -> list[dict[str, Any]]:
        made = [self.factory.event(t, customer, **extra) for t in types]
        self.sent.extend(made)
        return made

    async def send(
        self,
        url: str,
        events: list[dict[str, Any]],
        faults: dict[str, dict[str, Any]] | None = None,
        retry: RetryPolicy | None = None,
    ) -> list[Delivery]:
        """Deliver `events` to `url`, one after another, with `faults` and those armed on the book."""
        faults = dict(faults or {})
        if len(events) > 1 and "reorder" not in faults and self.faults.take("reorder") is not None:
            faults["reorder"] = {}
        order = list(events)
        if "reorder" in faults and len(order) > 1:
            shuffled = list(order)
            for _ in range(20):
                self.rng.shuffle(shuffled)
                if shuffled != order:
                    break
            order = shuffled if shuffled != order else order[::-1]
        if self._client is None:
            await self.start(self.host, self.port)
        assert self._client is not None
        records: list[Delivery] = []
        for event in order:
            these = dict(faults)
            for name in PER_EVENT:
                armed = self.faults.take(name) if name not in these else None
                if armed is not None:
                    these[name] = armed.params
            stale = these.get("stale_timestamp")
            how = Signing(
                self.secrets,
                self.seeded_old,
                bad_signature="bad_signature" in these,
                stale_age_s=stale["age_s"] if stale is not None else None,
                rotated="rotated_secret" in these,
                tampered="tampered_body" in these,
            )
            names = sorted(these)
            copies = 2 if "duplicate" in these else 1
            for _ in range(copies):
                attempts = await deliver(self._client, url, event, how, retry or self.retry, names)
                for record, signed_with in attempts:
                    self.ledger.add_delivery(record)
                    self.events.add(
                        "delivery",
                        event_id=record.event_id,
                        event_type=record.event_type,
                        attempt=record.attempt,
                        status=record.status,
                        faults=names,
                        signed_with=signed_with,
                    )
                    records.append(record)
        return records

    # -- control-API extras -------------------------------------------------------------------

    def control_routes(self) -> list[Route]:
        return [
            ("POST", "/send", self._send),
            ("GET", "/sent", self._sent),
            ("GET", "/stripe", self._info),
            *credential_routes(self, self.secrets),
        ]

    async def _info(self, request: web.Request) -> web.Response:
        return web.json_response({**self.describe(), "event_types": list(EVENT_TYPES)})

    async def _sent(self, request: web.Request) -> web.Response:
        return web.json_response({"events": self.sent})

    async def _send(self, request: web.Request) -> web.Response:
        body = await read_json(request)
        if not isinstance(body, dict):
            raise FaultError("body", "must be a JSON object")
        unknown = sorted(set(body) - SEND_FIELDS)
        if unknown:
            raise FaultError(unknown[0], "unknown field")
        if ("type" in body) == ("types" in body):
            raise FaultError("type", "give exactly one of 'type' or 'types'")
        types = [body["type"]] if "type" in body else body["types"]
        field_name = "type" if "type" in body else "types"
        if not isinstance(types, list) or not 1 <= len(types) <= MAX_BATCH:
            raise FaultError(field_name, f"must be a list of 1 to {MAX_BATCH} event types")
        for n, t in enumerate(types):
            if t not in EVENT_TYPES:
                where = field_name if field_name == "type" else f"types[{n}]"
                raise FaultError(where, f"must be one of {', '.join(EVENT_TYPES)}")
        url = self.check_url(body.get("url"))
        customer = body.get("customer")
        if customer is not None and (not isinstance(customer, str) or not 1 <= len(customer) <= 255):
            raise FaultError("customer", "must be a customer id string")
        metadata = body.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise FaultError("metadata", "must be an object")
        reference = body.get("client_reference_id")
        if reference is not None and not isinstance(reference, str):
            raise FaultError("client_reference_id", "must be a string")
        wait = body.get("wait", True)
        if not isinstance(wait, bool):
            raise FaultError("wait", "must be true or false")
        faults = self.parse_faults(body.get("faults"))
        if "reorder" in faults and len(types) < 2:
            raise FaultError("faults", "reorder needs a batch: give 'types' with at least two events")
        policy = RetryPolicy.from_json(body.get("retry"), self.retry)
        events = self.build(types, customer, metadata=metadata, client_reference_id=reference)
        summary = [{"id": e["id"], "type": e["type"]} for e in events]
        if not wait:
            task = asyncio.create_task(self.send(url, events, faults, policy))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return web.json_response(
                {"events": summary, "customer": events[0]["data"]["object"]["customer"]}, status=202
            )
        records = await self.send(url, events, faults, policy)
        delivered: list[str] = []
        for record in records:
            if not delivered or delivered[-1] != record.event_id or record.attempt == 1:
                delivered.append(record.event_id)
        return web.json_response(
            {
                "events": summary,
                "customer": events[0]["data"]["object"]["customer"],
                "delivery_order": delivered,
                "deliveries": [_delivery_json(r) for r in records],
            }
        )


def _delivery_json(record: Delivery) -> dict[str, Any]:
    return {
        "event_id": record.event_id,
        "event_type": record.event_type,
        "url": record.url,
        "attempt": record.attempt,
        "status": record.status,
        "response": record.response,
        "faults": record.faults,
        "sent_at": record.sent_at,
    }
