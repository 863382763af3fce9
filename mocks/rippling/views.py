"""The REST objects: a worker and a pay item as the API answers them (ISO-8601 UTC times)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .records import PayItem, Worker


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def worker_json(worker: Worker) -> dict[str, Any]:
    return {
        "id": worker.id,
        "name": {"first_name": worker.first_name, "last_name": worker.last_name},
        "work_email": worker.work_email,
        "worker_type": worker.worker_type,
        "status": worker.status,
        "external_id": worker.external_id,
        "title": worker.title,
        "start_date": worker.start_date,
        "termination_date": worker.termination_date,
        "created_at": iso(worker.created_at),
        "updated_at": iso(worker.updated_at),
    }


def pay_item_json(item: PayItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "worker_id": item.worker_id,
        "amount": {"value": item.amount, "currency": item.currency},
        "type": item.type,
        "reference": item.reference,
        "memo": item.memo,
        "status": item.status,
        "created_at": iso(item.created_at),
    }
