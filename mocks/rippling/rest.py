"""The REST surface a middleware writes to: workers and one-off pay items, bearer-authenticated.

| Method and path | What it does |
|---|---|
| GET /companies/current | the company the token belongs to |
| POST /workers | hire `{first_name, last_name, work_email, worker_type?, external_id?, title?,
|   | start_date?}` |
| GET /workers[?work_email&external_id&status&limit&cursor] | a page `{results, next_link}` |
| GET /workers/{id} | one worker |
| PATCH /workers/{id} | `{status?: ACTIVE\\|TERMINATED, termination_date?, title?, external_id?}` |
| POST /pay-items | `{worker_id, amount, currency?, type?, reference?, memo?}`: a line on the next pay run |
| GET /pay-items[?worker_id&reference&limit&cursor] | a page `{results, next_link}` |
| GET /pay-items/{id} | one pay item |

Neither create dedupes (records.py). Authentication and faults are the gateway's; handlers only raise
RipplingError.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar
from urllib.parse import urlencode

from aiohttp import web

from . import validate as v
from .errors import RipplingError, invalid, not_found
from .records import PAY_ITEM_TYPES, WORKER_STATUSES, WORKER_TYPES, Company, PayItem, RipplingLedger, Worker
from .views import pay_item_json, worker_json

T = TypeVar("T")
WORKER_FIELDS = ("first_name", "last_name", "work_email", "worker_type", "external_id", "title", "start_date")
UPDATE_FIELDS = ("status", "termination_date", "title", "external_id")
PAY_FIELDS = ("worker_id", "amount", "currency", "type", "reference", "memo")


class RestContext(Protocol):
    @property
    def company(self) -> Company: ...
    @property
    def ledger(self) -> RipplingLedger: ...

    def hire(self, worker: dict[str, Any]) -> Worker: ...

    def change_worker(self, worker: Worker, changes: dict[str, Any]) -> None: ...

    def add_pay_item(self, item: dict[str, Any]) -> PayItem: ...


def page(
    request: web.Request, rows: Sequence[T], render: Callable[[T], dict[str, Any]], filters: tuple[str, ...]
) -> web.Response:
    """One page of `rows` and the link to the next, Rippling's cursor style."""
    query = request.query
    v.known_params(query, (*filters, "limit", "cursor"))
    size, start = v.limit(query), v.cursor(query)
    chunk = rows[start : start + size]
    next_link = None
    if start + size < len(rows):
        kept = {k: query[k] for k in filters if k in query}
        params = {**kept, "limit": str(size), "cursor": v.encode_cursor(start + size)}
        next_link = f"{request.path}?{urlencode(params)}"
    return web.json_response({"results": [render(r) for r in chunk], "next_link": next_link})


class RestResource:
    def __init__(self, context: RestContext) -> None:
        self.context = context

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/companies/current", self.company),
            web.post("/workers", self.create_worker),
            web.get("/workers", self.list_workers),
            web.get("/workers/{worker_id}", self.get_worker),
            web.patch("/workers/{worker_id}", self.update_worker),
            web.post("/pay-items", self.create_pay_item),
            web.get("/pay-items", self.list_pay_items),
            web.get("/pay-items/{pay_item_id}", self.get_pay_item),
        ]

    def _worker(self, worker_id: str, field: str = "id") -> Worker:
        worker = self.context.ledger.workers.get(worker_id.lower())
        if worker is None:
            raise not_found("worker", field)
        return worker

    async def company(self, request: web.Request) -> web.Response:
        return web.json_response(self.context.company.to_json())

    async def create_worker(self, request: web.Request) -> web.Response:
        body = await v.read_object(request)
        v.only(body, WORKER_FIELDS)
        fields = {
            "first_name": v.text(body, "first_name", required=True, max_len=100),
            "last_name": v.text(body, "last_name", required=True, max_len=100),
            "work_email": v.email(body),
            "worker_type": v.choice(body, "worker_type", WORKER_TYPES, "EMPLOYEE"),
            "external_id": v.text(body, "external_id", max_len=100),
            "title": v.text(body, "title", max_len=100),
            "start_date": v.day(body, "start_date"),
        }
        worker = self.context.hire(fields)
        return web.json_response(worker_json(worker), status=201)

    async def list_workers(self, request: web.Request) -> web.Response:
        query = request.query
        email, external = v.one(query, "work_email"), v.one(query, "external_id")
        status = v.one(query, "status")
        if status is not None and status.upper() not in WORKER_STATUSES:
            raise invalid("status", f"must be one of {', '.join(WORKER_STATUSES)}")
        rows = [
            w
            for w in self.context.ledger.workers.values()
            if (email is None or w.work_email == email.lower())
            and (external is None or w.external_id == external)
            and (status is None or w.status == status.upper())
        ]
        return page(request, rows, worker_json, ("work_email", "external_id", "status"))

    async def get_worker(self, request: web.Request) -> web.Response:
        return web.json_response(worker_json(self._worker(request.match_info["worker_id"])))

    async def update_worker(self, request: web.Request) -> web.Response:
        worker = self._worker(request.match_info["worker_id"])
        body = await v.read_object(request)
        v.only(body, UPDATE_FIELDS)
        changes: dict[str, Any] = {}
        if "status" in body:
            changes["status"] = v.choice(body, "status", WORKER_STATUSES)
        if "termination_date" in body:
            changes["termination_date"] = v.day(body, "termination_date")
            if changes["termination_date"] is None:
                raise invalid("termination_date", "must be a date, YYYY-MM-DD")
        for name in ("title", "external_id"):
            if name in body:
                changes[name] = v.text(body, name, max_len=100)
        if not changes:
            raise invalid("body", f"name at least one of {', '.join(UPDATE_FIELDS)}")
        if worker.status == "TERMINATED" and changes.get("status") == "ACTIVE":
            raise RipplingError(409, "conflict", "a terminated worker cannot be made active again", "status")
        terminating = changes.get("status") == "TERMINATED" and worker.status != "TERMINATED"
        if changes.get("termination_date") and not (terminating or worker.status == "TERMINATED"):
            raise invalid("termination_date", "only a worker being terminated has a termination date")
        if terminating and not changes.get("termination_date"):
            changes["termination_date"] = datetime.now(UTC).date().isoformat()
        self.context.change_worker(worker, changes)
        return web.json_response(worker_json(worker))

    async def create_pay_item(self, request: web.Request) -> web.Response:
        body = await v.read_object(request)
        v.only(body, PAY_FIELDS)
        worker_id = v.text(body, "worker_id", required=True, max_len=100)
        assert worker_id is not None
        if worker_id.lower() not in self.context.ledger.workers:
            raise invalid("worker_id", "names no worker of this company")
        fields = {
            "worker_id": worker_id.lower(),
            "amount": v.amount(body),
            "currency": v.currency(body),
            "type": v.choice(body, "type", PAY_ITEM_TYPES, "PAYOUT"),
            "reference": v.text(body, "reference", max_len=100),
            "memo": v.text(body, "memo", max_len=500),
        }
        item = self.context.add_pay_item(fields)
        return web.json_response(pay_item_json(item), status=201)

    async def list_pay_items(self, request: web.Request) -> web.Response:
        worker_id, reference = v.one(request.query, "worker_id"), v.one(request.query, "reference")
        rows = [
            p
            for p in self.context.ledger.pay_items.values()
            if (worker_id is None or p.worker_id == worker_id.lower())
            and (reference is None or p.reference == reference)
        ]
        return page(request, rows, pay_item_json, ("worker_id", "reference"))

    async def get_pay_item(self, request: web.Request) -> web.Response:
        item = self.context.ledger.pay_items.get(request.match_info["pay_item_id"].lower())
        if item is None:
            raise not_found("pay item")
        return web.json_response(pay_item_json(item))
