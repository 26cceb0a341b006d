"""Maintenance mode: its state, and the check every write transaction makes.

While maintenance is on (the one row of ``maintenance_mode`` exists), nothing writes: the
web layer answers state-changing requests with 503 before they start
(vaulta/ops/maintenance.py), and ``write_transaction()`` calls
``refuse_writes_during_maintenance`` as soon as its transaction has begun, which raises
``UnderMaintenance`` (for GET requests that write on the side, commands and requests that
passed the web check just before maintenance began).

PostgreSQL: the same statement takes the *write barrier*, an advisory lock, in shared mode
until the transaction ends (``pg_try_advisory_xact_lock_shared``: no row written, no
waiting). ``upgrade-safely`` and ``restore`` take it exclusively
(vaulta/ops/drain.py): that waits for every write transaction in progress, and while they
hold or wait for it, new write transactions fail the try and refuse. SQLite needs no
barrier: ``BEGIN IMMEDIATE`` already lets one writer in at a time.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from vaulta.database import SQLITE_BEGIN_OPTION
from vaulta.models.base import utcnow
from vaulta.models.maintenance import MAINTENANCE_ROW_ID, REASON_MAX_LENGTH, MaintenanceMode

# The advisory lock key of the write barrier (PostgreSQL): any constant unique to VAULTA.
WRITE_BARRIER_KEY = 0x5641_554C_5441_0001
TABLE = MaintenanceMode.__table__
_COLUMNS = (TABLE.c.reason, TABLE.c.started_by, TABLE.c.started_at, TABLE.c.ends_at)
_STATE = sa.select(*_COLUMNS).where(TABLE.c.id == MAINTENANCE_ROW_ID)
# PostgreSQL: the shared barrier and the state in one round trip (one row, even when off).
_ONE = sa.select(sa.literal(MAINTENANCE_ROW_ID).label("id")).subquery("one")
_BARRIER_AND_STATE = sa.select(
    sa.func.pg_try_advisory_xact_lock_shared(sa.literal(WRITE_BARRIER_KEY, sa.BigInteger)),
    *_COLUMNS,
).select_from(_ONE.outerjoin(TABLE, TABLE.c.id == _ONE.c.id))


@dataclass(frozen=True)
class Maintenance:
    """Maintenance mode as it is on: why, by whom, since and (maybe) until when."""

    reason: str
    started_by: str
    started_at: datetime
    ends_at: datetime | None = None

    def retry_after(self, default_seconds: int, now: datetime | None = None) -> int:
        """Seconds a client should wait: until the expected end, else ``default_seconds``."""
        if self.ends_at is None:
            return default_seconds
        remaining = math.ceil((self.ends_at - (now or utcnow())).total_seconds())
        return remaining if remaining > 0 else default_seconds

    def describe(self) -> str:
        text = f"on since {self.started_at:%Y-%m-%d %H:%M:%S} UTC, by {self.started_by}"
        if self.ends_at is not None:
            text += f", expected to end at {self.ends_at:%Y-%m-%d %H:%M} UTC"
        return f"{text}: {self.reason}"


# What a write meets while an upgrade or restore holds the barrier without the row (someone
# turned maintenance off in the middle): it still refuses.
BARRIER_HELD = Maintenance(
    reason="A database upgrade or restore is in progress.",
    started_by="the write barrier",
    started_at=datetime.min.replace(tzinfo=UTC),
)


class UnderMaintenance(Exception):
    """A write was refused because maintenance mode is on (answered with 503)."""

    def __init__(self, state: Maintenance) -> None:
        super().__init__(f"VAULTA is under maintenance: {state.reason}")
        self.state = state


def _state(row: sa.Row[tuple[str, str, datetime, datetime | None]] | None) -> Maintenance | None:
    if row is None or row.reason is None:
        return None
    return Maintenance(row.reason, row.started_by, row.started_at, row.ends_at)


def current(s: Session | Connection) -> Maintenance | None:
    """Maintenance mode's state (a primary-key read), None when it is off."""
    return _state(s.execute(_STATE).first())


def refuse_writes_during_maintenance(s: Session) -> None:
    """Raise UnderMaintenance when maintenance is on; called inside a write transaction.

    On PostgreSQL this also takes the write barrier in shared mode until the transaction
    ends (see the module doc).
    """
    if s.get_bind().dialect.name != "postgresql":
        state = current(s)
    else:
        row = s.execute(_BARRIER_AND_STATE).one()
        state = _state(row)
        if state is None and not row[0]:
            state = BARRIER_HELD
    if state is not None:
        raise UnderMaintenance(state)


def read_state(engine: Engine) -> Maintenance | None:
    """``current`` on a connection of its own (commands, not requests)."""
    with engine.connect() as conn:
        return current(conn)


def table_exists(engine: Engine) -> bool:
    """False at revisions older than maintenance mode (an upgrade brings it)."""
    return sa.inspect(engine).has_table(TABLE.name)


def turn_on(
    engine: Engine, reason: str, started_by: str, ends_at: datetime | None = None
) -> tuple[Maintenance, Maintenance | None]:
    """Turn maintenance on (or change its reason and end); return it and the previous state.

    Turned on while on, it keeps its start and who started it."""
    reason = " ".join(reason.split())[:REASON_MAX_LENGTH] or "Maintenance."
    with _write(engine) as conn:
        previous = current(conn)
        state = Maintenance(
            reason=reason,
            started_by=previous.started_by if previous else started_by,
            started_at=previous.started_at if previous else utcnow(),
            ends_at=ends_at,
        )
        _replace(conn, state)
    return state, previous


def turn_off(engine: Engine) -> Maintenance | None:
    """Turn maintenance off; return the state it had (None when it was off already)."""
    with _write(engine) as conn:
        previous = current(conn)
        _replace(conn, None)
    return previous


def put_back(engine: Engine, state: Maintenance | None) -> None:
    """Set maintenance mode to ``state`` exactly (None: off), e.g. after a restore."""
    with _write(engine) as conn:
        _replace(conn, state)


def _replace(conn: Connection, state: Maintenance | None) -> None:
    conn.execute(sa.delete(TABLE))
    if state is not None:
        conn.execute(
            sa.insert(TABLE).values(
                id=MAINTENANCE_ROW_ID,
                reason=state.reason,
                started_by=state.started_by,
                started_at=state.started_at,
                ends_at=state.ends_at,
            )
        )


@contextmanager
def _write(engine: Engine) -> Iterator[Connection]:
    """A short write transaction of its own (``BEGIN IMMEDIATE`` on SQLite); not
    ``write_transaction()``, which maintenance mode itself refuses."""
    options = {SQLITE_BEGIN_OPTION: "IMMEDIATE"}
    with engine.connect().execution_options(**options) as conn, conn.begin():
        yield conn
