"""The declarative base: naming convention, UTC timestamps and shared column helpers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


_clock_set_to: ContextVar[datetime | None] = ContextVar("vaulta_clock_set_to", default=None)


def utcnow() -> datetime:
    """The current time as an aware UTC datetime: the clock of every stored timestamp.

    Inside ``clock_set_to(when)`` it is ``when`` instead, in that context only.
    """
    return _clock_set_to.get() or datetime.now(UTC)


@contextmanager
def clock_set_to(when: datetime) -> Iterator[None]:
    """Within the block (this thread or task only), ``utcnow()`` returns ``when``.

    The demo seed writes its dated history through the real services this way
    (vaulta/ops/seeding/demo_history.py); no request ever sets it.
    """
    if when.utcoffset() != timedelta(0):
        raise ValueError(f"not a UTC timestamp: {when!r}")
    token = _clock_set_to.set(when)
    try:
        yield
    finally:
        _clock_set_to.reset(token)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp stored in UTC.

    PostgreSQL keeps ``timestamptz``; SQLite keeps text without an offset, so values are
    normalised to UTC on the way in and marked UTC on the way out. Naive values are refused.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: VAULTA stores aware UTC timestamps only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    registry = registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


class CreatedAtMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TimestampMixin(CreatedAtMixin):
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def in_list(column: str, values: tuple[str, ...]) -> str:
    """SQL text for a check constraint ``column IN (...)`` over known string values."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"
