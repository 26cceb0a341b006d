"""Production refuses to start on an outdated schema; ``flask db`` is never blocked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade

from tests.databases import SqliteTemplate
from tests.migrations.test_flask_db import HEAD, REVISIONS
from vaulta import PROJECT_ROOT, create_app
from vaulta.config import ConfigError
from vaulta.extensions import db
from vaulta.ops.schema import SchemaOutdated

# Production settings (as overrides and as environment): a proper key, and in-memory rate
# limits declared as one single process (these tests need no Redis).
PRODUCTION = {
    "SECRET_KEY": "a-long-random-production-secret-for-tests",
    "RATELIMIT_SINGLE_PROCESS": "1",
}


@pytest.fixture
def outdated_sqlite(sqlite_template: SqliteTemplate, tmp_path: Path) -> str:
    url = sqlite_template.copy_to(tmp_path)
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        downgrade(revision=REVISIONS[-2])
        db.engine.dispose()
    return url


def _production(url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DATABASE_URL", url)
    return create_app("production", PRODUCTION)


def test_production_refuses_an_outdated_database(
    outdated_sqlite: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SchemaOutdated, match=r"run `flask db upgrade`") as error:
        _production(outdated_sqlite, monkeypatch)
    assert "\n" not in str(error.value)
    assert REVISIONS[-2] in str(error.value)
    assert HEAD in str(error.value)


def test_production_starts_at_head(
    sqlite_template: SqliteTemplate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _production(sqlite_template.copy_to(tmp_path), monkeypatch)
    assert app.test_client().get("/healthz").status_code == 200


def test_production_serves_a_database_upgraded_by_newer_code(
    sqlite_template: SqliteTemplate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = sqlite_template.copy_to(tmp_path)
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # a revision of the next release, unknown to this code
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0a0a0a0a0a0a'"))
    engine.dispose()
    app = _production(url, monkeypatch)  # a worker restarted mid-rollout still boots
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert "0a0a0a0a0a0a: newer than this code" in response.json["schema"]
    with app.app_context():
        db.engine.dispose()


def test_unreachable_database_defers_the_check_to_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    app = _production("postgresql://nobody@127.0.0.1:9/x", monkeypatch)
    response = app.test_client().get("/login")
    assert response.status_code == 503


def test_flask_db_upgrade_is_never_blocked(outdated_sqlite: str, tmp_path: Path) -> None:
    """The real ``flask`` command in production: ``db upgrade`` works, then the app starts."""
    env = {
        **os.environ,
        "VAULTA_CONFIG": "production",
        "DATABASE_URL": outdated_sqlite,
        "FLASK_APP": "wsgi.py",
        **PRODUCTION,
    }
    flask = str(Path(sys.executable).parent / "flask")
    run = subprocess.run(
        [flask, "db", "upgrade"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    served = subprocess.run(
        [sys.executable, "-c", "import wsgi"], cwd=PROJECT_ROOT, env=env, capture_output=True
    )
    assert served.returncode == 0, served.stderr


def test_serving_an_outdated_database_fails_at_import(outdated_sqlite: str) -> None:
    env = {**os.environ, "VAULTA_CONFIG": "production", "DATABASE_URL": outdated_sqlite}
    served = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=PROJECT_ROOT,
        env={**env, **PRODUCTION},
        capture_output=True,
        text=True,
    )
    assert served.returncode != 0
    assert "run `flask db upgrade`" in served.stderr


def test_requests_get_503_when_an_outdated_app_serves_from_the_cli(
    outdated_sqlite: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``flask run`` loads the app inside a click context: requests are refused instead."""
    monkeypatch.setattr("vaulta.ops.startup.started_by_flask_cli", lambda: True)
    app = _production(outdated_sqlite, monkeypatch)
    response = app.test_client().get("/login")
    assert response.status_code == 503
    assert "flask db upgrade" in response.get_data(as_text=True)
    assert app.test_client().get("/healthz").status_code == 503  # JSON from /healthz itself


def test_unknown_schema_check_mode_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHEMA_CHECK", "sometimes")
    with pytest.raises(ConfigError, match="SCHEMA_CHECK"):
        create_app("testing")
