"""Writes the manifest templates in docs/templates/ from `manifest.COLUMNS`, so they stay true
to the parser: `python -m service.arrivals.template` (tests/test_manifest_template.py checks
that the files in the repository are what this writes).

- manifest.csv / manifest.xlsx: the Indonesian headers only (XLSX: a second sheet, `kolom`,
  maps each header to its intake field and English meaning, and says which are required);
- manifest-example.csv / manifest-example.xlsx: the same, filled with three returnees.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

from service.arrivals.manifest import COLUMNS

TARGET = Path(__file__).resolve().parents[2] / "docs" / "templates"
EXAMPLES: tuple[dict[str, str], ...] = (
    {c.header: c.example for c in COLUMNS},
    {"nama_lengkap": "Yohanes Bria", "jenis_kelamin": "laki-laki", "perkiraan_usia": "16",
     "diduga_anak": "ya", "kewarganegaraan": "ID", "provinsi_asal": "Nusa Tenggara Barat",
     "kabupaten_kota_asal": "Lombok Timur", "bahasa": "id, sasak", "saluran_rujukan": "embassy",
     "organisasi_perujuk": "KBRI Yangon", "negara_eksploitasi": "MM",
     "tempat_eksploitasi": "Shwe Kokko", "jenis_eksploitasi": "forced_criminality",
     "cara_perekrutan": "family_or_friend", "cara_pengendalian": "restricted_movement"},
    {"nama_lengkap": "Dewi Lestari", "jenis_kelamin": "perempuan", "tanggal_lahir": "1998-11-02",
     "kewarganegaraan": "ID", "provinsi_asal": "Jawa Barat", "kabupaten_kota_asal": "Cianjur",
     "jenis_dokumen": "nik", "nomor_dokumen": "3203014211980002", "saluran_rujukan": "embassy",
     "organisasi_perujuk": "KBRI Phnom Penh", "negara_eksploitasi": "KH",
     "jenis_eksploitasi": "forced_criminality, forced_labour", "sektor_kerja": "online scam",
     "cara_perekrutan": "online_advertisement", "cara_pengendalian": "debt_bondage, threats"},
)  # fmt: skip


def csv_text(examples: bool) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.header for c in COLUMNS])
    for row in EXAMPLES if examples else ():
        writer.writerow([row.get(c.header, "") for c in COLUMNS])
    return out.getvalue()


def xlsx_rows(examples: bool) -> dict[str, list[list[str]]]:
    """The workbook as sheets of rows (what the test compares, and what is written)."""
    rows = [[c.header for c in COLUMNS]]
    rows += [[row.get(c.header, "") for c in COLUMNS] for row in (EXAMPLES if examples else ())]
    mapping = [["kolom", "field", "english", "wajib / required"]]
    mapping += [[c.header, c.field, c.english, "ya" if c.required else ""] for c in COLUMNS]
    return {"manifest": rows, "kolom": mapping}


def write(target: Path = TARGET) -> list[Path]:
    import openpyxl

    target.mkdir(parents=True, exist_ok=True)
    written = []
    for examples, stem in ((False, "manifest"), (True, "manifest-example")):
        path = target / f"{stem}.csv"
        path.write_bytes(b"\xef\xbb\xbf" + csv_text(examples).encode())  # Excel reads UTF-8
        written.append(path)
        book = openpyxl.Workbook()
        book.remove(book.active)
        for title, rows in xlsx_rows(examples).items():
            sheet = book.create_sheet(title)
            for row in rows:
                sheet.append([value or None for value in row])
        path = target / f"{stem}.xlsx"
        book.save(path)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write(Path(sys.argv[1]) if len(sys.argv) > 1 else TARGET):
        print(path)
