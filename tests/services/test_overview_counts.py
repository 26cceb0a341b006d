"""The staff overview's counters (issue 18): exact, kept by the database's triggers on
every path that writes customers and accounts, and read without a full scan — the plan of
every counting statement is an index look-up or range (PostgreSQL with sequential scans
priced out; SQLite: no SCAN), and none of them reads customers or accounts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.helpers import count_rows
from tests.services.test_dashboards import captured
from vaulta.extensions import db
from vaulta.models import Account, Customer, User
from vaulta.models.account import KIND_CUSTOMER
from vaulta.services.reports import overview
from vaulta.services.unit_of_work import write_transaction


def _figures() -> tuple[int, int]:
    summary = overview.admin_summary()
    return summary.customers, summary.accounts


def _truth() -> tuple[int, int]:
    return count_rows(Customer), count_rows(Account, Account.kind == KIND_CUSTOMER)


def test_the_counters_follow_inserts_and_deletes(app: Flask, customer_user: User) -> None:
    start = _figures()
    assert start == _truth()
    customers = [factories.make_customer() for _ in range(20)]  # every shard at least once
    for customer in customers[:5]:
        factories.make_account(customer, "EUR")
    factories.make_account(customers[0], "USD")
    assert _figures() == (start[0] + 20, start[1] + 6) == _truth()
    # Core statements (bulk loads, repairs) are counted as well: the triggers do it.
    with db.engine.begin() as conn:
        conn.execute(sa.delete(Account).where(Account.customer_id == customers[1].id))
        conn.execute(sa.delete(Customer).where(Customer.id == customers[19].id))
    db.session.expire_all()
    assert _figures() == (start[0] + 19, start[1] + 5) == _truth()


def test_a_rolled_back_insert_counts_nothing(app: Flask) -> None:
    def insert_then_fail() -> None:
        with write_transaction() as s:
            s.add(Customer(customer_number="RB0000000001", full_name="Rolled Back"))
            s.flush()
            raise RuntimeError("roll back")

    before = _figures()
    with pytest.raises(RuntimeError):
        insert_then_fail()
    assert _figures() == before == _truth()


def _pg_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _pg_nodes(child)


def _counting(statements: list[tuple[str, object]]) -> list[tuple[str, object]]:
    return [(sql, p) for sql, p in statements if "count(" in sql.lower() or "sum(" in sql.lower()]


def test_no_counter_scans_a_table(app: Flask, customer_user: User, backend: str) -> None:
    account = factories.make_account(factories.customer_of(customer_user), "EUR", 10_00)
    assert account.id
    with captured() as statements:
        overview.admin_summary()
    counting = _counting(statements)
    assert len(counting) == 4, counting  # customers, accounts, pending payments, today
    for sql, _params in counting:
        assert not any(f"FROM {t}" in sql for t in ("customers", "accounts")), sql
    with db.engine.connect() as conn:
        for sql, params in counting:
            if backend == "postgresql":
                conn.exec_driver_sql("SET enable_seqscan = off")
                raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + sql, params).scalar()
                plan = raw if isinstance(raw, list) else json.loads(raw)
                for node in _pg_nodes(plan[0]["Plan"]):
                    if "Relation Name" not in node:
                        continue
                    # An index look-up or range; never a whole table or a whole index.
                    if node["Node Type"] == "Bitmap Heap Scan":
                        [index] = node["Plans"]
                        assert index["Node Type"] == "Bitmap Index Scan", (sql, node)
                        assert "Index Cond" in index, (sql, node)
                        continue
                    assert node["Node Type"] in ("Index Scan", "Index Only Scan"), (sql, node)
                    assert "Index Cond" in node, (sql, node)
            else:
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)
                details = [str(r[-1]) for r in rows]
                assert details, sql
                for detail in details:
                    assert not detail.startswith("SCAN "), (sql, details)
