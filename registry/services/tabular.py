"""Tables as downloads: CSV (UTF-8 with BOM, for Excel) and XLSX bytes."""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
# Spreadsheet formula injection: a cell starting with one of these is shown as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(value):
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else _safe(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def xlsx_bytes(title: str, headers: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_SHEET_FORBIDDEN.sub(" ", title)[:31] or "Sheet1")
    headers = list(headers)
    for index, header in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(60, max(12, len(header) + 4))
    sheet.append(headers)
    for row in rows:
        sheet.append([_safe(v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
