"""Reading an XLSX download back with openpyxl, for the export tests."""

from __future__ import annotations

import io
from typing import Any

import openpyxl

from tests.webclient import WebClient
from vaulta.spreadsheets import XLSX_MIMETYPE


def read_xlsx(client: WebClient, url: str) -> tuple[list[list[Any]], Any]:
    """The rows of the first sheet (values as openpyxl reads them) and that sheet."""
    response = client.get(url)
    try:
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        assert response.mimetype == XLSX_MIMETYPE
        assert "attachment" in response.headers["Content-Disposition"]
        data = response.data
    finally:
        response.close()
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)], sheet
