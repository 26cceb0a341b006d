"""The benchmark databases: create and drop them, migrate and seed them (timed).

Migration and the 1,000,000-transaction seed go through the real commands (``flask db
upgrade``, ``flask vaulta seed-demo``); the 10,000 pending payments are bench-only rows
inserted directly (Core ``executemany``), because requesting and confirming them one by
one through the services would take longer than the whole benchmark.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).with_name("flask"))
BENCH_SECRET_KEY = "bench-" + uuid.uuid4().hex  # a fresh random key per run
# Mail (the admins' sign-in codes) is written here as JSON files (MAIL_BACKEND=console).
OUTBOX = Path(tempfile.gettempdir()) / f"vaulta-bench-outbox-{os.getpid()}"


def app_environment(url: str, **extra: str) -> dict[str, str]:
    """The environment of every app process of the benchmark (production settings)."""
    env = dict(os.environ)
    env.update(
        FLASK_APP="wsgi.py",
        VAULTA_CONFIG="production",
        SECRET_KEY=BENCH_SECRET_KEY,
        DATABASE_URL=url,
        MAIL_BACKEND="console",
        MAIL_OUTBOX_DIR=str(OUTBOX),
        PYTHONPATH=str(ROOT),
        # Production refuses in-memory rate-limit counts with several workers.
        RATELIMIT_STORAGE_URI=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
    )
    env.update(extra)
    return env


def create_postgres(server_url: str) -> str:
    name = f"vaulta_bench_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(_psycopg(server_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return sa.engine.make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres(server_url: str, url: str) -> None:
    name = sa.engine.make_url(url).database
    engine = sa.create_engine(_psycopg(server_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


def create_sqlite(directory: Path) -> str:
    path = directory / "vaulta-bench.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def _psycopg(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def timed_command(args: list[str], env: dict[str, str]) -> float:
    """Run a ``flask`` command in the project directory; its wall-clock seconds."""
    start = time.perf_counter()
    result = subprocess.run(
        [FLASK, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return seconds


def migrate(url: str) -> float:
    return timed_command(["db", "upgrade"], app_environment(url))


def seed(url: str, customers: int, transactions: int) -> float:
    args = ["vaulta", "seed-demo", "--customers", str(customers)]
    args += ["--transactions", str(transactions), "--seed", "2026"]
    return timed_command(args, app_environment(url))


def _seed_change_requests(conn: sa.Connection, ids: list[int], rows: list[dict[str, Any]]) -> None:
    """Each seeded payment's change request, as ``payment_changes.open_request`` makes it
    (one approver, bulk allowed: the amounts stay under every seeded policy's threshold for
    a payment on its own), and the payment's link to it."""
    from vaulta.models import Account, ChangeRequest, Payment

    customers = dict(
        conn.execute(
            sa.select(Account.id, Account.customer_id).where(
                Account.id.in_({row["from_account_id"] for row in rows})
            )
        ).all()
    )
    requests = ChangeRequest.__table__
    conn.execute(
        sa.insert(requests),
        [
            {
                "action": "payments.payment",
                "target_type": "payment",
                "target_id": pid,
                "customer_id": customers[row["from_account_id"]],
                "account_kind": "customer",
                "amount_minor": row["amount_minor"],
                "currency": row["currency"],
                "change": {"before": {}, "after": {}, "params": {"payment_id": pid}},
                "summary": f"Payment #{pid}",
                "maker_id": row["requested_by_id"],
                "status": "pending",
                "levels_required": 1,
                "levels_approved": 0,
                "roles_per_level": [["approver"]],
                "step_up_levels": [],
                "bulk_allowed": True,
                "created_at": row["created_at"],
                "expires_at": row["expires_at"],
                "dedupe_key": f"payments.payment:{pid}",
            }
            for pid, row in zip(ids, rows, strict=True)
        ],
    )
    payments = Payment.__table__
    conn.execute(
        sa.update(payments)
        .where(payments.c.id.in_(ids))
        .values(
            change_request_id=sa.select(requests.c.id)
            .where(requests.c.target_type == "payment", requests.c.target_id == payments.c.id)
            .scalar_subquery()
        )
    )


def seed_pending_payments(url: str, count: int) -> float:
    """``count`` payments awaiting approval between seeded accounts of the same currency.

    Every payment debits its own account (no two share a source) for a tenth of its balance
    and credits a different account, so executing them all succeeds and 8 workers rarely
    wait on each other's row locks. Amounts stay below the step-up threshold.
    """
    from vaulta.models import Account, Payment, User, utcnow
    from vaulta.models.payment import PAYMENT_PENDING

    start = time.perf_counter()
    engine = sa.create_engine(_psycopg(url))
    with engine.begin() as conn:
        requester = conn.scalar(
            sa.select(User.id).where(User.role == "customer").order_by(User.id).limit(1)
        )
        accounts = conn.execute(
            sa.select(Account.id, Account.currency, Account.balance_minor)
            .where(Account.kind == "customer", Account.balance_minor >= 1_000)
            .order_by(Account.id)
            .limit(count * 3)
        ).all()
        by_currency: dict[str, list[int]] = defaultdict(list)
        for account_id, currency, _balance in accounts:
            by_currency[currency].append(account_id)
        rng = random.Random(6)
        now = utcnow()
        rows = []
        for account_id, currency, balance in accounts[:count]:
            peers = by_currency[currency]
            target = account_id
            while target == account_id:
                target = peers[rng.randrange(len(peers))]
            # In order, within the last 10 ms: after the database's approval policies (a
            # request older than the policy in force is re-evaluated when decided).
            when = now - timedelta(microseconds=count - len(rows))
            rows.append(
                {
                    "from_account_id": account_id,
                    "beneficiary_account_id": target,
                    "amount_minor": max(1, min(balance // 10, 900_000)),
                    "currency": currency,
                    "reference": f"Bench payment {len(rows) + 1}",
                    "status": PAYMENT_PENDING,
                    "requested_by_id": requester,
                    "confirmed_at": when,
                    "expires_at": now + timedelta(days=7),
                    "created_at": when,
                    "updated_at": when,
                }
            )
        if len(rows) < count:
            raise RuntimeError(f"only {len(rows)} funded accounts for {count} payments")
        ids = conn.scalars(
            sa.insert(Payment.__table__).returning(Payment.__table__.c.id), rows
        ).all()
        _seed_change_requests(conn, list(ids), rows)
        _seed_holds(conn, list(ids), rows)
    engine.dispose()
    return time.perf_counter() - start


def _seed_holds(conn: sa.Connection, ids: list[int], rows: list[dict[str, Any]]) -> None:
    """Each seeded payment's hold, as ``payment_holds.hold_for`` places it when a payment
    is confirmed (its amount on the paying account, until the payment expires), and the
    accounts' held amounts: so executions capture them and verify-ledger's hold checks
    pass afterwards."""
    from vaulta.models import Account, Hold

    conn.execute(
        sa.insert(Hold.__table__),
        [
            {
                "account_id": row["from_account_id"],
                "amount_minor": row["amount_minor"],
                "currency": row["currency"],
                "reason": f"Payment #{pid}",
                "expires_at": row["expires_at"],
                "status": "active",
                "captured_minor": 0,
                "payment_id": pid,
                "created_by_id": row["requested_by_id"],
                "created_at": row["created_at"],
                "updated_at": row["created_at"],
            }
            for pid, row in zip(ids, rows, strict=True)
        ],
    )
    accounts = Account.__table__
    held = (
        sa.select(sa.func.sum(Hold.amount_minor))
        .where(Hold.account_id == accounts.c.id, Hold.status == "active")
        .scalar_subquery()
    )
    sources = sorted({row["from_account_id"] for row in rows})
    conn.execute(sa.update(accounts).where(accounts.c.id.in_(sources)).values(held_minor=held))
