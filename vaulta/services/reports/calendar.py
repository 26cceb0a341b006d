"""UTC calendar buckets in SQL, the same text on both databases: ``utc_day(column)`` is
``'YYYY-MM-DD'`` and ``utc_month(column)`` is ``'YYYY-MM'`` of a stored UTC timestamp.

SQLite keeps timestamps as UTC text (``UTCDateTime``), PostgreSQL as ``timestamptz``
(converted at UTC, whatever the session's time zone). A query filters on the bare column
(so its index serves the range) and groups by the bucket.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class _UtcBucket(FunctionElement[str]):
    type = sa.String()
    inherit_cache = True
    pattern_sqlite = ""
    pattern_postgresql = ""


class utc_day(_UtcBucket):
    inherit_cache = True
    pattern_sqlite = "%Y-%m-%d"
    pattern_postgresql = "YYYY-MM-DD"


class utc_month(_UtcBucket):
    inherit_cache = True
    pattern_sqlite = "%Y-%m"
    pattern_postgresql = "YYYY-MM"


@compiles(_UtcBucket)
def _sqlite(element: _UtcBucket, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(next(iter(element.clauses)), **kw)
    return f"strftime('{element.pattern_sqlite}', {column})"


@compiles(_UtcBucket, "postgresql")
def _postgresql(element: _UtcBucket, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(next(iter(element.clauses)), **kw)
    return f"to_char({column} AT TIME ZONE 'UTC', '{element.pattern_postgresql}')"


def day_of(text: str) -> date:
    return date.fromisoformat(text)


def month_of(text: str) -> date:
    return date.fromisoformat(f"{text}-01")
