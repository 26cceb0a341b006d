"""``flask vaulta maintenance on|off|status`` and the write barrier it waits on, on SQLite and
PostgreSQL (each on a database of its own)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.helpers import vaulta_cli
from tests.ops.conftest import hold_a_write
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import User
from vaulta.services import maintenance
from vaulta.services.banking import customers
from vaulta.services.maintenance import BARRIER_HELD, WRITE_BARRIER_KEY, UnderMaintenance


def test_on_status_off(ops_app: Flask) -> None:
    assert vaulta_cli(ops_app, "maintenance", "status").output == "Maintenance mode is off.\n"
    result = vaulta_cli(
        ops_app,
        "maintenance",
        "on",
        "--reason",
        "Moving to the new  data centre",
        "--minutes",
        "15",
    )
    assert result.exit_code == 0, result.output
    assert "Maintenance mode on since" in result.output
    assert "expected to end at" in result.output
    assert "No write transaction is in progress." in result.output

    status = vaulta_cli(ops_app, "maintenance", "status").output
    assert "Moving to the new data centre" in status
    assert "(Retry-After 9" in status  # 899 or 900 seconds
    health = ops_app.test_client().get("/healthz")
    assert (health.status_code, health.json["status"]) == (200, "maintenance")

    again = vaulta_cli(ops_app, "maintenance", "on", "--reason", "Still moving", "--no-wait")
    assert "was already on" in again.output
    assert "Still moving" in vaulta_cli(ops_app, "maintenance", "status").output

    off = vaulta_cli(ops_app, "maintenance", "off")
    assert off.exit_code == 0
    assert "Maintenance mode is off (it was on since" in off.output
    assert vaulta_cli(ops_app, "maintenance", "off").output == "Maintenance mode was already off.\n"
    assert ops_app.test_client().get("/healthz").json["status"] == "ok"


def test_a_reason_too_long_is_refused(ops_app: Flask) -> None:
    result = vaulta_cli(ops_app, "maintenance", "on", "--reason", "x" * 201)
    assert result.exit_code == 2
    assert "at most 200 characters" in result.output
    assert maintenance.read_state(db.engine) is None


@pytest.mark.parametrize("own_database_url", ["postgresql"], indirect=True)
def test_on_waits_for_writes_in_progress_and_says_who(ops_app: Flask) -> None:
    def check(release: threading.Event) -> None:
        result = vaulta_cli(ops_app, "maintenance", "on", "--drain-seconds", "0.5")
        assert result.exit_code == 1
        assert "maintenance mode is on, but write transactions were still running" in (
            result.output
        )
        assert "pid " in result.output
        release.set()
        result = vaulta_cli(ops_app, "maintenance", "on", "--drain-seconds", "10")
        assert result.exit_code == 0, result.output
        assert "No write transaction is in progress." in result.output

    held = hold_a_write(ops_app, check)
    assert held is not None  # it began before maintenance mode: it was let finish


@pytest.mark.parametrize("own_database_url", ["postgresql"], indirect=True)
def test_a_write_meeting_the_barrier_is_refused_with_503(ops_app: Flask) -> None:
    """An upgrade or restore holds the barrier: writes refuse even without the row."""
    ops_app.test_client_class = WebClient
    admin = factories.make_staff("barrier@example.test", "teller")
    client = ops_app.test_client()
    client.sign_in(admin)
    holder = sa.create_engine(db.engine.url)
    with holder.connect() as conn:
        conn.execute(sa.select(sa.func.pg_advisory_lock(WRITE_BARRIER_KEY)))
        conn.commit()
        with pytest.raises(UnderMaintenance) as raised:
            customers.create_customer(full_name="Blocked", email=None, actor=admin)
        assert raised.value.state == BARRIER_HELD
        response = client.post_form("/admin/customers/new", {"full_name": "Blocked"})
        assert response.status_code == 503
        assert "upgrade or restore is in progress" in response.get_data(as_text=True)
        conn.execute(sa.select(sa.func.pg_advisory_unlock(WRITE_BARRIER_KEY)))
        conn.commit()
    holder.dispose()
    customers.create_customer(full_name="Let Through", email=None, actor=admin)


def test_a_command_that_would_write_fails_in_one_line(ops_app: Flask) -> None:
    maintenance.turn_on(db.engine, "Quiet please", "tests")
    result = ops_app.test_cli_runner().invoke(
        args=["vaulta", "create-admin", "late@example.test", "--password-stdin"],
        input="a long enough password\n",
    )
    assert result.exit_code == 1
    assert "VAULTA is under maintenance: Quiet please" in result.output
    assert "Traceback" not in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
