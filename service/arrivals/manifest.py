"""Reading a manifest: its columns, and its rows streamed from CSV or XLSX as text.

The columns are defined once, here: the template (`python -m service.arrivals.template`), the
parser and the docs follow them. A header is the Indonesian name or the intake field it fills
(`nama_lengkap` or `victim.full_name`), case and surrounding spaces ignored. Every cell comes out
as text, so that a row is read exactly like the referral form (`cases/intake_form.py`).

Neither format is read whole: CSV goes through the `csv` module line by line (UTF-8, with or
without a byte-order mark; `,` or `;` as Excel writes in an Indonesian locale), XLSX through
openpyxl's read-only mode, which streams the sheet's XML. An XLSX whose parts would inflate
past `MAX_XLSX_INFLATED` is refused before it is opened (a zip bomb).
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any

from service.kit.errors import ManifestUnreadable

MAX_XLSX_INFLATED = 200 * 1024 * 1024
_XLSX_MAGIC = b"PK\x03\x04"
# CSV injection (OWASP): a text cell that a spreadsheet would run as a formula. A cell that is
# only a number (a phone written +62 812-3456-7890) runs nothing and is allowed.
_FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")
_JUST_A_NUMBER = re.compile(r"^[+-]?[0-9][0-9 ().-]*$")


@dataclass(frozen=True)
class Column:
    header: str  # the Indonesian header of the template
    field: str  # the intake field it fills (`victim.full_name`), also accepted as a header
    english: str  # the English mapping, in the template's second sheet / docs
    required: bool = False
    example: str = ""


COLUMNS: tuple[Column, ...] = (
    Column("nama_lengkap", "victim.full_name", "full name", True, "Siti Rahayu"),
    Column("nama_lain", "victim.other_names", "other names (comma-separated)", example="Siti"),
    Column("jenis_kelamin", "victim.sex", "sex: perempuan/laki-laki (or female/male/other/unknown)",
           True, "perempuan"),
    Column("tanggal_lahir", "victim.birth_date", "birth date (YYYY-MM-DD)", example="2003-04-12"),
    Column("perkiraan_usia", "victim.age_estimate", "estimated age in years", example=""),
    Column("diduga_anak", "victim.presumed_child", "presumed child: ya/tidak", example="tidak"),
    Column("kewarganegaraan", "victim.nationality", "nationality (ISO 3166 alpha-2)", True, "ID"),
    Column("provinsi_asal", "victim.province_of_origin", "province of origin",
           example="Nusa Tenggara Timur"),
    Column("kabupaten_kota_asal", "victim.district_of_origin", "district or city of origin",
           example="Kupang"),
    Column("jenis_dokumen", "victim.identity_document.kind", "document kind: nik/passport/other",
           example="passport"),
    Column("nomor_dokumen", "victim.identity_document.number", "document number",
           example="C1234567"),
    Column("negara_penerbit", "victim.identity_document.issuing_country",
           "issuing country (ISO 3166 alpha-2)", example="ID"),
    Column("telepon", "victim.contact.phone", "phone", example="0812 3456 7890"),
    Column("alamat", "victim.contact.address", "address", example=""),
    Column("bahasa", "victim.languages", "languages (comma-separated)", example="id, dawan"),
    Column("disabilitas", "victim.has_disability", "disability: ya/tidak", example=""),
    Column("saluran_rujukan", "referral.channel", "referral channel (embassy, police, ...)", True,
           "embassy"),
    Column("organisasi_perujuk", "referral.referring_organisation", "referring organisation",
           example="KBRI Yangon"),
    Column("tanggal_rujukan", "referral.referral_date", "referral date (YYYY-MM-DD)",
           example="2025-03-18"),
    Column("negara_eksploitasi", "referral.country_of_exploitation",
           "country of exploitation (ISO 3166 alpha-2)", example="MM"),
    Column("tempat_eksploitasi", "referral.places_of_exploitation",
           "places of exploitation (comma-separated)", example="Myawaddy"),
    Column("jenis_eksploitasi", "referral.exploitation_types",
           "exploitation types (comma-separated: forced_criminality, forced_labour, ...)",
           example="forced_criminality"),
    Column("cara_perekrutan", "referral.recruitment_method", "recruitment method",
           example="online_advertisement"),
    Column("tempat_perekrutan", "referral.recruitment_place", "recruitment place", example=""),
    Column("cara_pengendalian", "referral.means_of_control",
           "means of control (comma-separated)", example="withheld_documents, threats"),
    Column("sektor_kerja", "referral.labour_industry", "labour industry", example="online scam"),
)  # fmt: skip
BY_HEADER = {c.header: c for c in COLUMNS} | {c.field.lower(): c for c in COLUMNS}


@dataclass(frozen=True)
class Cell:
    column: Column
    value: str


Row = dict[str, str]  # intake field -> text, for the cells that are not empty


class Manifest:
    """An opened manifest: its columns (checked) and its rows, streamed. `header_errors` are
    refusals of the whole file: unknown, missing or repeated columns."""

    def __init__(self, header: list[str], rows: Iterator[list[Any]]) -> None:
        self.columns: list[Column | None] = []
        problems: list[str] = []
        seen: set[str] = set()
        for position, raw in enumerate(header, start=1):
            name = (raw or "").strip().lower()
            column = BY_HEADER.get(name)
            if not name:
                self.columns.append(None)  # an empty trailing header: ignored if its cells are
                continue
            if column is None:
                problems.append(f"column {position} {raw!r}: unknown column")
            elif column.field in seen:
                problems.append(f"column {position} {raw!r}: given twice")
            else:
                seen.add(column.field)
            self.columns.append(column)
        missing = [c.header for c in COLUMNS if c.required and c.field not in seen]
        if missing:
            problems.append(f"missing required column(s): {', '.join(missing)}")
        if problems:
            raise ManifestUnreadable("; ".join(problems))
        self._rows = rows

    def close(self) -> None:
        """Stop reading: the file (an XLSX archive) is let go now, not when collected."""
        close = getattr(self._rows, "close", None)
        if close is not None:
            close()

    def rows(self) -> Iterator[tuple[int, list[Cell], list[str]]]:
        """(row number as the spreadsheet shows it, cells, problems of the raw cells)."""
        for number, raw in enumerate(self._rows, start=2):
            texts = [_text(value) for value in raw]
            if not any(texts):
                continue  # a blank line
            cells: list[Cell] = []
            problems: list[str] = []
            for position, text in enumerate(texts):
                column = self.columns[position] if position < len(self.columns) else None
                if column is None:
                    if text:
                        problems.append(f"column {position + 1}: a value under no header")
                    continue
                if text.startswith(_FORMULA_LEAD) and not _JUST_A_NUMBER.match(text):
                    problems.append(
                        f"{column.header}: a cell may not start with = + - or @ "
                        "(a spreadsheet formula); write it as plain text"
                    )
                    continue
                if text:
                    cells.append(Cell(column, text))
            yield number, cells, problems


def open_manifest(file: IO[bytes]) -> Manifest:
    """CSV or XLSX, told by content (not by the file's name); anything else is refused."""
    start = file.read(4)
    file.seek(0)
    if start == _XLSX_MAGIC:
        return _xlsx(file)
    return _csv(file)


def _csv(file: IO[bytes]) -> Manifest:
    text = io.TextIOWrapper(file, encoding="utf-8-sig", newline="")
    try:
        first = text.readline()
        if "\x00" in first:
            raise ManifestUnreadable("file: not a CSV or XLSX manifest")
        delimiter = ";" if first.count(";") > first.count(",") else ","
        header = next(csv.reader([first], delimiter=delimiter), [])
        return Manifest(header, _csv_rows(text, csv.reader(text, delimiter=delimiter)))
    except UnicodeDecodeError as exc:
        text.detach()
        raise ManifestUnreadable(
            "file: not a CSV in UTF-8 nor an XLSX workbook; save it as 'CSV UTF-8' or XLSX"
        ) from exc
    except (csv.Error, ManifestUnreadable) as exc:
        text.detach()  # the caller's file stays open (and is the caller's to close)
        if isinstance(exc, ManifestUnreadable):
            raise
        raise ManifestUnreadable(f"file: not a readable CSV ({exc})") from exc


def _csv_rows(text: io.TextIOWrapper, reader: Any) -> Iterator[list[Any]]:
    try:
        for row in reader:
            if any("\x00" in cell for cell in row):
                raise ManifestUnreadable(f"row {reader.line_num}: holds the NUL character")
            yield row
    except UnicodeDecodeError as exc:
        raise ManifestUnreadable("file: not UTF-8 past its first lines") from exc
    except csv.Error as exc:
        raise ManifestUnreadable(f"file: not a readable CSV ({exc})") from exc
    finally:
        with contextlib.suppress(ValueError):  # the file was closed under it (a crash)
            text.detach()


def _xlsx(file: IO[bytes]) -> Manifest:
    import openpyxl  # only for XLSX: it takes a while to import

    try:
        with zipfile.ZipFile(file) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
        file.seek(0)
        if inflated > MAX_XLSX_INFLATED:
            raise ManifestUnreadable("file: the workbook inflates to more than 200 MB")
        book = openpyxl.load_workbook(file, read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ManifestUnreadable("file: not a CSV or XLSX manifest") from exc
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    try:
        header = [_text(value) for value in next(rows, ())]
        return Manifest(header, _xlsx_rows(book, rows))
    except ManifestUnreadable:
        book.close()
        raise


def _xlsx_rows(book: Any, rows: Iterator[tuple[Any, ...]]) -> Iterator[list[Any]]:
    try:
        yield from (list(row) for row in rows)
    finally:
        book.close()  # read-only mode keeps the archive open until closed


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str) and "\x00" in value:
        raise ManifestUnreadable("file: a cell holds the NUL character")
    return str(value).strip()
