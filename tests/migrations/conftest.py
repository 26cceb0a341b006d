"""pytest-alembic fixtures: the project's migrations against SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from pytest_alembic.config import Config

from tests.databases import fresh_postgres_database, require_postgres
from vaulta import PROJECT_ROOT
from vaulta.database import configure_engine

MIGRATIONS = Path(PROJECT_ROOT) / "migrations"


@pytest.fixture
def alembic_config() -> Config:
    return Config(
        config_options={
            "file": str(MIGRATIONS / "alembic.ini"),
            "script_location": str(MIGRATIONS),
        },
        at_revision_data={},
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def alembic_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """An empty database per test, on each backend."""
    if request.param == "sqlite":
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'migrations.db'}")
        configure_engine(engine)
        yield engine
        engine.dispose()
        return
    with fresh_postgres_database(require_postgres(), "mig") as url:
        engine = sa.create_engine(url)
        yield engine
        engine.dispose()
