"""pytest-alembic's built-in and experimental tests, on SQLite and PostgreSQL.

Built in: one head, upgrade from empty through every revision, models match the DDL the
migrations build, and every revision downgrades and upgrades again. Experimental: a
downgrade leaves no trace, and every model is registered on the metadata env.py imports.
"""

import pytest
from pytest_alembic import MigrationContext
from pytest_alembic.tests import (
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from pytest_alembic.tests.experimental import (
    test_all_models_register_on_metadata as _all_models_register_on_metadata,
)
from pytest_alembic.tests.experimental import test_downgrade_leaves_no_trace

from tests.migrations.conftest import MIGRATIONS
from vaulta import PROJECT_ROOT

__all__ = [
    "test_downgrade_leaves_no_trace",
    "test_model_definitions_match_ddl",
    "test_single_head_revision",
    "test_up_down_consistency",
    "test_upgrade",
]


def test_all_models_register_on_metadata(
    alembic_runner: MigrationContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Importing ``vaulta.models`` (what env.py does) registers every table of the package.

    The experimental test reads ``alembic.ini`` from the working directory in a fresh
    interpreter, so it runs from migrations/ with the project on the path.
    """
    monkeypatch.chdir(MIGRATIONS)
    monkeypatch.setenv("PYTHONPATH", PROJECT_ROOT)
    _all_models_register_on_metadata(alembic_runner, "vaulta.models")
