"""Schema status: the database's revision(s) against the newest revision(s) of the migrations.

The current revision is read from ``alembic_version`` through Alembic's MigrationContext on a
short-lived connection; the newest comes from the migrations folder (ScriptDirectory), cached
per folder until a file in ``versions/`` changes.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from functools import lru_cache

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Engine


@dataclass(frozen=True)
class PendingRevision:
    revision: str
    message: str


@dataclass(frozen=True)
class SchemaStatus:
    backend: str
    server_version: str
    current: tuple[str, ...]
    heads: tuple[str, ...]
    pending: tuple[PendingRevision, ...] = field(default=())
    # Revisions of the database this code does not know: it was upgraded by newer code.
    newer: tuple[str, ...] = field(default=())

    @property
    def at_head(self) -> bool:
        return set(self.current) == set(self.heads)

    @property
    def ahead_of_code(self) -> bool:
        """Upgraded by a newer release: this code keeps serving until it is replaced (each
        release's revisions keep the previous release working, docs/deploy.md)."""
        return bool(self.newer)

    @property
    def can_serve(self) -> bool:
        """At the newest revision, or newer: nothing is pending for this code."""
        return self.at_head or self.ahead_of_code

    def describe(self) -> str:
        """One line for logs, /healthz and error messages."""
        current = ", ".join(self.current) or "empty (no revision)"
        if self.at_head:
            return f"{current} (head)"
        if self.ahead_of_code:
            newest = ", ".join(self.heads)
            return f"{current}: newer than this code (its newest is {newest}); deploy the new code"
        newest = ", ".join(self.heads)
        return f"{current}; newest is {newest} ({len(self.pending)} pending)"


class SchemaOutdated(RuntimeError):
    """The database is not at the newest revision; the message names the fix."""

    def __init__(self, status: SchemaStatus) -> None:
        self.status = status
        super().__init__(
            f"Database schema is not at the newest revision ({status.describe()}): "
            "run `flask db upgrade` (or `flask vaulta upgrade-safely`) before starting VAULTA."
        )


def _versions_stamp(directory: str) -> float:
    versions = os.path.join(directory, "versions")
    try:
        return os.stat(versions).st_mtime
    except OSError:
        return 0.0


@lru_cache(maxsize=16)
def _script(directory: str, _stamp: float) -> ScriptDirectory:
    return ScriptDirectory(directory)


def script_directory(directory: str) -> ScriptDirectory:
    """The migrations folder's scripts (re-read when a revision file is added or removed)."""
    return _script(os.path.abspath(directory), _versions_stamp(directory))


def current_revisions(engine: Engine) -> tuple[str, ...]:
    """The revision(s) stamped in the database; empty when it has never been migrated."""
    with engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
        connection.rollback()
    return tuple(heads)


def server_version(engine: Engine) -> str:
    if engine.dialect.name == "sqlite":
        return sqlite3.sqlite_version
    info = engine.dialect.server_version_info
    if info is None:
        with engine.connect() as connection:
            connection.rollback()
        info = engine.dialect.server_version_info or ()
    return ".".join(str(part) for part in info)


def schema_status(engine: Engine, directory: str) -> SchemaStatus:
    """Where the database stands against the migrations in ``directory``."""
    script = script_directory(directory)
    heads = tuple(script.get_heads())
    current = current_revisions(engine)
    newer = tuple(rev for rev in current if not _knows(script, rev))
    pending: list[PendingRevision] = []
    if set(current) != set(heads) and not newer:
        lower = current if current else "base"
        for rev in script.iterate_revisions(heads, lower):
            if rev.revision not in current:
                pending.append(PendingRevision(rev.revision, rev.doc or ""))
        pending.reverse()  # oldest first: the order they will run in
    return SchemaStatus(
        backend=engine.dialect.name,
        server_version=server_version(engine),
        current=current,
        heads=heads,
        pending=tuple(pending),
        newer=newer,
    )


def _knows(script: ScriptDirectory, revision: str) -> bool:
    try:
        script.get_revision(revision)
    except CommandError:
        return False
    return True
