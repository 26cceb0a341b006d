"""``flask vaulta rehearse-upgrade``: "test migrations on a copy of production data".

A backup (or a copy of the live database) goes into a scratch database; every pending
revision is applied there and timed, the newest revision is downgraded and upgraded again,
row counts per table are compared step by step, and verify-ledger runs on the result. The
scratch database is dropped afterwards; the live database is only read.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from flask import current_app
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from vaulta import create_app
from vaulta.extensions import db
from vaulta.ops.backup import Progress, copy_sqlite, dump_postgres, restore_postgres, sqlite_file
from vaulta.ops.schema import schema_status, script_directory
from vaulta.ops.startup import migrations_directory
from vaulta.ops.upgrade import alembic_config, failure_reason
from vaulta.services.ledger.checks import verify_ledger

OK = "ok"


@dataclass(frozen=True)
class Step:
    name: str
    seconds: float
    rows_changed: dict[str, int] = field(default_factory=dict)
    verdict: str = OK

    @property
    def ok(self) -> bool:
        return self.verdict == OK


@dataclass
class Rehearsal:
    steps: list[Step] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps)

    def table(self) -> str:
        rows = [("Revision", "Seconds", "Rows changed", "Verdict")]
        rows += [
            (s.name, f"{s.seconds:.3f}", describe_changes(s.rows_changed), s.verdict)
            for s in self.steps
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        return "\n".join(
            f"{a:<{widths[0]}}  {b:>{widths[1]}}  {c:<{widths[2]}}  {d}" for a, b, c, d in rows
        )


def describe_changes(changes: dict[str, int]) -> str:
    return ", ".join(f"{t} {n:+d}" for t, n in sorted(changes.items())) or "none"


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table (alembic_version aside)."""
    names = [n for n in sa.inspect(engine).get_table_names() if n != "alembic_version"]
    with engine.connect() as conn:
        return {
            name: conn.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar_one()
            for name in names
        }


def count_changes(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    tables = before.keys() | after.keys()
    diff = {t: after.get(t, 0) - before.get(t, 0) for t in tables}
    return {t: n for t, n in diff.items() if n}


def rehearse_upgrade(from_backup: Path | None, progress: Progress) -> Rehearsal:
    """Run the rehearsal on a scratch copy; the result says what happened at each step."""
    directory = migrations_directory()
    overrides = {"SCHEMA_CHECK": "off", "SECRET_KEY": current_app.config["SECRET_KEY"]}
    with scratch_database(db.engine, from_backup, progress) as url:
        scratch = create_app(
            current_app.config["NAME"], {**overrides, "SQLALCHEMY_DATABASE_URI": url}
        )
        scratch.extensions["migrate"].directory = directory
        with scratch.app_context():
            try:
                return _rehearse(directory, progress)
            finally:
                db.session.remove()
                db.engine.dispose()


def _rehearse(directory: str, progress: Progress) -> Rehearsal:
    engine = db.engine
    config = alembic_config()
    status = schema_status(engine, directory)
    result = Rehearsal()
    counts = row_counts(engine)
    progress(f"Scratch copy is at {status.describe()}")
    for pending in status.pending:
        revision = pending.revision
        step, counts = _timed(revision, lambda r=revision: command.upgrade(config, r), counts)
        result.steps.append(step)
        if not step.ok:
            return result
    if len(status.heads) != 1:
        result.steps.append(Step("round trip", 0.0, verdict="FAIL: more than one head"))
        return result
    head = status.heads[0]
    down = script_directory(directory).get_revision(head).down_revision
    target = down if isinstance(down, str) else "base" if down is None else None
    if target is None:
        result.steps.append(Step(f"{head} down/up", 0.0, verdict="skipped: merge revision"))
    else:

        def round_trip() -> None:
            command.downgrade(config, target)
            command.upgrade(config, head)

        step, counts = _timed(f"{head} down/up", round_trip, counts)
        if step.ok and step.rows_changed:
            step = Step(step.name, step.seconds, step.rows_changed, "FAIL: rows lost or added")
        result.steps.append(step)
        if not step.ok:
            return result
    started = time.perf_counter()
    problems = verify_ledger()
    db.session.remove()
    verdict = OK if not problems else "FAIL: " + "; ".join(problems[:3])
    result.steps.append(Step("verify-ledger", time.perf_counter() - started, verdict=verdict))
    return result


def _timed(
    name: str, action: Callable[[], None], counts: dict[str, int]
) -> tuple[Step, dict[str, int]]:
    engine = db.engine
    started = time.perf_counter()
    try:
        action()
    except Exception as err:
        return Step(
            name, time.perf_counter() - started, verdict="FAIL: " + failure_reason(err)
        ), counts
    seconds = time.perf_counter() - started
    after = row_counts(engine)
    return Step(name, seconds, count_changes(counts, after)), after


@contextmanager
def scratch_database(live: Engine, from_backup: Path | None, progress: Progress) -> Iterator[str]:
    """A new database holding the backup (or a copy of ``live``); removed afterwards."""
    if live.dialect.name == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="vaulta-rehearsal-"))
        try:
            target = folder / "scratch.db"
            copy_sqlite(from_backup or sqlite_file(live.url), target, progress)
            yield f"sqlite:///{target}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    name = f"vaulta_rehearsal_{uuid.uuid4().hex[:12]}"
    server = sa.create_engine(live.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with server.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    scratch_url = live.url.set(database=name)
    try:
        if from_backup is not None:
            restore_postgres(scratch_url, from_backup, progress)
        else:
            with tempfile.TemporaryDirectory(prefix="vaulta-rehearsal-") as folder:
                dump = Path(folder) / "live.dump"
                dump_postgres(live.url, dump, progress)
                restore_postgres(scratch_url, dump, progress)
        yield scratch_url.render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.dispose()
