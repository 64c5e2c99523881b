"""Bulk intake: an arrival's manifest (CSV and XLSX) becomes cases, each row through the single
intake; a per-row report; re-uploads and crashes make no second case; bad files refused whole."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, col, select

from service.arrivals import intake
from service.arrivals.manifest import COLUMNS
from service.models import CaseFile, ManifestRow, Victim
from tests.factories import Actors, User

HEADER = [c.header for c in COLUMNS]


def arrival(client: TestClient, user: User, **fields: Any) -> dict[str, Any]:
    body = {"arrival_date": "2025-03-18", "place": "Bandara Soekarno-Hatta",
            "source_country": "MM", "operation_name": "Myawaddy gelombang 2", **fields}  # fmt: skip
    response = client.post("/api/v1/arrivals", json=body, headers=user.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def person(index: int, **cells: str) -> dict[str, str]:
    row = {"nama_lengkap": f"Orang Ke {index}", "jenis_kelamin": "laki-laki" if index % 2 else "perempuan",
           "tanggal_lahir": f"{1990 + index % 15}-0{1 + index % 9}-1{index % 9}",
           "kewarganegaraan": "ID", "provinsi_asal": "Nusa Tenggara Timur",
           "saluran_rujukan": "embassy", "negara_eksploitasi": "MM",
           "jenis_eksploitasi": "forced_criminality", **cells}  # fmt: skip
    return row


def csv_bytes(
    rows: list[dict[str, str]], header: list[str] | None = None, bom: bool = False
) -> bytes:
    header = header or HEADER
    lines = [",".join(header)] + [",".join(_quoted(r.get(h, "")) for h in header) for r in rows]
    text = "\r\n".join(lines) + "\r\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode()


def _quoted(value: str) -> str:
    return f'"{value}"' if "," in value else value


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
    client: TestClient, user: User, arrival_id: str, content: bytes, name: str = "m.csv"
) -> Any:
    return client.post(
        f"/api/v1/arrivals/{arrival_id}/manifest", files={"file": (name, content)},
        headers=user.headers,
    )  # fmt: skip


def cases_of(session: Session, arrival_id: str) -> int:
    import uuid

    statement = (
        select(func.count())
        .select_from(ManifestRow)
        .where(
            col(ManifestRow.arrival_id) == uuid.UUID(arrival_id),
            col(ManifestRow.case_id).isnot(None),
        )
    )
    return session.exec(statement).one()


def test_a_csv_manifest_becomes_cases_through_the_single_intake(
    client: TestClient, actors: Actors, session: Session
) -> None:
    worker = actors.worker("KEMLU")
    made = arrival(client, worker)
    response = upload(
        client, worker, made["id"], csv_bytes([person(i) for i in range(5)], bom=True)
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["rows_total"], report["created"], report["refused"]) == (5, 5, 0)
    assert [r["row"] for r in report["results"]] == [2, 3, 4, 5, 6]
    assert all(r["warnings"] == [] for r in report["results"])
    case = client.get(f"/api/v1/cases/{report['results'][0]['case_id']}", headers=worker.headers)
    assert case.json()["victim"]["full_name"] == "Orang Ke 0"
    assert case.json()["state"] == "referred"
    assert (
        client.get(f"/api/v1/arrivals/{made['id']}", headers=worker.headers).json()[
            "cases_imported"
        ]
        == 5
    )
