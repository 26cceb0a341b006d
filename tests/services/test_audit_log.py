"""Reading the audit log without HTTP: filters, date boundaries, keyset pages, actors."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from vaulta.extensions import db
from vaulta.models import AuditEvent, User
from vaulta.services import audit, ledger
from vaulta.services.audit import audit_queries
from vaulta.services.errors import InvalidInput
from vaulta.services.unit_of_work import write_transaction


def record(actor: User | None, action: str, object_type: str, object_id: object) -> int:
    """Record one event; its id."""
    with write_transaction() as s:
        audit.record(
            s,
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            details={"note": action},
        )
    return db.session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0


def actions(**filters: object) -> list[str]:
    return [e.event.action for e in audit_queries.search(**filters).entries]  # type: ignore[arg-type]


@pytest.fixture
def events(app: Flask, admin: User, approver: User) -> dict[str, int]:
    db.session.execute(sa.delete(AuditEvent))  # start from an empty log (fixtures audit too)
    db.session.commit()
    return {
        "open": record(admin, "account.open", "account", 7),
        "freeze": record(approver, "account.freeze", "account", 7),
        "deposit": record(admin, "transaction.deposit", "transaction", 11),
        "reversal": record(approver, "transaction.reversal", "transaction", 12),
        "cli": record(None, "customer.create", "customer", 3),
    }


def set_created_at(event_id: int, when: datetime) -> None:
    """Tests only: place an event at a chosen instant to probe date boundaries."""
    db.session.execute(
        sa.update(AuditEvent).where(AuditEvent.id == event_id).values(created_at=when)
    )
    db.session.commit()


def test_newest_first_with_actors(events: dict[str, int], admin: User) -> None:
    page = audit_queries.search()
    assert [e.event.id for e in page.entries] == sorted(events.values(), reverse=True)
    assert page.next_before_id is None
    db.session.expunge_all()  # actors come with the events, not from a query per row
    by_action = {e.event.action: e for e in page.entries}
    actor = by_action["account.open"].actor
    assert actor is not None
    assert actor.email == admin.email
    assert by_action["customer.create"].actor is None


def test_actor_by_email_part_or_id(events: dict[str, int], admin: User, approver: User) -> None:
    assert actions(actor="APPROVER@") == ["transaction.reversal", "account.freeze"]
    assert actions(actor=str(admin.id)) == ["transaction.deposit", "account.open"]
    assert actions(actor="example.test") == actions(actor="@")  # every signed-in actor
    assert "customer.create" not in actions(actor="@")
    assert actions(actor="nobody%") == []


def test_action_exact_or_prefix(events: dict[str, int]) -> None:
    assert actions(action="account.open") == ["account.open"]
    assert actions(action="transaction.") == ["transaction.reversal", "transaction.deposit"]
    assert actions(action="_ccount") == []  # wildcards are literal


def test_object_type_and_id(events: dict[str, int]) -> None:
    assert actions(object_type="account") == ["account.freeze", "account.open"]
    assert actions(object_type="account", object_id="7") == ["account.freeze", "account.open"]
    assert actions(object_type="transaction", object_id=" 12 ") == ["transaction.reversal"]
    assert actions(object_id="8") == []


def test_filters_combine(events: dict[str, int], approver: User) -> None:
    assert actions(actor=approver.email, object_type="account") == ["account.freeze"]
    assert actions(actor=approver.email, action="transaction.deposit") == []


def test_date_range_is_whole_utc_days_inclusive(events: dict[str, int]) -> None:
    set_created_at(events["open"], datetime(2026, 2, 28, 23, 59, 59, 999999, tzinfo=UTC))
    set_created_at(events["freeze"], datetime(2026, 3, 1, 0, 0, tzinfo=UTC))
    set_created_at(events["deposit"], datetime(2026, 3, 1, 23, 59, 59, 999999, tzinfo=UTC))
    set_created_at(events["reversal"], datetime(2026, 3, 2, 0, 0, tzinfo=UTC))
    set_created_at(events["cli"], datetime(2026, 4, 1, tzinfo=UTC))
    march_1 = date(2026, 3, 1)
    assert actions(date_from=march_1, date_to=march_1) == ["transaction.deposit", "account.freeze"]
    assert actions(date_to=date(2026, 2, 28)) == ["account.open"]
    assert actions(date_from=date(2026, 3, 2)) == ["customer.create", "transaction.reversal"]
    with pytest.raises(InvalidInput) as err:
        audit_queries.search(date_from=date(2026, 3, 2), date_to=march_1)
    assert err.value.field == "date_to"


def test_keyset_pages_cover_every_event_once(events: dict[str, int]) -> None:
    seen: list[int] = []
    before = None
    while True:
        page = audit_queries.search(before_id=before, limit=2)
        seen += [e.event.id for e in page.entries]
        if page.next_before_id is None:
            break
        before = page.next_before_id
    assert seen == sorted(events.values(), reverse=True)
    filtered = audit_queries.search(action="account.", limit=1)
    assert [e.event.action for e in filtered.entries] == ["account.freeze"]
    rest = audit_queries.search(action="account.", limit=1, before_id=filtered.next_before_id)
    assert [e.event.action for e in rest.entries] == ["account.open"]
    assert rest.next_before_id is None


def test_a_deposit_is_found_by_its_transaction(app: Flask, admin: User) -> None:
    account = factories.make_account(factories.make_customer(), "EUR")
    tx = ledger.deposit(account, 1_234, actor=admin, description="Counter deposit")
    (entry,) = audit_queries.search(object_type="transaction", object_id=str(tx.id)).entries
    assert entry.event.action == "transaction.deposit"
    assert entry.event.details["amount_minor"] == 1_234
    assert entry.actor is not None
    assert entry.actor.id == admin.id
