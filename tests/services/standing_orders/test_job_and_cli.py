"""The periodic job (Huey, run at once in tests) and ``flask vaulta run-standing-orders``:
the same runner, so running both for one day still pays each due date once."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from tests.services.standing_orders.support import accounts_of, make_order
from vaulta.extensions import db
from vaulta.models import StandingOrderRun, User
from vaulta.models.base import clock_set_to
from vaulta.ops.queue import EXTENSION

DAY = date(2027, 5, 3)


def _runs() -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count(StandingOrderRun.id))) or 0


def test_the_job_and_the_command_run_each_due_date_once(
    app: Flask, customer_user: User, other_customer_user: User, tmp_path: Path
) -> None:
    app.config["MAIL_OUTBOX_DIR"] = str(tmp_path / "outbox")
    source, target = accounts_of(customer_user, other_customer_user)
    make_order(customer_user, source, target, first=DAY, frequency="weekly")
    with clock_set_to(datetime.combine(DAY, time(6), UTC)):
        app.extensions[EXTENSION].run_standing_orders()
    assert _runs() == 1
    runner = app.test_cli_runner()
    result = runner.invoke(args=["vaulta", "run-standing-orders", "--date", DAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert "nothing due" in result.output
    result = runner.invoke(args=["vaulta", "run-standing-orders", "--date", "2027-05-10"])
    assert "1 created" in result.output
    assert _runs() == 2
    bad = runner.invoke(args=["vaulta", "run-standing-orders", "--date", "10/05/2027"])
    assert bad.exit_code != 0
