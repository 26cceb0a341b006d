"""Revision 310f1db5fa66: the change-request tables, the default policies it seeds, the
partial unique index on pending requests' dedupe keys; down again, the tables go. SQLite
and PostgreSQL."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from pytest_alembic import MigrationContext

REV = "310f1db5fa66"
POLICIES = (
    "SELECT name, action, levels, min_amount_minor, cumulative_window_hours,"
    " cumulative_threshold_minor, cumulative_by, step_up_levels, bulk_allowed"
    " FROM approval_policies WHERE is_current ORDER BY name"
)
REQUEST = (
    "INSERT INTO change_requests (id, action, target_type, target_id, change, summary,"
    " maker_id, status, levels_required, levels_approved, roles_per_level, step_up_levels,"
    " bulk_allowed, expires_at, created_at, dedupe_key)"
    " VALUES (:id, 'ledger.deposit', 'account', 1, '{}', 'Deposit', 1, :status, 1, 0,"
    " '[[\"approver\"]]', '[]', false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'same')"
)


def _user(conn: sa.Connection) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO users (id, email, password_hash, role, full_name, is_active,"
            " session_token, created_at) VALUES (1, 't@x.test', 'x', 'staff', 'T', true,"
            " 't1', CURRENT_TIMESTAMP)"
        )
    )


def test_default_policies_and_one_pending_request_per_dedupe_key(
    alembic_runner: MigrationContext, alembic_engine: sa.Engine
) -> None:
    alembic_runner.migrate_up_to(REV)
    with alembic_engine.connect() as conn:
        rows = [tuple(row) for row in conn.execute(sa.text(POLICIES))]
    decoded = [
        (*row[:7], json.loads(row[7]) if isinstance(row[7], str) else row[7], bool(row[8]))
        for row in rows
    ]
    assert decoded == [
        ("default", "*", 1, None, None, None, None, [], True),
        ("money-customer-24h", "money", 2, None, 24, 1_000_000, "customer", [2], False),
        ("money-large", "money", 2, 1_000_000, None, None, None, [2], False),
        ("policy-changes", "policies.update", 2, None, None, None, None, [], False),
    ]
    with alembic_engine.begin() as conn:
        _user(conn)
        conn.execute(sa.text(REQUEST), {"id": 1, "status": "pending"})
        conn.execute(sa.text(REQUEST), {"id": 2, "status": "approved"})
    with pytest.raises(sa.exc.IntegrityError), alembic_engine.begin() as conn:
        conn.execute(sa.text(REQUEST), {"id": 3, "status": "pending"})

    alembic_runner.migrate_down_one()
    with alembic_engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    assert not tables & {"change_requests", "change_decisions", "approval_policies"}
