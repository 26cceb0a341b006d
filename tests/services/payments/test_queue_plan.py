"""The queue's first page walks the (status, created_at) index instead of sorting every
pending payment (SQLite chose the expiry index for a plain ``expires_at > :now``)."""

from __future__ import annotations

from flask import Flask

from vaulta.extensions import db
from vaulta.models import utcnow
from vaulta.services.payments import approval_queue


def test_the_default_page_needs_no_sort(sqlite_app: Flask) -> None:
    with sqlite_app.app_context():
        query = approval_queue._page_query(
            "oldest", False, False, False, False, after=False, limit=51
        )
        compiled = query.compile(db.engine)
        values = compiled.construct_params({"now": utcnow()})
        params = tuple(
            compiled.binds[name].type.bind_processor(db.engine.dialect)(values[name])
            if compiled.binds[name].type.bind_processor(db.engine.dialect)
            else values[name]
            for name in compiled.positiontup or ()
        )
        with db.engine.connect() as conn:
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params)
            plan = " | ".join(str(row[-1]) for row in rows)
    assert "ix_payments_status_created_at" in plan, plan
    assert "TEMP B-TREE" not in plan, plan
