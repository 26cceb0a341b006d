"""Revision 3f1c0a7e5b21 with rows: admins become staff logins holding the admin role;
down again, staff without the admin role are deactivated, never promoted. SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from pytest_alembic import MigrationContext

ROLES_REV = "3f1c0a7e5b21"
CREATED = datetime(2026, 10, 1, 9, 30, tzinfo=UTC)
USERS = "SELECT id, role, is_active FROM users ORDER BY id"


def _user(runner: MigrationContext, user_id: int, role: str, customer_id: int | None) -> None:
    runner.insert_into(
        "users",
        {
            "id": user_id,
            "email": f"u{user_id}@x.test",
            "password_hash": "x",
            "role": role,
            "full_name": f"U{user_id}",
            "customer_id": customer_id,
            "is_active": True,
            "session_token": f"t{user_id}",
            "created_at": CREATED,
        },
    )


def _rows(engine: sa.Engine, query: str) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(query))]


def test_admins_become_staff_with_the_admin_role_and_back(
    alembic_runner: MigrationContext, alembic_engine: sa.Engine
) -> None:
    alembic_runner.migrate_up_before(ROLES_REV)
    alembic_runner.insert_into(
        "customers",
        {
            "id": 1,
            "customer_number": "C10000001",
            "full_name": "Ada",
            "status": "active",
            "created_at": CREATED,
            "updated_at": CREATED,
        },
    )
    _user(alembic_runner, 1, "admin", None)
    _user(alembic_runner, 2, "customer", 1)
    _user(alembic_runner, 3, "admin", None)

    alembic_runner.migrate_up_one()
    assert _rows(alembic_engine, USERS) == [
        (1, "staff", True),
        (2, "customer", True),
        (3, "staff", True),
    ]
    granted = _rows(
        alembic_engine, "SELECT user_id, role, granted_by_id FROM user_roles ORDER BY 1"
    )
    assert granted == [(1, "admin", None), (3, "admin", None)]
    with alembic_engine.connect() as conn:
        since = conn.execute(
            sa.text("SELECT granted_at FROM user_roles WHERE user_id = 1")
        ).scalar()
    assert str(since).startswith("2026-10-01 09:30")
    # The new check refuses the old kind; a teller is a staff login with the teller role.
    with pytest.raises(sa.exc.IntegrityError), alembic_engine.begin() as conn:
        conn.execute(sa.text("UPDATE users SET role = 'admin' WHERE id = 1"))
    with alembic_engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM user_roles WHERE user_id = 3"))
        conn.execute(
            sa.text(
                "INSERT INTO user_roles (user_id, role, granted_at, granted_by_id) "
                "VALUES (3, 'teller', CURRENT_TIMESTAMP, 1)"
            )
        )

    alembic_runner.migrate_down_one()
    # The teller cannot be said in the old schema: deactivated, never made an admin who can.
    assert _rows(alembic_engine, USERS) == [
        (1, "admin", True),
        (2, "customer", True),
        (3, "admin", False),
    ]
    with alembic_engine.connect() as conn:
        assert "user_roles" not in sa.inspect(conn).get_table_names()
