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


def test_one_statement_of_many_rows_is_counted_once_per_statement(app: Flask, backend: str) -> None:
    """A multi-row insert and delete (a bulk load, a repair) count every row; on PostgreSQL
    the triggers run once per statement (transition tables), not once per row: per-row
    upserts of the same 16 counter rows in one transaction grew quadratically slow."""
    start = _figures()
    customers = [factories.make_customer() for _ in range(3)]
    with db.engine.begin() as conn:
        conn.execute(
            sa.insert(Account),
            [
                {
                    "number": f"{9_000_000_000 + i}",
                    "customer_id": customers[i % 3].id,
                    "kind": KIND_CUSTOMER,
                    "currency": "EUR",
                }
                for i in range(40)
            ],
        )
        conn.execute(sa.delete(Account).where(Account.customer_id == customers[2].id))
    db.session.expire_all()
    assert _figures() == (start[0] + 3, start[1] + 40 - 13) == _truth()
    if backend == "postgresql":
        row_level = db.session.scalars(
            sa.text(
                "SELECT tgname FROM pg_trigger WHERE tgname LIKE 'trg_%_count_%' "
                "AND tgtype & 1 = 1"  # TRIGGER_TYPE_ROW
            )
        ).all()
        assert row_level == []


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
