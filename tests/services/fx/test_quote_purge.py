"""The purge of FX quotes: expired for the retention and referenced by nothing (no
conversion, no pending change request), in batches, read through an index (SQLite and
PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.services.fx.support import load_rates, two_accounts
from vaulta.extensions import db
from vaulta.models import Account, FxQuote, User, utcnow
from vaulta.models.base import clock_set_to
from vaulta.models.user import STAFF_APPROVER
from vaulta.services.changes import change_requests, policies
from vaulta.services.ledger.fx import quote_purge, quotes
from vaulta.services.unit_of_work import write_transaction

DAY = timedelta(hours=24)


def _quote(user: User, source: Account, target: Account, amount: int = 1_000) -> str:
    made = quotes.request_quote(
        user, from_account_id=source.id, to_account_id=target.id, amount_minor=amount
    )
    return made.id


def _left() -> set[str]:
    found = set(db.session.scalars(sa.select(FxQuote.id)))
    db.session.commit()
    return found


def _require_approval() -> None:
    with write_transaction() as s:
        policies.install_version(
            s,
            "conversions",
            {"levels": 1, "roles_per_level": [[STAFF_APPROVER]]},
            created_by_id=None,
        )


def test_only_expired_unreferenced_quotes_past_the_retention_go(
    app: Flask, customer_user: User, approver: User
) -> None:
    load_rates()
    eur, usd = two_accounts(customer_user)
    unused = _quote(customer_user, eur, usd)
    converted = _quote(customer_user, eur, usd)
    change_requests.submit("ledger.conversion", {"quote_id": converted}, actor=customer_user)
    _require_approval()
    waiting = _quote(customer_user, eur, usd)
    pending = change_requests.submit(
        "ledger.conversion", {"quote_id": waiting}, actor=customer_user
    )
    assert pending.status == "pending"
    everything = {unused, converted, waiting}
    assert _left() == everything

    # Expired, but not for the retention yet: all stay.
    assert quote_purge.purge_expired(DAY, now=utcnow() + timedelta(hours=23)) == 0
    assert _left() == everything
    # A day after expiry: the unused one goes; the converted one and the one waiting stay.
    later = utcnow() + DAY + timedelta(minutes=5)
    assert quote_purge.purge_expired(DAY, now=later) == 1
    assert _left() == {converted, waiting}
    # Once its request is decided without a conversion, the used quote goes too.
    change_requests.reject(pending.id, actor=approver, reason="No")
    assert quote_purge.purge_expired(DAY, now=later) == 1
    assert _left() == {converted}
    assert quote_purge.purge_expired(DAY, now=later + 30 * DAY) == 0
    assert _left() == {converted}


def test_open_quotes_stay_and_the_purge_works_in_batches(
    app: Flask, customer_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_rates()
    eur, usd = two_accounts(customer_user)
    made = [_quote(customer_user, eur, usd, amount) for amount in range(100, 105)]
    assert quote_purge.purge_expired(DAY) == 0  # none has even expired
    monkeypatch.setattr(quote_purge, "BATCH", 2)
    assert quote_purge.purge_expired(DAY, now=utcnow() + 2 * DAY) == len(made)
    assert _left() == set()
    with pytest.raises(ValueError, match="positive"):
        quote_purge.purge_expired(timedelta(0))


@contextmanager
def _selects() -> Iterator[list[tuple[str, object]]]:
    found: list[tuple[str, object]] = []

    def keep(_conn: object, _cursor: object, sql: str, params: object, *_rest: object) -> None:
        if sql.lstrip().upper().startswith(("SELECT", "DELETE")):
            found.append((sql, params))

    sa.event.listen(db.engine, "before_cursor_execute", keep)
    try:
        yield found
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", keep)


def test_the_purge_reads_quotes_through_an_index(
    app: Flask, customer_user: User, backend: str
) -> None:
    load_rates()
    eur, usd = two_accounts(customer_user)
    _quote(customer_user, eur, usd)
    with _selects() as statements:
        quote_purge.purge_expired(DAY, now=utcnow() + 2 * DAY)
    assert statements
    with db.engine.connect() as conn:
        for sql, params in statements:
            if backend == "postgresql":
                conn.exec_driver_sql("SET enable_seqscan = off")
                plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + sql, params))
                for table in ("fx_quotes", "fx_conversions", "change_requests"):
                    assert f"Seq Scan on {table}" not in plan, plan
            else:
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)
                plan = "\n".join(str(r[-1]) for r in rows)
                for table in ("fx_quotes", "fx_conversions", "change_requests"):
                    assert f"SCAN {table}\n" not in plan + "\n", plan
                    assert f"SCAN {table} " not in plan, plan


def test_the_command_purges_with_the_configured_retention(app: Flask, customer_user: User) -> None:
    load_rates()
    eur, usd = two_accounts(customer_user)
    with clock_set_to(utcnow() - timedelta(hours=8)):
        old = _quote(customer_user, eur, usd)
    fresh = _quote(customer_user, eur, usd)
    runner = app.test_cli_runner()
    kept = runner.invoke(args=["vaulta", "purge-fx-quotes"])
    assert "Deleted 0 FX quote(s) expired more than 24 h ago." in kept.output
    app.config["FX_QUOTE_RETENTION_HOURS"] = 6
    purged = runner.invoke(args=["vaulta", "purge-fx-quotes"])
    assert "Deleted 1 FX quote(s) expired more than 6 h ago." in purged.output
    assert _left() == {fresh}
    assert old != fresh
