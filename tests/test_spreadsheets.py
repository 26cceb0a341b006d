"""vaulta.spreadsheets without HTTP: cell kinds and the row limit of a sheet."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import openpyxl

from vaulta.spreadsheets import DATE, INTEGER, MONEY, Column, Money, write_xlsx

COLUMNS = (Column("n", INTEGER), Column("when", DATE), Column("amount", MONEY), Column("text"))


def _read(rows: list[tuple], **kwargs: int) -> list[list]:
    out = io.BytesIO()
    write_xlsx(out, "Sheet", COLUMNS, rows, **kwargs)
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue())).worksheets[0]
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def test_cells_by_kind_and_empty_cells() -> None:
    when = datetime(2026, 12, 1, 23, 30, 15, tzinfo=UTC)
    rows = _read([(1, when, Money(-123_456, "EUR"), "@SUM(1)"), (2, None, None, "")])
    assert rows[0] == ["n", "when", "amount", "text"]
    assert rows[1] == [1, datetime(2026, 12, 1, 23, 30, 15), -1234.56, "'@SUM(1)"]
    assert rows[2] == [2, None, None, None]


def test_rows_beyond_the_sheet_limit_are_cut_with_a_note() -> None:
    rows = _read([(i, None, None, "x") for i in range(5)], max_rows=3)
    assert [r[0] for r in rows[1:4]] == [0, 1, 2]
    assert rows[4][0] == "Truncated after 3 rows (the XLSX limit): use the CSV."
    assert len(rows) == 5
