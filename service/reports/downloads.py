"""Reports as files: CSV (UTF-8 with a byte-order mark, so spreadsheets read it) and XLSX,
the same rows as the JSON answer."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

import xlsxwriter
from starlette.responses import Response

from schemas.report import BreakdownReport, DurationReport, MonthlyReport, PublishedTable
from service.reports.htcds import COLUMNS

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """A text a spreadsheet would run as a formula is quoted (CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value


def as_csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_cell(value) for value in row] for row in rows)
    return ("\ufeff" + out.getvalue()).encode()


def as_xlsx(sheet: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False,
                                     "strings_to_urls": False})  # fmt: skip
    page = book.add_worksheet(sheet[:31])
    bold = book.add_format({"bold": True})
    page.write_row(0, 0, list(header), bold)
    for number, row in enumerate(rows, start=1):
        page.write_row(number, 0, [_cell(value) for value in row])
    page.freeze_panes(1, 0)
    book.close()
    return out.getvalue()


Rows = tuple[list[str], list[list[Any]]]


def breakdown_rows(report: BreakdownReport) -> Rows:
    header = [*report.dimensions, "referrals", "victims", "open"]
    lines = [[*(row.key[d] for d in report.dimensions), row.referrals, row.victims, row.open]
             for row in report.rows]  # fmt: skip
    total = report.totals
    lines.append(["total", *[""] * (len(report.dimensions) - 1),
                  total.referrals, total.victims, total.open])  # fmt: skip
    return header, lines


def monthly_rows(report: MonthlyReport) -> Rows:
    lines = [[row.month, *(row.figures[name] for name in report.figures)] for row in report.months]
    lines.append(["total", *(report.totals[name] for name in report.figures)])
    return ["month", *report.figures], lines


def duration_rows(report: DurationReport) -> Rows:
    header = ["of", "name", "completed", "median_hours", "p90_hours", "with_deadline", "on_time"]
    lines = [
        [kind, line.name, line.completed, line.median_hours, line.p90_hours,
         line.with_deadline, line.on_time]
        for kind, lines in (("state", report.states), ("phase", report.phases),
                            ("ministry", report.ministries))
        for line in lines
    ]  # fmt: skip
    return header, lines


def table_rows(table: PublishedTable) -> Rows:
    """Cells, then the totals (a blank value: all of that dimension); a blank count: suppressed."""
    header = [*table.dimensions, "victims"]
    lines = [[*(cell.key.get(d, "") for d in table.dimensions), cell.victims]
             for cell in (*table.cells, *table.margins)]  # fmt: skip
    return header, lines


def record_rows(records: Sequence[dict[str, Any]]) -> Rows:
    return list(COLUMNS), [[record[column] for column in COLUMNS] for record in records]


def file_response(name: str, fmt: str, rows: Rows) -> Response:
    header, lines = rows
    body = as_csv(header, lines) if fmt == "csv" else as_xlsx(name, header, lines)
    media = CSV if fmt == "csv" else XLSX
    disposition = f'attachment; filename="nrm-{name}.{fmt}"'
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})
