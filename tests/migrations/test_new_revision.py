"""Writing revisions with the real ``flask db`` command, with and without ruff installed.

ruff is a development tool (requirements-dev.txt); someone who ran only ``make run`` has none,
and ``flask db migrate`` must still work for them. Each test copies the app and its
migrations to a temporary folder, changes a model there and runs ``flask`` in a subprocess
on a SQLite copy of the migrated database. "Without ruff" blocks ``import ruff`` in that
process (``sys.modules["ruff"] = None``), which is what an environment without it looks like.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.databases import SqliteTemplate
from tests.migrations.test_flask_db import HEAD
from vaulta import PROJECT_ROOT

FLASK = "from flask.cli import main; main()"
FLASK_WITHOUT_RUFF = "import sys; sys.modules['ruff'] = None; " + FLASK
NICKNAME = "    nickname: Mapped[str | None] = mapped_column(sa.String(40))\n"


class Project:
    """A copy of the app whose models a test may change, and its ``flask`` command."""

    def __init__(self, root: Path, database_url: str, *, ruff: bool) -> None:
        self.root = root
        self.versions = root / "migrations" / "versions"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "FLASK_APP": "wsgi.py",
            "VAULTA_CONFIG": "development",
        }
        self.program = FLASK if ruff else FLASK_WITHOUT_RUFF
        self.known = self._revision_files()

    def flask(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-c", self.program, *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Traceback" not in done.stderr, done.stderr
        return done

    def add_customer_nickname(self) -> None:
        model = self.root / "vaulta" / "models" / "customer.py"
        text = model.read_text()
        anchor = "    full_name: Mapped[str] = mapped_column(sa.String(200))\n"
        assert anchor in text
        model.write_text(text.replace(anchor, anchor + NICKNAME))

    def _revision_files(self) -> set[str]:
        return {p.name for p in self.versions.glob("*.py")}

    def written(self, slug: str) -> str:
        """The one revision written since the last call, named after ``slug``."""
        files = self._revision_files()
        (name,) = files - self.known
        assert name.endswith(f"_{slug}.py")
        self.known = files
        return (self.versions / name).read_text()


def _project(tmp_path: Path, sqlite_template: SqliteTemplate, *, ruff: bool) -> Project:
    source, root = Path(PROJECT_ROOT), tmp_path / "project"
    skip = shutil.ignore_patterns("__pycache__")
    for folder in ("vaulta", "migrations"):
        shutil.copytree(source / folder, root / folder, ignore=skip)
    for name in ("wsgi.py", "pyproject.toml"):
        shutil.copy2(source / name, root / name)
    return Project(root, sqlite_template.copy_to(tmp_path), ruff=ruff)


def test_migrate_without_ruff_writes_a_working_revision(
    tmp_path: Path, sqlite_template: SqliteTemplate
) -> None:
    project = _project(tmp_path, sqlite_template, ruff=False)
    project.add_customer_nickname()

    done = project.flask("db", "migrate", "-m", "add customer nickname")
    assert "post write hook" not in done.stdout + done.stderr
    revision = project.written("add_customer_nickname")
    assert re.search(rf"down_revision = ['\"]{HEAD}['\"]", revision)
    assert "add_column(sa.Column('nickname', sa.String(length=40), nullable=True))" in revision
    assert "drop_column('nickname')" in revision  # as Alembic wrote it: unformatted

    project.flask("db", "upgrade")
    assert "No new upgrade operations detected" in project.flask("db", "check").stdout


def test_revision_and_merge_without_ruff(tmp_path: Path, sqlite_template: SqliteTemplate) -> None:
    """The other commands that write a revision file work without ruff too."""
    project = _project(tmp_path, sqlite_template, ruff=False)
    project.flask("db", "revision", "-m", "backfill nicknames")
    backfill = project.written("backfill_nicknames")
    assert f"down_revision = '{HEAD}'" in backfill
    project.flask("db", "revision", "-m", "other branch", "--head", HEAD, "--splice")
    other = project.written("other_branch")

    project.flask("db", "merge", "heads", "-m", "merge heads")
    merged = project.written("merge_heads")
    for parent in (backfill, other):
        revision = re.search(r"^revision = '([0-9a-f]+)'", parent, re.MULTILINE)
        assert revision is not None
        assert f"'{revision[1]}'" in merged.split("down_revision")[1].splitlines()[0]


def test_migrate_with_ruff_formats_the_revision(
    tmp_path: Path, sqlite_template: SqliteTemplate
) -> None:
    project = _project(tmp_path, sqlite_template, ruff=True)
    project.add_customer_nickname()

    done = project.flask("db", "migrate", "-m", "add customer nickname")
    assert "Running post write hook 'ruff_format'" in done.stdout + done.stderr
    revision = project.written("add_customer_nickname")
    assert 'add_column(sa.Column("nickname", sa.String(length=40), nullable=True))' in revision
    assert f'down_revision = "{HEAD}"' in revision
