"""Payment execution throughput through the service layer, next to pgbench on the same server.

Eight worker processes (not threads: the GIL would make it a Python benchmark) each build
the production app, push an app context and decide their share of the pending payments,
all starting together, for at most ``DURATION`` seconds, in one of two ways:

- ``bulk``: ``bulk_decisions.decide_many(ids, action="approve")`` on 50 payments at a time,
  what the approval queue's "approve selected" does with a page of 50 rows;
- ``single``: ``approvals.approve(id)``, one payment per call (one per request).

Then the same server runs ``pgbench -i`` into a scratch database and ``pgbench -c 8 -j 2
-T 20 -b tpcb-like``; the ratio compares executed payments per second with pgbench's tps.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import re
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from bench.databases import app_environment

WORKERS = 8
DURATION = 20.0
BATCH = 50  # the approval queue's page size
PGBENCH_ARGS = ["-c", "8", "-j", "2", "-T", "20", "-b", "tpcb-like"]


@dataclass(frozen=True)
class PaymentRun:
    executed: int
    failed: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.executed / self.seconds if self.seconds else 0.0


def _worker(
    url: str, mode: str, ids: list[int], barrier: mp.synchronize.Barrier, out: mp.Queue
) -> None:
    os.environ.update(app_environment(url))
    from vaulta import create_app
    from vaulta.models.payment import PAYMENT_EXECUTED
    from vaulta.ops.seeding.demo import APPROVER_EMAIL
    from vaulta.services.identity import users
    from vaulta.services.payments import approvals, bulk_decisions

    app = create_app()
    statuses: list[str] = []
    size = BATCH if mode == "bulk" else 1
    with app.app_context():
        admin = users.find_by_email(APPROVER_EMAIL)
        barrier.wait()
        start = time.perf_counter()
        for first in range(0, len(ids), size):
            if time.perf_counter() - start > DURATION:
                break
            chunk = ids[first : first + size]
            if mode == "bulk":
                results = bulk_decisions.decide_many(chunk, actor=admin, action="approve")
                statuses += [PAYMENT_EXECUTED if r.ok else "refused" for r in results]
            else:
                statuses.append(approvals.approve(chunk[0], actor=admin, send_code=False).status)
        executed = statuses.count(PAYMENT_EXECUTED)
        out.put((executed, len(statuses) - executed, start, time.perf_counter()))


def execute_payments(url: str, mode: str = "bulk", limit: int | None = None) -> PaymentRun:
    from vaulta.models import Payment
    from vaulta.models.payment import PAYMENT_PENDING

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        ids = list(
            conn.scalars(
                sa.select(Payment.id).where(
                    Payment.status == PAYMENT_PENDING, Payment.reference.like("Bench payment %")
                )
            )
        )
    engine.dispose()
    ids = ids[:limit]
    context = mp.get_context("spawn")
    barrier = context.Barrier(WORKERS)
    out: mp.Queue = context.Queue()
    processes = [
        context.Process(target=_worker, args=(url, mode, ids[i::WORKERS], barrier, out))
        for i in range(WORKERS)
    ]
    for process in processes:
        process.start()
    results = []
    while len(results) < len(processes):
        try:
            results.append(out.get(timeout=1))
        except queue.Empty:
            dead = [p.exitcode for p in processes if p.exitcode not in (None, 0)]
            if dead:
                for process in processes:
                    process.kill()
                raise RuntimeError(f"a payment worker failed (exit codes {dead})") from None
    for process in processes:
        process.join()
    start = min(r[2] for r in results)
    end = max(r[3] for r in results)
    return PaymentRun(sum(r[0] for r in results), sum(r[1] for r in results), end - start)


def pgbench_tps(server_url: str) -> float:
    """tps of pgbench's built-in tpcb-like script in a scratch database (dropped after)."""
    pgbench = shutil.which("pgbench")
    if pgbench is None:
        raise SystemExit("pgbench is missing: install postgresql-client (Debian) and retry.")
    name = f"vaulta_pgbench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(
        server_url.replace("postgresql://", "postgresql+psycopg://", 1),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    target = sa.engine.make_url(server_url).set(database=name)
    uri = target.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        subprocess.run([pgbench, "-i", "-q", uri], check=True, capture_output=True)
        output = subprocess.run(
            [pgbench, *PGBENCH_ARGS, uri], check=True, capture_output=True, text=True
        ).stdout
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
    match = re.search(r"tps = ([\d.]+)", output)
    if match is None:
        raise RuntimeError(f"unreadable pgbench output:\n{output}")
    return float(match.group(1))
