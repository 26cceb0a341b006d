"""Per-page cost in one process, before and after a change, without gunicorn or wrk.

    python -m bench.inprocess seed DATABASE_URL
    python -m bench.inprocess compare DATABASE_URL BEFORE_TREE [ROUNDS]

``seed`` migrates and seeds the database as ``make bench`` does (``BENCH_CUSTOMERS``,
``BENCH_TRANSACTIONS``, ``BENCH_PAYMENTS``; by default 100,000 / 1,000,000 / 10,000).

``compare`` starts three processes on that database: this tree's app, the app of
BEFORE_TREE (an older checkout, e.g. ``git archive <commit> | tar -x -C /tmp/before``)
and bench/ceiling.py. Each signs in once with Flask's test client (the demo approver through
the mailed second-factor code, and the demo customer) and keeps its clients; then every
page is requested in bursts of 20 that alternate between the processes, ROUNDS times
(default 40), so load from elsewhere on the machine hits all three alike. It prints, per
page, the median over the bursts of each burst's median wall-clock and CPU milliseconds.
After signing in, each process sets up its garbage collector as gunicorn.conf.py does for
a worker.
CPU time is the app process's own (Python, and SQLite's work); on a busy machine it moves
less than wall-clock time, which also holds PostgreSQL's work and the waits. The
production configuration is used (``SECRET_KEY`` is a throwaway value if not set).
"""

from __future__ import annotations

import json
import os
import runpy
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from bench import databases
from bench.profile import _post_form
from bench.run import CUSTOMERS, PENDING, SEARCH_TERM, TRANSACTIONS
from bench.servers import SECOND_FACTOR, _mailed_code

BURST = 20
CEILING_TWINS = {
    "customers list": "/customers",
    "customer search": f"/search?q={SEARCH_TERM}",
    "approval queue": "/queue",
    "long statement": "/statement/{account}",
}


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
    from vaulta.ops.seeding.demo import DEMO_PASSWORD

    client = app.test_client()
    assert _post_form(client, "/login", email=email, password=DEMO_PASSWORD) == 302
    with app.app_context():
        from vaulta.models import User
        from vaulta.services.unit_of_work import session

        role = session().scalar(sa.select(User.role).where(User.email == email))
    if role == "staff":  # staff always have a second factor: mailed codes here
        code = _mailed_code(Path(app.config["MAIL_OUTBOX_DIR"]), email)
        assert _post_form(client, SECOND_FACTOR, code=code) == 302
    response = client.get("/")  # the welcome message, shown once
    assert response.status_code in (200, 302)
    return client


def pages(app: Flask) -> list[tuple[str, str, str]]:
    """(name, who, path) of the measured pages."""
    from vaulta.models import Account, User
    from vaulta.ops.seeding.demo import APPROVER_EMAIL, CUSTOMER_EMAIL
    from vaulta.services.unit_of_work import session

    with app.app_context():
        s = session()
        system_eur = s.scalar(
            sa.select(Account.id).where(Account.kind == "system", Account.currency == "EUR")
        )
        demo_customer = s.scalar(sa.select(User.customer_id).where(User.email == CUSTOMER_EMAIL))
    return [
        ("customers list", APPROVER_EMAIL, "/admin/customers/"),
        ("customer search", APPROVER_EMAIL, f"/admin/customers/?q={SEARCH_TERM}"),
        ("approval queue", APPROVER_EMAIL, "/admin/approvals/"),
        ("long statement", APPROVER_EMAIL, f"/admin/accounts/{system_eur}"),
        ("customer detail", APPROVER_EMAIL, f"/admin/customers/{demo_customer}"),
        ("customer's accounts", CUSTOMER_EMAIL, "/"),
    ]


def median_ms(client: FlaskClient, path: str, count: int) -> tuple[float, float]:
    """The median wall-clock and CPU milliseconds of ``count`` GETs of ``path``."""
    walls, cpus = [], []
    for _ in range(count):
        wall, cpu = time.perf_counter(), time.process_time()
        response = client.get(path)
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
        assert response.status_code == 200, (path, response.status_code)
        response.close()
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000


def serve(url: str, ceiling: bool) -> None:
    """Sign in, then answer lines ``<page index> <count>`` on stdin with JSON medians."""
    os.environ.update(DATABASE_URL=url, MAIL_BACKEND="console")
    os.environ.update(MAIL_OUTBOX_DIR=str(databases.OUTBOX), VAULTA_CONFIG="production")
    os.environ.setdefault("SECRET_KEY", databases.BENCH_SECRET_KEY)
    from vaulta import create_app

    app = create_app(overrides={"SESSION_COOKIE_SECURE": False})
    measured: list[tuple[str, str, str | None]] = list(pages(app))
    clients: dict[str, FlaskClient] = {}
    if ceiling:
        from bench.ceiling import app as ceiling_app

        account = measured[3][2].rsplit("/", 1)[1]
        twins = {name: path.format(account=account) for name, path in CEILING_TWINS.items()}
        measured = [(name, "ceiling", twins.get(name)) for name, _who, _path in measured]
        clients["ceiling"] = ceiling_app.test_client()
    for _name, who, path in measured:
        if path is not None:
            client = clients.get(who) or clients.setdefault(who, signed_in(app, who))
            median_ms(client, path, 20)  # warm-up
    # The garbage collector as in a gunicorn worker (the tree's own gunicorn.conf.py).
    runpy.run_path("gunicorn.conf.py")["post_worker_init"](None)
    print(json.dumps([name for name, _who, _path in measured]), flush=True)
    for line in sys.stdin:
        index, count = map(int, line.split())
        _name, who, path = measured[index]
        print(json.dumps(median_ms(clients[who], path, count) if path else None), flush=True)


def _server(tree: str, url: str, extra: str) -> subprocess.Popen[str]:
    """``serve`` (this file's code) with ``tree``'s vaulta and bench packages: the older tree
    needs no copy of this script."""
    code = (
        f"import runpy, sys; sys.path.insert(0, {tree!r}); "
        f"sys.argv = ['inprocess', 'serve', {url!r}, {extra!r}]; "
        f"runpy.run_path({__file__!r}, run_name='__main__')"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=tree,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _ask(process: subprocess.Popen[str], line: str | None = None) -> Any:
    """Send ``line`` (if any) to a ``serve`` process; its JSON answer."""
    assert process.stdin is not None
    assert process.stdout is not None
    if line is not None:
        process.stdin.write(line + "\n")
        process.stdin.flush()
    return json.loads(process.stdout.readline())


def compare(url: str, before_tree: str, rounds: int) -> None:
    here = str(Path(__file__).resolve().parent.parent)
    runs = {"before": (before_tree, ""), "after": (here, ""), "ceiling": (here, "ceiling")}
    procs = {key: _server(tree, url, extra) for key, (tree, extra) in runs.items()}
    names = [_ask(p) for p in procs.values()][-1]  # each lists the pages first
    bursts: dict[str, dict[str, list[list[float]]]] = {k: {n: [] for n in names} for k in runs}
    for r in range(rounds):
        for index, name in enumerate(names):
            for key in list(runs)[r % 3 :] + list(runs)[: r % 3]:  # each goes first in turn
                answer = _ask(procs[key], f"{index} {BURST}")
                if answer is not None:
                    bursts[key][name].append(answer)
    for p in procs.values():
        assert p.stdin is not None
        p.stdin.close()
        p.wait()
    result = {
        name: {
            f"{key} {kind}": round(statistics.median(b[i] for b in bursts[key][name]), 3)
            for key in runs
            for i, kind in enumerate(("wall", "cpu"))
            if bursts[key][name]
        }
        for name in names
    }
    print(json.dumps(result, indent=1))


def main() -> None:
    command, url, *rest = sys.argv[1:]
    if command == "seed":
        seed(url)
    elif command == "serve":
        serve(url, ceiling=rest[:1] == ["ceiling"])
    elif command == "compare":
        compare(url, rest[0], int(rest[1]) if len(rest) > 1 else 40)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
