"""The ``flask db`` commands of docs/migrations.md, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from flask import Flask
from flask.testing import FlaskCliRunner

from tests.databases import fresh_postgres_database, require_postgres
from tests.migrations.conftest import MIGRATIONS
from vaulta import create_app
from vaulta.extensions import db


def _revisions_oldest_first() -> list[str]:
    config = AlembicConfig(str(MIGRATIONS / "alembic.ini"))
    script = ScriptDirectory.from_config(config)
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


REVISIONS = _revisions_oldest_first()
HEAD = REVISIONS[-1]


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.db'}"
        yield _app(url)
        return
    with fresh_postgres_database(require_postgres(), "cli") as url:
        yield _app(url)


def _app(url: str) -> Flask:
    return create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})


@pytest.fixture
def run(capfd: pytest.CaptureFixture[str]) -> Callable[..., str]:
    """Invoke a ``flask`` command in-process and return what it printed.

    Alembic writes to the process's standard output, so it is read back with ``capfd``.
    """

    def invoke(app: Flask, *args: str) -> str:
        capfd.readouterr()
        runner: FlaskCliRunner = app.test_cli_runner()
        result = runner.invoke(args=list(args))
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        out, _ = capfd.readouterr()
        assert result.exit_code == 0, result.output + out
        return result.output + out

    return invoke


def test_upgrade_check_downgrade_upgrade(empty_app: Flask, run: Callable[..., str]) -> None:
    run(empty_app, "db", "upgrade")
    assert HEAD in run(empty_app, "db", "current")
    assert "No new upgrade operations detected" in run(empty_app, "db", "check")
    run(empty_app, "db", "downgrade")  # one step
    assert REVISIONS[-2] in run(empty_app, "db", "current")
    run(empty_app, "db", "downgrade", "--", "-1")
    assert REVISIONS[-3] in run(empty_app, "db", "current")
    run(empty_app, "db", "downgrade", "base")
    assert not re.search(r"[0-9a-f]{12}", run(empty_app, "db", "current"))
    run(empty_app, "db", "upgrade", "head")
    assert "No new upgrade operations detected" in run(empty_app, "db", "check")
    with empty_app.app_context():
        db.engine.dispose()


def test_history_tells_the_story(empty_app: Flask, run: Callable[..., str]) -> None:
    history = run(empty_app, "db", "history")
    messages = [
        "initial schema",
        "add transactions.description",
        "add admin approval fields to payments",
        "add transaction_id foreign key to payments",
        "link executed payments to their transactions",
    ]
    positions = [history.index(m) for m in messages]
    assert positions == sorted(positions, reverse=True)  # newest first
    assert run(empty_app, "db", "heads").count("(head)") == 1


def test_stamp_head_marks_without_running(empty_app: Flask, run: Callable[..., str]) -> None:
    run(empty_app, "db", "stamp", "head")
    assert HEAD in run(empty_app, "db", "current")
    with empty_app.app_context():
        db.engine.dispose()


def test_offline_sql_for_postgresql_needs_no_database(run: Callable[..., str]) -> None:
    """``flask db upgrade --sql`` prints the whole chain without connecting anywhere."""
    app = _app("postgresql://nobody@127.0.0.1:9/does-not-exist")
    sql = run(app, "db", "upgrade", "--sql")
    assert "CREATE TABLE payments" in sql
    assert "ALTER TABLE transactions ADD COLUMN description" in sql
    assert "fk_payments_transaction_id_transactions" in sql
    for revision in REVISIONS:
        assert f"version_num='{revision}'" in sql or f"VALUES ('{revision}')" in sql
    # No reflection: the only SELECTs are the data fills the database runs itself
    # (0f3ce6a1fb07's loop as one PL/pgSQL block, 3f1c0a7e5b21's and e5b7c1d9a2f4's
    # INSERT … SELECT, 5ac63abdd2e9's postings as one INSERT … SELECT offline, 51a90ed518e2's
    # policy, 8075314aee27's trigger functions).
    chain_fill = re.compile(r"DO \$chain\$.*?\$chain\$", re.DOTALL)
    assert len(chain_fill.findall(sql)) == 1
    rest = chain_fill.sub("", sql).replace("(SELECT min(", "")
    rest = rest.replace("INSERT INTO user_roles (user_id, role, granted_at) SELECT", "")
    postings_fill = re.compile(r"INSERT INTO postings \(.*?;", re.DOTALL)
    assert len(postings_fill.findall(rest)) == 1
    rest = postings_fill.sub("", rest)
    # 51a90ed518e2 seeds its policy with INSERT … SELECT … WHERE NOT EXISTS (no duplicate).
    rest = re.sub(
        r"INSERT INTO approval_policies .*?name = 'overdraft-limits'\)\);",
        "",
        rest,
        flags=re.DOTALL,
    )
    rest = rest.replace("INSERT INTO figure_counters (name, shard, value) SELECT", "")
    # 8075314aee27's trigger functions: their bodies run when the triggers fire.
    rest = re.sub(r"CREATE FUNCTION vaulta_count_\w+\(\).*?\$\$;", "", rest, flags=re.DOTALL)
    # 1f93857819a3: the holds of payments pending at upgrade, and the accounts' held_minor.
    rest = re.sub(r"INSERT INTO holds .*?;", "", rest, flags=re.DOTALL)
    rest = re.sub(r"UPDATE accounts SET held_minor = .*?;", "", rest, flags=re.DOTALL)
    rest = re.sub(r"SELECT set_config\('[a-z_.]*statement_timeout'.*?;", "", rest, flags=re.DOTALL)
    assert "SELECT" not in rest
    down = run(app, "db", "downgrade", f"{HEAD}:base", "--sql")
    assert "DROP TABLE payments" in down
