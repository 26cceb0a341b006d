"""Data migrations, tested with rows: insert at the revision before, upgrade, check,
downgrade, check again. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from pytest_alembic import MigrationContext

from vaulta.services.audit.chain import GENESIS, canonical, link

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
DESCRIPTION_REV = "5b0e7f1a9c2d"
LINK_REV = "7f3a5b6c8d9e"
CHAIN_REV = "0f3ce6a1fb07"


def _base_rows(runner: MigrationContext) -> None:
    """A customer with two accounts, a system account and an admin, at any revision."""
    runner.insert_into(
        "customers",
        {
            "id": 1,
            "customer_number": "C10000001",
            "full_name": "Ada",
            "status": "active",
            "created_at": NOW,
            "updated_at": NOW,
        },
    )
    runner.insert_into(
        "users",
        {
            "id": 1,
            "email": "a@x.test",
            "password_hash": "x",
            "role": "admin",
            "full_name": "A",
            "is_active": True,
            "session_token": "t1",
            "created_at": NOW,
        },
    )
    for account_id, kind, customer_id in (
        (1, "system", None),
        (2, "customer", 1),
        (3, "customer", 1),
    ):
        runner.insert_into(
            "accounts",
            {
                "id": account_id,
                "number": f"00000000{account_id}0",
                "customer_id": customer_id,
                "kind": kind,
                "currency": "EUR",
                "balance_minor": 0,
                "status": "active",
                "opened_at": NOW,
            },
        )


def _tx(
    runner: MigrationContext, tx_id: int, kind: str, reference: str | None, **extra: object
) -> None:
    runner.insert_into(
        "transactions",
        {
            "id": tx_id,
            "debit_account_id": 1,
            "credit_account_id": 2,
            "amount_minor": 100,
            "currency": "EUR",
            "kind": kind,
            "reference": reference,
            "created_by_id": 1,
            "created_at": NOW,
            **extra,
        },
    )


def test_description_is_backfilled_then_dropped(
    alembic_runner: MigrationContext, alembic_engine: sa.Engine
) -> None:
    alembic_runner.migrate_up_before(DESCRIPTION_REV)
    _base_rows(alembic_runner)
    _tx(alembic_runner, 1, "deposit", None)
    _tx(alembic_runner, 2, "transfer", "Rent November")
    _tx(alembic_runner, 3, "reversal", "x" * 140)

    alembic_runner.migrate_up_one()
    with alembic_engine.connect() as conn:
        rows = dict(
            conn.execute(sa.text("SELECT id, description FROM transactions ORDER BY id")).all()
        )
    assert rows[1] == "Deposit"
    assert rows[2] == "Transfer: Rent November"
    assert rows[3] == ("Reversal: " + "x" * 140)[:200]

    alembic_runner.migrate_down_one()
    with alembic_engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("transactions")}
        count = conn.execute(sa.text("SELECT count(*) FROM transactions")).scalar()
    assert "description" not in columns
    assert count == 3


def test_executed_payments_are_linked_to_their_transactions(
    alembic_runner: MigrationContext, alembic_engine: sa.Engine
) -> None:
    alembic_runner.migrate_up_before(LINK_REV)
    _base_rows(alembic_runner)
    _tx(alembic_runner, 10, "payment", "PAY-1", description="Payment PAY-1")
    _tx(alembic_runner, 11, "deposit", "PAY-2", description="A deposit that looks alike")
    _tx(alembic_runner, 12, "payment", "PAY-4", description="Payment PAY-4")
    payment = {
        "from_account_id": 2,
        "beneficiary_account_id": 3,
        "amount_minor": 100,
        "currency": "EUR",
        "reference": "Invoice",
        "requested_by_id": 1,
        "expires_at": NOW,
        "created_at": NOW,
        "updated_at": NOW,
    }
    alembic_runner.insert_into("payments", {"id": 1, "status": "executed", **payment})
    alembic_runner.insert_into("payments", {"id": 2, "status": "executed", **payment})
    alembic_runner.insert_into("payments", {"id": 3, "status": "pending_approval", **payment})
    alembic_runner.insert_into("payments", {"id": 4, "status": "rejected", **payment})

    alembic_runner.migrate_up_one()
    query = sa.text("SELECT id, transaction_id FROM payments ORDER BY id")
    with alembic_engine.connect() as conn:
        links = dict(conn.execute(query).all())
    # Only executed payments with a matching 'payment' transaction are linked.
    assert links == {1: 10, 2: None, 3: None, 4: None}

    alembic_runner.migrate_down_one()
    with alembic_engine.connect() as conn:
        links = dict(conn.execute(query).all())
    assert links == {1: None, 2: None, 3: None, 4: None}


def test_existing_audit_events_are_chained_in_id_order(
    alembic_runner: MigrationContext, alembic_engine: sa.Engine
) -> None:
    """SQL on PostgreSQL, batches on SQLite: both give the hashes the app computes."""
    alembic_runner.migrate_up_before(CHAIN_REV)
    _base_rows(alembic_runner)
    events = {
        7: ("customer.create", 1, "customer", "C1", {"name": 'Zoë "Ø"', "n": [1, 2.5]}),
        3: ("payment.approve", None, "payment", None, {}),
        5: ("transaction.deposit", 1, "transaction", "42", {"line": "a\nb\tc"}),
    }
    for event_id, (action, actor, object_type, object_id, details) in events.items():
        created = NOW.replace(microsecond=event_id * 1_001)
        alembic_runner.insert_into(
            "audit_events",
            {
                "id": event_id,
                "actor_id": actor,
                "action": action,
                "object_type": object_type,
                "object_id": object_id,
                "details": details,
                "client_address": "192.0.2.1" if actor else None,
                "created_at": created,
            },
        )

    alembic_runner.migrate_up_one()
    query = sa.text("SELECT id, chain_hash FROM audit_events ORDER BY id")
    with alembic_engine.connect() as conn:
        stored = dict(conn.execute(query).all())
        head = conn.execute(sa.text("SELECT id, last_event_id, last_hash FROM audit_chain_head"))
        head_row = tuple(head.one())
    previous, expected = GENESIS, {}
    for event_id in sorted(events):
        action, actor, object_type, object_id, details = events[event_id]
        created = NOW.replace(microsecond=event_id * 1_001)
        text = canonical(
            event_id,
            created,
            actor,
            action,
            object_type,
            object_id,
            json.dumps(details),
            "192.0.2.1" if actor else None,
        )
        previous = expected[event_id] = link(previous, text)
    assert stored == expected
    assert head_row == (1, 7, expected[7])

    alembic_runner.migrate_down_one()
    with alembic_engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("audit_events")}
        assert "chain_hash" not in columns
        assert not sa.inspect(conn).has_table("audit_chain_head")
        assert conn.scalar(sa.text("SELECT count(*) FROM audit_events")) == 3


def test_an_empty_log_gets_the_genesis_head(
    alembic_runner: MigrationContext, alembic_engine: sa.Engine
) -> None:
    alembic_runner.migrate_up_to(CHAIN_REV)
    with alembic_engine.connect() as conn:
        head = conn.execute(sa.text("SELECT id, last_event_id, last_hash FROM audit_chain_head"))
        assert tuple(head.one()) == (1, None, GENESIS)
