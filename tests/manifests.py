"""Manifests for tests: arrivals, people as manifest rows, CSV and XLSX files, uploads."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
from fastapi.testclient import TestClient
from httpx2 import Response

from service.arrivals.manifest import COLUMNS
from tests.factories import User

HEADER = [c.header for c in COLUMNS]


def arrival(client: TestClient, user: User, **fields: Any) -> dict[str, Any]:
    body = {
        "arrival_date": "2025-03-18",
        "place": "Bandara Soekarno-Hatta",
        "source_country": "MM",
        "operation_name": "Myawaddy gelombang 2",
        **fields,
    }
    response = client.post("/api/v1/arrivals", json=body, headers=user.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def person(index: int, **cells: str) -> dict[str, str]:
    """A returnee as a manifest row, Indonesian headers; `cells` override."""
    return {
        "nama_lengkap": f"Orang Ke {index}",
        "jenis_kelamin": "laki-laki" if index % 2 else "perempuan",
        "tanggal_lahir": f"{1990 + index % 15}-0{1 + index % 9}-1{index % 9}",
        "kewarganegaraan": "ID",
        "provinsi_asal": "Nusa Tenggara Timur",
        "saluran_rujukan": "embassy",
        "negara_eksploitasi": "MM",
        "jenis_eksploitasi": "forced_criminality",
        **cells,
    }


def csv_bytes(
    rows: list[dict[str, str]], header: list[str] | None = None, *, bom: bool = False
) -> bytes:
    header = header or HEADER
    lines = [",".join(header)] + [",".join(_quoted(r.get(h, "")) for h in header) for r in rows]
    return (b"\xef\xbb\xbf" if bom else b"") + ("\r\n".join(lines) + "\r\n").encode()


def _quoted(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if ("," in value or '"' in value) else value


def xlsx_bytes(rows: list[dict[str, Any]], header: list[str] | None = None) -> bytes:
    header = header or HEADER
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(h) for h in header])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(
    client: TestClient, user: User, arrival_id: str, content: bytes, name: str = "manifest.csv"
) -> Response:
    return client.post(
        f"/api/v1/arrivals/{arrival_id}/manifest",
        files={"file": (name, content)},
        headers=user.headers,
    )


def imported(client: TestClient, user: User, count: int) -> tuple[dict[str, Any], list[str]]:
    """An arrival of `user`'s with `count` people imported: (arrival, case ids)."""
    made = arrival(client, user)
    response = upload(client, user, made["id"], csv_bytes([person(i) for i in range(count)]))
    assert response.status_code == 200, response.text
    assert response.json()["created"] == count
    return made, [r["case_id"] for r in response.json()["results"]]
