"""Per-page cost in one process: ``python -m bench.inprocess [seed] DATABASE_URL [REQUESTS]``.

A quick before/after check of a change, without gunicorn or wrk. ``seed`` first migrates
and seeds the database as ``make bench`` does (``BENCH_CUSTOMERS``, ``BENCH_TRANSACTIONS``
and ``BENCH_PAYMENTS``, by default 100,000 / 1,000,000 / 10,000). Without it the script
signs in with Flask's test client (the demo admin through the mailed second-factor code,
and the demo customer) and prints the median time of REQUESTS (default 300) GETs of each
page, after a warm-up, as JSON: {page: [wall-clock ms, CPU ms]}. The production configuration is
used (``SECRET_KEY`` is set to a throwaway value if missing). Each request runs in its own
app context, as under a server.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from bench import databases
from bench.profile import _post_form
from bench.run import CUSTOMERS, PENDING, SEARCH_TERM, TRANSACTIONS
from bench.servers import SECOND_FACTOR, _mailed_code

WARM_UP = 20


def seed(url: str) -> None:
    print(f"flask db upgrade: {databases.migrate(url):.1f} s", file=sys.stderr)
    print(f"seed-demo: {databases.seed(url, CUSTOMERS, TRANSACTIONS):.1f} s", file=sys.stderr)
    databases.seed_pending_payments(url, PENDING)
    engine = sa.create_engine(databases._psycopg(url))
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    engine.dispose()


def signed_in(app: Flask, email: str) -> FlaskClient:
    from vaulta.services.demo import DEMO_PASSWORD

    client = app.test_client()
    assert _post_form(client, "/login", email=email, password=DEMO_PASSWORD) == 302
    with app.app_context():
        from vaulta.models import User
        from vaulta.services.db import session

        role = session().scalar(sa.select(User.role).where(User.email == email))
    if role == "admin":  # admins always have a second factor: mailed codes here
        code = _mailed_code(Path(app.config["MAIL_OUTBOX_DIR"]), email)
        assert _post_form(client, SECOND_FACTOR, code=code) == 302
    response = client.get("/")  # the welcome message, shown once
    assert response.status_code in (200, 302)
    return client


def pages(app: Flask) -> list[tuple[str, str, str]]:
    """(name, who, path) of the measured pages."""
    from vaulta.models import Account, User
    from vaulta.services.db import session
    from vaulta.services.demo import ADMIN_EMAIL, CUSTOMER_EMAIL

    with app.app_context():
        s = session()
        system_eur = s.scalar(
            sa.select(Account.id).where(Account.kind == "system", Account.currency == "EUR")
        )
        demo_customer = s.scalar(sa.select(User.customer_id).where(User.email == CUSTOMER_EMAIL))
    return [
        ("customers list", ADMIN_EMAIL, "/admin/customers/"),
        ("customer search", ADMIN_EMAIL, f"/admin/customers/?q={SEARCH_TERM}"),
        ("approval queue", ADMIN_EMAIL, "/admin/approvals/"),
        ("long statement", ADMIN_EMAIL, f"/admin/accounts/{system_eur}"),
        ("customer detail", ADMIN_EMAIL, f"/admin/customers/{demo_customer}"),
        ("customer's accounts", CUSTOMER_EMAIL, "/"),
    ]


def median_ms(client: FlaskClient, path: str, count: int) -> tuple[float, float]:
    """The median wall-clock and CPU milliseconds of ``count`` GETs of ``path``.

    CPU time is this process's (the app, and SQLite's work); on a busy machine it moves
    less than wall-clock time, which also holds PostgreSQL's work and the waits.
    """
    for _ in range(WARM_UP):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    walls, cpus = [], []
    for _ in range(count):
        wall, cpu = time.perf_counter(), time.process_time()
        client.get(path).close()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000


def main() -> None:
    args = sys.argv[1:]
    if args and args[0] == "seed":
        seed(args[1])
        return
    url, count = args[0], int(args[1]) if len(args) > 1 else 300
    os.environ.update(
        DATABASE_URL=url, MAIL_BACKEND="console", MAIL_OUTBOX_DIR=str(databases.OUTBOX)
    )
    os.environ.setdefault("VAULTA_CONFIG", "production")
    os.environ.setdefault("SECRET_KEY", databases.BENCH_SECRET_KEY)
    from vaulta import create_app

    app = create_app(overrides={"SESSION_COOKIE_SECURE": False})
    clients: dict[str, FlaskClient] = {}
    result = {}
    for name, who, path in pages(app):
        client = clients.get(who) or clients.setdefault(who, signed_in(app, who))
        result[name] = [round(ms, 3) for ms in median_ms(client, path, count)]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
