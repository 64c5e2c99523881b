"""Bulk intake: an arrival's manifest (CSV and XLSX) becomes cases, each row through the single
intake; a per-row report; re-uploads and crashes make no second case; bad files refused whole."""

from __future__ import annotations

import io
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, col, select

from service.arrivals import intake
from service.cases import service as cases
from service.kit.errors import ManifestTooLarge
from service.models import CaseFile, ManifestRow, Victim
from tests.factories import Actors
from tests.manifests import HEADER, arrival, csv_bytes, imported, person, upload, xlsx_bytes


def count(session: Session, table: Any) -> int:
    return session.exec(select(func.count()).select_from(table)).one()


def rows_of(session: Session, arrival_id: str) -> int:
    statement = select(func.count()).where(
        col(ManifestRow.arrival_id) == uuid.UUID(arrival_id), col(ManifestRow.case_id).isnot(None)
    )
    return session.exec(statement).one()


def test_a_csv_manifest_becomes_cases_through_the_single_intake(
    client: TestClient, actors: Actors, session: Session
) -> None:
    worker = actors.worker("KEMLU")
    made = arrival(client, worker)
    people = [person(i) for i in range(5)]
    response = upload(client, worker, made["id"], csv_bytes(people, bom=True))
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["rows_total"], report["created"], report["refused"]) == (5, 5, 0)
    assert [r["row"] for r in report["results"]] == [2, 3, 4, 5, 6]
    assert all(r["warnings"] == [] for r in report["results"])
    case = client.get(f"/api/v1/cases/{report['results'][0]['case_id']}", headers=worker.headers)
    assert case.json()["victim"]["full_name"] == "Orang Ke 0"
    assert case.json()["victim"]["sex"] == "female"  # "perempuan" in the manifest
    assert (case.json()["state"], case.json()["version"]) == ("referred", 1)
    history = client.get(f"/api/v1/cases/{case.json()['id']}/history", headers=worker.headers)
    assert [e["kind"] for e in history.json()["items"]] == ["created"]
    assert (
        client.get(f"/api/v1/arrivals/{made['id']}", headers=worker.headers).json()[
            "cases_imported"
        ]
        == 5
    )
    assert rows_of(session, made["id"]) == 5


def test_an_xlsx_manifest_with_english_headers_and_dates_as_dates(
    client: TestClient, actors: Actors
) -> None:
    from datetime import date

    worker = actors.worker("KEMLU")
    made = arrival(client, worker)
    header = ["victim.full_name", "victim.sex", "victim.birth_date", "victim.nationality",
              "referral.channel", "victim.presumed_child"]  # fmt: skip
    rows: list[dict[str, Any]] = [
        {"victim.full_name": "Yohanes Bria", "victim.sex": "male",
         "victim.birth_date": date(2009, 5, 1), "victim.nationality": "id",
         "referral.channel": "embassy"},
        {"victim.full_name": "Maria Seran", "victim.sex": "P", "victim.nationality": "ID",
         "referral.channel": "police", "victim.presumed_child": "ya"},
    ]  # fmt: skip
    response = upload(client, worker, made["id"], xlsx_bytes(rows, header), "manifest.xlsx")
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 2
    first = response.json()["results"][0]["case_id"]
    case = client.get(f"/api/v1/cases/{first}", headers=worker.headers).json()
    assert case["victim"]["birth_date"] == "2009-05-01" and case["victim"]["is_child"]


def test_a_semicolon_csv_as_excel_writes_it_in_an_indonesian_locale(
    client: TestClient, actors: Actors
) -> None:
    worker = actors.worker("KEMLU")
    made = arrival(client, worker)
    text = "nama_lengkap;jenis_kelamin;perkiraan_usia;kewarganegaraan;saluran_rujukan\r\n"
    text += "Ani;perempuan;16;ID;embassy\r\n"
    response = upload(client, worker, made["id"], text.encode())
    assert response.json()["created"] == 1, response.text


def test_each_invalid_row_is_reported_by_row_and_column_and_stores_nothing(
    client: TestClient, actors: Actors, session: Session
) -> None:
    worker = actors.worker("KEMLU")
    made = arrival(client, worker)
    before = (count(session, CaseFile), count(session, Victim))
    people = [
        person(0),
        person(1, tanggal_lahir="2090-01-01"),  # in the future
        person(2, jenis_kelamin="x"),
        person(3, nama_lengkap='=HYPERLINK("http://x")'),  # a formula: CSV injection
        person(4, telepon="+62 812-3456-7890"),  # a number with a sign is no formula
        person(5, tanggal_lahir="", perkiraan_usia=""),  # no age at all
        person(6, jenis_dokumen="nik", nomor_dokumen="123"),
    ]
    report = upload(client, worker, made["id"], csv_bytes(people)).json()
    assert (report["created"], report["refused"], report["rows_total"]) == (2, 5, 7)
    by_row = {p["row"]: p for p in report["problems"]}
    assert by_row[3]["column"] == "tanggal_lahir"
    assert by_row[4]["column"] == "jenis_kelamin"
    assert by_row[5]["column"] == "nama_lengkap" and "formula" in by_row[5]["message"]
    assert by_row[7]["column"] is None and "birth_date" in by_row[7]["message"]
    assert by_row[8]["column"] == "nomor_dokumen" and "16 digits" in by_row[8]["message"]
    assert [r["row"] for r in report["results"]] == [2, 6]
    assert (count(session, CaseFile), count(session, Victim)) == (before[0] + 2, before[1] + 2)
    assert rows_of(session, made["id"]) == 2


def test_uploading_the_same_manifest_again_makes_no_second_case(
    client: TestClient, actors: Actors, session: Session
) -> None:
    worker = actors.worker("KEMLU")
    made = arrival(client, worker)
    content = xlsx_bytes([person(i) for i in range(4)])
    first = upload(client, worker, made["id"], content, "m.xlsx").json()
    before = count(session, CaseFile)
    second = upload(client, worker, made["id"], content, "m.xlsx").json()
    assert (second["created"], second["already_imported"]) == (0, 4)
    assert [r["case_id"] for r in second["results"]] == [r["case_id"] for r in first["results"]]
    assert count(session, CaseFile) == before
    grown = upload(client, worker, made["id"], csv_bytes([person(i) for i in range(6)])).json()
    assert (grown["created"], grown["already_imported"]) == (2, 4)  # CSV or XLSX: the same rows
    elsewhere = arrival(client, worker, operation_name="another flight")
    assert upload(client, worker, elsewhere["id"], content, "m.xlsx").json()["created"] == 4


def test_after_a_crash_midway_the_upload_again_completes_without_doubles(
    client: TestClient, actors: Actors, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = actors.worker("KEMLU")
    made = arrival(client, worker)
    content = csv_bytes([person(i) for i in range(5)])
    monkeypatch.setattr(intake, "BATCH_ROWS", 2)
    real, calls = cases.register_case, [0]

    def crashes_on_the_fourth(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == 4:
            raise RuntimeError("the worker died")
        return real(*args, **kwargs)

    monkeypatch.setattr(cases, "register_case", crashes_on_the_fourth)
    crashed = upload(client, worker, made["id"], content)
    assert (crashed.status_code, crashed.json()["code"]) == (500, "internal_error")
    assert rows_of(session, made["id"]) == 2  # the first batch committed; the second did not
    monkeypatch.setattr(cases, "register_case", real)
    again = upload(client, worker, made["id"], content).json()
    assert (again["created"], again["already_imported"]) == (3, 2)
    assert rows_of(session, made["id"]) == 5


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"%PDF-1.7 \x00\x01\x02\xff\xfe", "not a CSV"),
        (b"PK\x03\x04 this is no zip", "not a CSV or XLSX"),
        (b"nama_lengkap,jenis_kelamin,umur,kewarganegaraan,saluran_rujukan\r\n",
         "'umur': unknown column"),
        (b"nama_lengkap,kewarganegaraan\r\nAni,ID\r\n", "missing required column(s): "
         "jenis_kelamin, saluran_rujukan"),
        (b"nama_lengkap,nama_lengkap,jenis_kelamin,kewarganegaraan,saluran_rujukan\r\n",
         "given twice"),
        ("nama_lengkap,jenis_kelamin,kewarganegaraan,saluran_rujukan\r\nBudi,L,ID,police\r\n"
         .encode("utf-16"), "not a CSV"),
    ],
)  # fmt: skip
def test_a_file_that_is_not_a_manifest_is_refused_whole(
    client: TestClient, actors: Actors, session: Session, content: bytes, message: str
) -> None:
    worker = actors.worker("KEMLU")
    made = arrival(client, worker)
    before = count(session, CaseFile)
    response = upload(client, worker, made["id"], content, "manifest.csv")
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "manifest_unreadable"
    assert message in response.json()["detail"]
    assert count(session, CaseFile) == before


def test_an_xlsx_with_a_formula_cell_refuses_that_row(client: TestClient, actors: Actors) -> None:
    worker = actors.worker("KEMLU")
    made = arrival(client, worker)
    rows = [person(0), person(1, kabupaten_kota_asal="=1+2"), person(2, alamat="@SUM(A1)")]
    report = upload(client, worker, made["id"], xlsx_bytes(rows), "m.xlsx").json()
    assert (report["created"], report["refused"]) == (1, 2)
    assert {p["column"] for p in report["problems"]} == {"kabupaten_kota_asal", "alamat"}


def test_ten_thousand_bad_rows_get_a_capped_report_with_totals_and_store_nothing(
    client: TestClient, actors: Actors, session: Session
) -> None:
    worker = actors.worker("KEMLU")
    made = arrival(client, worker)
    bad = person(0, jenis_kelamin="tidak tahu", alamat="Jalan " + "panjang " * 12)
    content = csv_bytes([bad] * 10_000)
    assert len(content) > 1_048_576  # more than any other request body may be
    before = count(session, CaseFile)
    response = upload(client, worker, made["id"], content)
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["rows_total"], report["refused"], report["created"]) == (10_000, 10_000, 0)
    assert (report["problems_total"], len(report["problems"])) == (10_000, intake.MAX_REPORTED)
    assert report["problems_truncated"] is True
    assert count(session, CaseFile) == before


def test_a_manifest_over_its_limit_is_refused_before_it_is_read(
    client: TestClient, actors: Actors
) -> None:
    worker = actors.worker("KEMLU")
    made = arrival(client, worker)
    huge = b"nama_lengkap\r\n" + b"x" * (10 * 1024 * 1024)
    response = upload(client, worker, made["id"], huge)
    assert (response.status_code, response.json()["code"]) == (413, "body_too_large")
    with pytest.raises(ManifestTooLarge):
        intake.import_manifest(
            lambda use_case: None, made["id"], io.BytesIO(b""), 2048, max_bytes=1024, endpoint=""
        )


def test_only_case_workers_and_supervisors_import_and_only_into_an_arrival_that_exists(
    client: TestClient, actors: Actors
) -> None:
    worker = actors.worker("KEMLU")
    made = arrival(client, worker)
    content = csv_bytes([person(0)])
    assert upload(client, actors.auditor(), made["id"], content).status_code == 403
    assert upload(client, actors.admin(), made["id"], content).status_code == 403
    assert upload(client, worker, str(uuid.uuid4()), content).status_code == 404
    assert upload(client, worker, "nope", content).status_code == 404


def test_an_arrival_lists_only_the_cases_the_caller_may_see(
    client: TestClient, actors: Actors
) -> None:
    worker = actors.worker("KEMLU")
    made, ids = imported(client, worker, 3)
    mine = client.get(f"/api/v1/arrivals/{made['id']}/cases?limit=2", headers=worker.headers)
    assert mine.status_code == 200
    page = mine.json()
    rest = client.get(
        f"/api/v1/arrivals/{made['id']}/cases?limit=2&cursor={page['next_cursor']}",
        headers=worker.headers,
    ).json()
    assert sorted(c["id"] for c in page["items"] + rest["items"]) == sorted(ids)
    assert "victim" not in page["items"][0]
    outsider = actors.worker("KEMNAKER")
    theirs = client.get(f"/api/v1/arrivals/{made['id']}/cases", headers=outsider.headers)
    assert theirs.json()["items"] == []
    auditor = client.get(f"/api/v1/arrivals/{made['id']}/cases", headers=actors.auditor().headers)
    assert len(auditor.json()["items"]) == 3
    listed = client.get("/api/v1/arrivals", headers=outsider.headers).json()["items"]
    assert made["id"] in [a["id"] for a in listed]


def test_an_arrival_is_validated_like_any_input(client: TestClient, actors: Actors) -> None:
    worker = actors.worker("KEMLU")
    bad = client.post(
        "/api/v1/arrivals",
        json={"arrival_date": "2999-01-01", "place": "", "source_country": "XX",
              "operation_name": "x"},
        headers=worker.headers,
    )  # fmt: skip
    assert bad.status_code == 422
    fields = {tuple(e["loc"][1:]) for e in bad.json()["detail"]}
    assert fields == {("arrival_date",), ("place",), ("source_country",)}
    wrong_unit = client.post(
        "/api/v1/arrivals",
        json={"arrival_date": "2025-03-18", "place": "Tanjung Priok", "source_country": "KH",
              "operation_name": "x", "unit": "NO-SUCH-UNIT"},
        headers=worker.headers,
    )  # fmt: skip
    assert (wrong_unit.status_code, wrong_unit.json()["code"]) == (422, "invalid")
    assert client.get(f"/api/v1/arrivals/{uuid.uuid4()}", headers=worker.headers).status_code == 404
    assert client.get("/api/v1/arrivals", headers=actors.admin().headers).status_code == 403
    assert HEADER[0] == "nama_lengkap"


def test_a_row_claimed_meanwhile_by_another_upload_rolls_its_own_case_back(
    client: TestClient, actors: Actors, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.arrivals import repository

    worker = actors.worker("KEMLU")
    made = arrival(client, worker)
    content = csv_bytes([person(i) for i in range(3)])
    first = upload(client, worker, made["id"], content).json()
    before = (count(session, CaseFile), count(session, Victim))
    monkeypatch.setattr(repository, "imported_cases", lambda *args: {})  # as if not yet seen
    second = upload(client, worker, made["id"], content).json()
    assert (second["created"], second["already_imported"]) == (0, 3)
    assert [r["case_id"] for r in second["results"]] == [r["case_id"] for r in first["results"]]
    assert (count(session, CaseFile), count(session, Victim)) == before


def test_a_row_whose_passport_was_already_referred_is_imported_with_a_duplicate_warning(
    client: TestClient, actors: Actors
) -> None:
    """Duplicate detection is the single intake's: the second referral of one passport (a
    spelling variant of the name, another wave) is imported and flagged, never refused."""
    worker = actors.worker("KEMLU")
    first = arrival(client, worker, operation_name="gelombang 1")
    second = arrival(client, worker, operation_name="gelombang 2")
    document = {"jenis_dokumen": "passport", "nomor_dokumen": "C 1234567"}
    one = upload(client, worker, first["id"],
                 csv_bytes([person(1, nama_lengkap="Joko Susilo", **document)]))  # fmt: skip
    assert one.status_code == 200, one.text
    again = upload(client, worker, second["id"],
                   csv_bytes([person(1, nama_lengkap="Djoko Soesilo", **document)]))  # fmt: skip
    assert again.status_code == 200, again.text
    [row] = again.json()["results"]
    assert row["outcome"] == "created"
    [warning] = row["warnings"]
    assert warning["kind"] == "possible_duplicate" and warning["basis"] == "document"
    assert warning["case_id"] == one.json()["results"][0]["case_id"]
