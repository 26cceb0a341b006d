"""``make bench``: VAULTA at scale on SQLite and PostgreSQL, next to its ceilings.

For each backend: time ``flask db upgrade`` from empty, time the seed of 100,000 customers
and 1,000,000 transactions, add 10,000 pending payments, serve the app and the ceiling
(bench/ceiling.py) with gunicorn (2 workers each), sign in as the demo admin and drive wrk
against four pages and their ceiling twins. On PostgreSQL also: payment execution with 8
workers next to pgbench, then ``flask vaulta verify-ledger``.

Settings (environment): BENCH_BACKENDS (default "sqlite,postgresql"), BENCH_POSTGRES_URL
(default VAULTA_TEST_DATABASE_URL: a server URL whose user may create databases),
BENCH_CUSTOMERS, BENCH_TRANSACTIONS, BENCH_PAYMENTS, BENCH_WRK_SECONDS (default 10 per
URL, in two alternating rounds after a 1 s warm-up), BENCH_REDIS_URL (default
redis://127.0.0.1:6379/0: the production configuration keeps rate-limit counts in Redis).
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from bench import databases, load, payments, servers

CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "100000"))
TRANSACTIONS = int(os.environ.get("BENCH_TRANSACTIONS", "1000000"))
PENDING = int(os.environ.get("BENCH_PAYMENTS", "10000"))
WRK_SECONDS = float(os.environ.get("BENCH_WRK_SECONDS", load.DURATION))
SEARCH_TERM = "garcia"
# Pending bench payments added before each payment run (more than either run executes).
PAYMENT_RUN_ROWS = {"single": 20_000, "bulk": 40_000}
TARGETS = {"page": 0.5, "payments": 0.35, "seed": 60.0, "upgrade": 3.0}


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = "?"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return f"{os.cpu_count()} CPUs ({cpu}), {memory} RAM, {platform.platform()}"


def postgres_version(server_url: str) -> str:
    engine = sa.create_engine(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        version = str(conn.scalar(sa.text("SHOW server_version")))
    engine.dispose()
    return version


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def pages(url: str) -> list[tuple[str, str, str]]:
    """(name, app path, ceiling path) of the measured pages."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        system_eur = conn.scalar(
            sa.text("SELECT id FROM accounts WHERE kind = 'system' AND currency = 'EUR'")
        )
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE")  # what autovacuum does soon after a bulk load
        conn.commit()
    engine.dispose()
    return [
        ("customers list", "/admin/customers/", "/customers"),
        ("customer search", f"/admin/customers/?q={SEARCH_TERM}", f"/search?q={SEARCH_TERM}"),
        ("approval queue", "/admin/approvals/", "/queue"),
        ("long statement", f"/admin/accounts/{system_eur}", f"/statement/{system_eur}"),
    ]


def measure_pages(url: str, report: list[str]) -> bool:
    from vaulta.ops.seeding.demo import APPROVER_EMAIL, DEMO_PASSWORD

    env = databases.app_environment(url)
    ok = True
    measured = pages(url)
    with (
        servers.gunicorn("wsgi:app", env) as app_base,
        servers.gunicorn("bench.ceiling:app", env) as ceiling_base,
    ):
        for name, path, ceiling_path in measured:
            # A fresh sign-in per page: its idle-timeout stamp is new, so the page's ~25 s of
            # load never reach the minute after which the app re-stamps it. A browser would
            # store the re-stamped cookie once; wrk keeps sending the old one, and every
            # request after that minute would re-sign the session.
            cookie = servers.sign_in(app_base, APPROVER_EMAIL, DEMO_PASSWORD, databases.OUTBOX)
            cookie = servers.browse(app_base + path, cookie)  # as a browser's, up to date
            status, _h, _b = servers.request("GET", ceiling_base + ceiling_path)
            if status != 200:
                raise RuntimeError(f"GET {ceiling_path} answered {status}, not 200")
            app_run, ceiling_run = load.compare(
                app_base + path, cookie, ceiling_base + ceiling_path, WRK_SECONDS
            )
            ratio = app_run.requests_per_second / ceiling_run.requests_per_second
            met = ratio >= TARGETS["page"] and not app_run.bad_responses
            ok &= met
            report.append(f"  {name:<16} app     {app_run.line()}")
            report.append(f"  {'':<16} ceiling {ceiling_run.line()}")
            report.append(
                f"  {'':<16} ratio   {ratio:.2f} (target ≥ {TARGETS['page']}) {verdict(met)}"
            )
            print("\n".join(report[-3:]), flush=True)
    return ok


def measure_payments(server_url: str, url: str, report: list[str]) -> bool:
    runs = {}
    for mode in ("single", "bulk"):
        # Fresh bench rows for each run (a bulk run executes more than the 10,000 seeded).
        databases.seed_pending_payments(url, PAYMENT_RUN_ROWS[mode])
        runs[mode] = payments.execute_payments(url, mode)
    tps = payments.pgbench_tps(server_url)
    ledger_ok = (
        subprocess.run(
            [databases.FLASK, "vaulta", "verify-ledger"],
            cwd=databases.ROOT,
            env=databases.app_environment(url),
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )
    ok = ledger_ok
    for mode, how in (("single", "one approve() per payment"), ("bulk", "50 per decide_many()")):
        run = runs[mode]
        report.append(
            f"  payments {mode:<7} {run.executed} executed ({run.failed} failed) in "
            f"{run.seconds:.1f} s = {run.per_second:.1f}/s, {payments.WORKERS} workers, {how}"
        )
    report.append(f"  pgbench          {tps:.1f} tps ({' '.join(payments.PGBENCH_ARGS)})")
    for mode in ("single", "bulk"):
        ratio = runs[mode].per_second / tps
        met = ratio >= TARGETS["payments"] and not runs[mode].failed
        ok &= met
        report.append(
            f"  ratio {mode:<10} {ratio:.2f} (target ≥ {TARGETS['payments']}) {verdict(met)}"
        )
    report.append(f"  verify-ledger    {'passed' if ledger_ok else 'FAILED'}")
    print("\n".join(report[-6:]), flush=True)
    return ok


def bench_backend(backend: str, url: str, server_url: str | None, report: list[str]) -> bool:
    report.append(f"\n== {backend} ==")
    print(report[-1], flush=True)
    upgrade = databases.migrate(url)
    seed = databases.seed(url, CUSTOMERS, TRANSACTIONS)
    pending = databases.seed_pending_payments(url, PENDING)
    ok = upgrade <= TARGETS["upgrade"] and seed <= TARGETS["seed"]
    report.append(
        f"  db upgrade       {upgrade:.2f} s (target ≤ {TARGETS['upgrade']:.0f} s) "
        f"{verdict(upgrade <= TARGETS['upgrade'])}"
    )
    report.append(
        f"  seed             {seed:.1f} s for {CUSTOMERS:,} customers, {TRANSACTIONS:,} "
        f"transactions (target ≤ {TARGETS['seed']:.0f} s) {verdict(seed <= TARGETS['seed'])}"
    )
    report.append(f"  pending payments {pending:.1f} s for {PENDING:,} (bench-only SQL insert)")
    print("\n".join(report[-3:]), flush=True)
    ok &= measure_pages(url, report)
    if server_url is not None:
        ok &= measure_payments(server_url, url, report)
    return ok


def main() -> int:
    load.ensure_wrk()
    backends = os.environ.get("BENCH_BACKENDS", "sqlite,postgresql").split(",")
    server_url = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("VAULTA_TEST_DATABASE_URL")
    report = [f"Machine: {machine()}"]
    if server_url:
        report.append(f"PostgreSQL {postgres_version(server_url)}")
    print("\n".join(report), flush=True)
    started = time.perf_counter()
    ok = True
    for backend in backends:
        if backend == "sqlite":
            with tempfile.TemporaryDirectory(prefix="vaulta-bench-") as directory:
                ok &= bench_backend(
                    "SQLite", databases.create_sqlite(Path(directory)), None, report
                )
        elif backend == "postgresql":
            if not server_url:
                report.append(
                    "\n== PostgreSQL == SKIPPED: set BENCH_POSTGRES_URL "
                    "(e.g. postgresql://root@127.0.0.1/postgres)"
                )
                ok = False
                continue
            url = databases.create_postgres(server_url)
            try:
                ok &= bench_backend("PostgreSQL", url, server_url, report)
            finally:
                databases.drop_postgres(server_url, url)
    report.append(
        f"\nTotal {time.perf_counter() - started:.0f} s; "
        f"{'every target met' if ok else 'a target was missed (see MISSED above)'}."
    )
    shutil.rmtree(databases.OUTBOX, ignore_errors=True)
    print("\n\n# Summary\n" + "\n".join(report))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
