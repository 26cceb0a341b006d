"""Readers that tests share: balances, row counts, audit trails, the SQL a block sends and
mailed codes (tests/factories.py builds; these only look, in an app context); and the
``flask vaulta`` commands run in-process."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from click.testing import Result
from flask import Flask

from vaulta import mail
from vaulta.extensions import db
from vaulta.models import Account, AuditEvent

SIGN_IN_CODE_SUBJECT = "Your VAULTA sign-in code"


def balance(account: Account | int, *, fresh: bool = False) -> int:
    """The account's stored balance, read now (not the ORM object's copy). ``fresh`` ends
    the test session's read transaction first, to see what other sessions committed."""
    if fresh:
        db.session.rollback()
    account_id = account if isinstance(account, int) else account.id
    value = db.session.scalar(sa.select(Account.balance_minor).where(Account.id == account_id))
    assert value is not None, f"no account {account_id}"
    return value


def count_rows(model: Any, *where: sa.ColumnElement[bool], fresh: bool = False) -> int:
    """How many rows of ``model`` (matching ``where``) are stored; ``fresh`` as for balance."""
    if fresh:
        db.session.rollback()
    query = sa.select(sa.func.count()).select_from(model).where(*where)
    return int(db.session.scalar(query) or 0)


def audit_events(object_type: str, object_id: int | str) -> list[AuditEvent]:
    """The audit trail of one object, oldest first."""
    query = (
        sa.select(AuditEvent)
        .where(AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id))
        .order_by(AuditEvent.id)
    )
    return list(db.session.scalars(query))


def audit_actions(object_type: str, object_id: int | str) -> list[str]:
    """The actions in the audit trail of one object, oldest first."""
    return [event.action for event in audit_events(object_type, object_id)]


@contextmanager
def sql_statements() -> Iterator[list[str]]:
    """Collect the SQL statements sent to the database while the block runs."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def outbox() -> list[dict[str, Any]]:
    """Every message in the console outbox, newest first."""
    return mail.outbox(limit=10_000)


def mailed_code(to: str, subject: str | None = None) -> str:
    """The six-digit code in the newest message to ``to`` (with exactly ``subject``, if given)."""
    for message in outbox():
        if message["to"] == to and subject in (None, message["subject"]):
            found = re.search(r"\b(\d{6})\b", message["body"])
            assert found is not None, message["body"]
            return found.group(1)
    raise AssertionError(f"no {subject or 'mail'!r} to {to}")


def sign_in_code(email: str) -> str:
    """The newest sign-in code mailed to ``email`` (the second factor)."""
    return mailed_code(email, SIGN_IN_CODE_SUBJECT)


def vaulta_cli(app: Flask, *args: str, input: str | None = None) -> Result:
    """Run ``flask vaulta ARGS`` in-process; ``input`` is what it reads from stdin."""
    return app.test_cli_runner().invoke(args=["vaulta", *args], input=input)
