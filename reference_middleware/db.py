"""The admin store: an asyncpg pool, and schema migrations run at start (each once, in order)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg

from .config import Config
from .dbpool import Pool, open_pool
from .lifecycle.schema import MIGRATION as LIFECYCLE

MIGRATION_TIMEOUT_S = 120.0
MIGRATIONS: tuple[str, ...] = (
    # 1: admin state, orders, fills, transaction log
    """
    CREATE TABLE traders (
        id TEXT PRIMARY KEY,
        customer_id TEXT UNIQUE NOT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE TABLE accounts (
        id TEXT PRIMARY KEY,
        trader_id TEXT REFERENCES traders(id),
        rithmic_account TEXT NOT NULL,
        tt_account_id BIGINT,
        tt_status TEXT NOT NULL DEFAULT 'none',
        tt_error TEXT,
        trading_enabled BOOLEAN NOT NULL DEFAULT TRUE,
        max_position INTEGER NOT NULL,
        max_order_qty INTEGER NOT NULL,
        daily_loss_limit DOUBLE PRECISION NOT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE TABLE subscriptions (
        id TEXT PRIMARY KEY,
        customer_id TEXT NOT NULL,
        status TEXT NOT NULL,
        event_created BIGINT NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE INDEX subscriptions_customer ON subscriptions(customer_id);
    CREATE TABLE payments (
        id BIGSERIAL PRIMARY KEY,
        event_id TEXT NOT NULL,
        invoice_id TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        amount INTEGER NOT NULL,
        status TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE TABLE webhook_events (
        event_id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        created BIGINT NOT NULL,
        received_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE TABLE orders (
        client_order_id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts(id),
        venue TEXT NOT NULL,
        symbol TEXT NOT NULL,
        exchange TEXT NOT NULL,
        side TEXT NOT NULL,
        qty INTEGER NOT NULL,
        order_type TEXT NOT NULL,
        limit_price DOUBLE PRECISION,
        status TEXT NOT NULL,
        reason TEXT,
        basket_id TEXT,
        filled_qty INTEGER NOT NULL DEFAULT 0,
        avg_fill_price DOUBLE PRECISION,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE INDEX orders_account ON orders(account_id);
    CREATE TABLE fills (
        id BIGSERIAL PRIMARY KEY,
        venue TEXT NOT NULL,
        fill_id TEXT NOT NULL,
        client_order_id TEXT,
        account_id TEXT NOT NULL,
        symbol TEXT NOT NULL,
        exchange TEXT NOT NULL,
        side TEXT NOT NULL,
        qty INTEGER NOT NULL,
        price DOUBLE PRECISION NOT NULL,
        source TEXT NOT NULL,
        received_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE INDEX fills_venue_id ON fills(venue, fill_id);
    CREATE INDEX fills_account ON fills(account_id);
    CREATE TABLE cursors (
        name TEXT PRIMARY KEY,
        value BIGINT NOT NULL
    );
    CREATE TABLE txlog (
        id BIGSERIAL PRIMARY KEY,
        at TIMESTAMPTZ NOT NULL DEFAULT now(),
        kind TEXT NOT NULL,
        detail JSONB NOT NULL
    );
    """,
    # 2: who a trader is, from the Stripe checkout that onboarded them
    """
    ALTER TABLE traders ADD COLUMN name TEXT, ADD COLUMN email TEXT, ADD COLUMN country TEXT;
    """,
    # 3: every venue notification looks its order up by basket id as well; unindexed, that was a
    # scan of the whole orders table per notification
    """
    CREATE INDEX orders_basket ON orders(basket_id) WHERE basket_id <> '';
    """,
    # 4: an order's status move in one round trip instead of a transaction of four (lock, read,
    # update, log): under a busy open every order moves two or three times
    """
    CREATE FUNCTION set_order_status(p_coid TEXT, p_status TEXT, p_reason TEXT, p_basket TEXT,
                                     p_kept TEXT[]) RETURNS SETOF orders LANGUAGE plpgsql AS $$
    DECLARE
        current_status TEXT;
    BEGIN
        SELECT status INTO current_status FROM orders WHERE client_order_id = p_coid FOR UPDATE;
        IF NOT FOUND THEN
            RETURN;
        END IF;
        IF current_status = ANY(p_kept) THEN
            RETURN QUERY UPDATE orders SET basket_id = COALESCE(basket_id, p_basket), updated_at = now()
                WHERE client_order_id = p_coid RETURNING *;
            RETURN;
        END IF;
        RETURN QUERY UPDATE orders SET status = p_status, reason = COALESCE(p_reason, reason),
            basket_id = COALESCE(basket_id, p_basket), updated_at = now()
            WHERE client_order_id = p_coid RETURNING *;
        IF p_status <> current_status THEN
            INSERT INTO txlog(kind, detail) VALUES ('order_status', jsonb_build_object(
                'client_order_id', p_coid, 'status', p_status, 'reason', p_reason));
        END IF;
    END $$;
    """,
    # 5: trader API keys, kept only as SHA-256 hashes of the secret (shown once, when issued)
    """
    CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        key_hash TEXT UNIQUE NOT NULL,
        account_id TEXT NOT NULL REFERENCES accounts(id),
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        expires_at TIMESTAMPTZ,
        revoked_at TIMESTAMPTZ
    );
    CREATE INDEX api_keys_account ON api_keys(account_id);
    """,
    # 6: the venue each account trades on (Rithmic unless the back office routes it to CQG), and
    # its CQG account id
    """
    ALTER TABLE accounts ADD COLUMN venue TEXT NOT NULL DEFAULT 'rithmic',
        ADD COLUMN cqg_account BIGINT;
    """,
    # 7: the funded trader's lifecycle: contract, provisioning, payouts (lifecycle/schema.py)
    LIFECYCLE,
)


async def connect(cfg: Config, *, attempts: int = 50) -> Pool:
    """A pool, once Postgres answers (bounded retries, each connect bounded), with the schema
    migrated. See dbpool for the bounds every connection carries."""
    last: Exception | None = None
    for _ in range(attempts):
        try:
            pool = await open_pool(cfg)
            break
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            last = exc
            await asyncio.sleep(0.2)
    else:
        raise RuntimeError(f"Postgres not reachable: {type(last).__name__}: {last}")
    await migrate(pool)
    return pool


async def migrate(pool: Pool) -> int:
    """Apply pending migrations under an advisory lock; returns the schema version. A migration
    may wait for another instance's (a rolling start), so it lifts the request-sized bounds."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL lock_timeout = '60s'; SET LOCAL statement_timeout = '120s'")
        await conn.execute("SELECT pg_advisory_xact_lock(774411)", timeout=MIGRATION_TIMEOUT_S)
        await conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)")
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        for version, sql in enumerate(MIGRATIONS, start=1):
            if version in done:
                continue
            await conn.execute(sql, timeout=MIGRATION_TIMEOUT_S)
            await conn.execute("INSERT INTO schema_migrations(version) VALUES ($1)", version)
    return len(MIGRATIONS)


async def log(conn: Any, kind: str, **detail: Any) -> None:
    """One transaction-log entry (every state change worth auditing goes here)."""
    await conn.execute(
        "INSERT INTO txlog(kind, detail) VALUES ($1, $2::jsonb)", kind, json.dumps(detail, default=str)
    )
