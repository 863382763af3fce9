"""GET /v1/lifecycle/{customer}: where a funded trader's chain stands, from Postgres alone."""

from __future__ import annotations

from typing import Any


async def lifecycle_view(conn: Any, customer: str) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT * FROM lifecycle WHERE customer_id = $1", customer)
    if row is None:
        return None
    payouts = await conn.fetch("SELECT * FROM payouts WHERE customer_id = $1 ORDER BY created_at", customer)
    return {
        "customer": row["customer_id"],
        "email": row["email"],
        "name": row["name"],
        "program": "funded",
        "notified": row["notified_at"] is not None,
        "contract": {
            "envelope_id": row["envelope_id"],
            "status": row["contract_status"],
            "signed_at": row["signed_at"].isoformat() if row["signed_at"] else None,
        },
        "mt5_login": row["mt5_login"] if row["mt5_user_at"] is not None else None,
        "deposit": None if row["deposit"] is None else f"{row['deposit']:.2f}",
        "deposit_deal": row["deposit_deal"],
        "rippling_worker_id": row["rippling_worker_id"],
        "provisioned": row["provisioned_at"] is not None,
        "cancelled": row["cancelled_at"] is not None,
        "payouts": [
            {
                "payout_id": p["payout_id"],
                "amount": f"{p['amount']:.2f}",
                "status": p["status"],
                "mt5_deal": p["mt5_deal"],
                "rippling_pay_item": p["rippling_pay_item"],
            }
            for p in payouts
        ],
        "last_error": row["last_error"],
    }
