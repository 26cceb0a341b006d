"""XLSX downloads beside the CSV ones: real number and date cells, no formulas.

Written with XlsxWriter in ``constant_memory`` mode (each row goes to disk as it is
written: memory stays flat however long the export) into a temporary file, which the
response streams and closes. Cells:

- ``DATE``: an Excel date-time (UTC), shown ``yyyy-mm-dd hh:mm:ss``;
- ``DAY``: an Excel date (a calendar day, such as a value date), shown ``yyyy-mm-dd``;
- ``MONEY``: the amount in major units as a number, formatted with the row's currency's
  decimals (``#,##0.00``; ``#,##0`` for JPY). Excel keeps numbers as binary doubles: exact
  for every amount under 2**53 minor units;
- ``INTEGER``: a number with no decimals;
- ``TEXT``: always a string cell (never parsed as a formula or number), and a value that
  starts like a formula gets the same leading quote as in the CSV files (``web.safe_cell``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import xlsxwriter
from flask import Response, send_file

from vaulta.money import CURRENCY_EXPONENTS, exponent, to_decimal
from vaulta.web import safe_cell

TEXT, INTEGER, DATE, DAY, MONEY = "text", "integer", "date", "day", "money"
MAX_DATA_ROWS = 1_048_576 - 2  # a sheet's rows, less the header and the truncation note
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = TEXT
    width: float = 14


@dataclass(frozen=True)
class Money:
    """An amount in minor units of ``currency``, for a ``MONEY`` cell."""

    minor: int
    currency: str


def send_xlsx(
    filename: str, sheet: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]]
) -> Response:
    """The rows as an XLSX download (header row frozen, one cell kind per column)."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes it once sent
    try:
        write_xlsx(out, sheet, columns, rows)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return send_file(out, mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=filename)


def write_xlsx(
    out: Any,
    sheet: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    max_rows: int = MAX_DATA_ROWS,
) -> None:
    """Write the rows to ``out``; beyond ``max_rows`` a bold note says the rest is in the
    CSV (an XLSX sheet holds 1,048,576 rows)."""
    book = xlsxwriter.Workbook(
        out, {"constant_memory": True, "strings_to_formulas": False, "in_memory": False}
    )
    try:
        ws = book.add_worksheet(sheet)
        bold = book.add_format({"bold": True})
        dates = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        days = book.add_format({"num_format": "yyyy-mm-dd"})
        money = {
            places: book.add_format({"num_format": _money_format(places)})
            for places in set(CURRENCY_EXPONENTS.values())
        }
        for col, column in enumerate(columns):
            ws.set_column(col, col, column.width)
            ws.write_string(0, col, column.header, bold)
        ws.freeze_panes(1, 0)
        for r, row in enumerate(rows, start=1):
            if r > max_rows:
                note = f"Truncated after {max_rows:,} rows (the XLSX limit): use the CSV."
                ws.write_string(r, 0, note, bold)
                break
            for col, (column, value) in enumerate(zip(columns, row, strict=True)):
                if value is None or value == "":
                    continue
                if column.kind == DATE:
                    ws.write_datetime(r, col, _naive_utc(value), dates)
                elif column.kind == DAY:
                    ws.write_datetime(r, col, _midnight(value), days)
                elif column.kind == MONEY:
                    places = exponent(value.currency)
                    number = float(to_decimal(value.minor, value.currency))
                    ws.write_number(r, col, number, money[places])
                elif column.kind == INTEGER:
                    ws.write_number(r, col, int(value))
                else:
                    ws.write_string(r, col, str(safe_cell(str(value))))
    finally:
        book.close()


def _money_format(places: int) -> str:
    return "#,##0" + ("." + "0" * places if places else "")


def _midnight(value: date) -> datetime:
    return datetime.combine(value, time.min)


def _naive_utc(value: datetime) -> datetime:
    """Excel has no time zones: the UTC wall time (the header says UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value
