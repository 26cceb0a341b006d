"""The ceiling: bare Flask + Flask-SQLAlchemy reading and rendering the benchmark's rows.

No sign-in, no CSRF, no ORM objects, one minimal Jinja template: what the same database
and the same number of rows cost with nothing of VAULTA around them. ``bench/run.py``
serves it with gunicorn (``gunicorn -c gunicorn.conf.py bench.ceiling:app``), 2 workers,
against the database the app is measured on; each VAULTA page's requests/s is compared
with its twin here.
"""

from __future__ import annotations

import os
from typing import Any

import sqlalchemy as sa
from flask import Flask, render_template, request
from flask_sqlalchemy import SQLAlchemy

PAGE_SIZE = 25  # the app's PAGE_SIZE
QUEUE_LIMIT = 50  # the approval queue's page size (it reads one more to know of a next page)

customers = sa.table(
    "customers",
    sa.column("id"),
    sa.column("customer_number"),
    sa.column("full_name"),
    sa.column("email"),
    sa.column("phone"),
    sa.column("status"),
)
accounts = sa.table("accounts", sa.column("id"), sa.column("number"), sa.column("customer_id"))
payments = sa.table(
    "payments",
    sa.column("id"),
    sa.column("created_at"),
    sa.column("from_account_id"),
    sa.column("beneficiary_account_id"),
    sa.column("amount_minor"),
    sa.column("currency"),
    sa.column("reference"),
    sa.column("status"),
)
transactions = sa.table(
    "transactions",
    sa.column("id"),
    sa.column("created_at"),
    sa.column("debit_account_id"),
    sa.column("credit_account_id"),
    sa.column("amount_minor"),
    sa.column("currency"),
    sa.column("kind"),
    sa.column("description"),
)


def _database_url() -> str:
    url = os.environ["DATABASE_URL"]
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


db = SQLAlchemy()
app = Flask(__name__, template_folder="templates")
app.config["SQLALCHEMY_DATABASE_URI"] = _database_url()
db.init_app(app)


def _page(title: str, query: sa.Select[Any]) -> str:
    result = db.session.execute(query)
    return render_template("ceiling.html", title=title, columns=result.keys(), rows=result.all())


def _customer_page(condition: sa.ColumnElement[bool] | None) -> sa.Select[Any]:
    query = sa.select(customers).order_by(customers.c.full_name, customers.c.id)
    if condition is not None:
        query = query.where(condition)
    return query.limit(PAGE_SIZE + 1)


@app.get("/healthz")
def healthz() -> str:
    return "ok"


@app.get("/customers")
def customer_list() -> str:
    return _page("Customers", _customer_page(None))


@app.get("/search")
def customer_search() -> str:
    pattern = f"%{request.args.get('q', '')}%"
    found = sa.or_(customers.c.full_name.ilike(pattern), customers.c.email.like(pattern.lower()))
    return _page("Search", _customer_page(found))


@app.get("/queue")
def approval_queue() -> str:
    source, target = accounts.alias("source"), accounts.alias("target")
    query = (
        sa.select(
            payments.c.id,
            payments.c.created_at,
            customers.c.full_name,
            customers.c.customer_number,
            source.c.number,
            target.c.number.label("beneficiary"),
            payments.c.amount_minor,
            payments.c.currency,
            payments.c.reference,
        )
        .join(source, source.c.id == payments.c.from_account_id)
        .join(customers, customers.c.id == source.c.customer_id)
        .outerjoin(target, target.c.id == payments.c.beneficiary_account_id)
        .where(payments.c.status == "pending_approval")
        .order_by(payments.c.created_at, payments.c.id)
        .limit(QUEUE_LIMIT + 1)
    )
    return _page("Approvals", query)


@app.get("/statement/<int:account_id>")
def statement(account_id: int) -> str:
    t = transactions

    def side(own: sa.ColumnElement[int], other: sa.ColumnElement[int]) -> sa.Select[Any]:
        inner = (
            sa.select(t.c.id, other.label("other_id"))
            .where(own == account_id)
            .order_by(t.c.id.desc())
            .limit(PAGE_SIZE + 1)
        )
        return sa.select(inner.subquery())

    both = sa.union_all(
        side(t.c.debit_account_id, t.c.credit_account_id),
        side(t.c.credit_account_id, t.c.debit_account_id),
    ).subquery()
    query = (
        sa.select(
            t.c.id,
            t.c.created_at,
            t.c.kind,
            t.c.description,
            accounts.c.number,
            t.c.amount_minor,
            t.c.currency,
        )
        .join(both, both.c.id == t.c.id)
        .join(accounts, accounts.c.id == both.c.other_id)
        .order_by(t.c.id.desc())
        .limit(PAGE_SIZE + 1)
    )
    return _page("Statement", query)
