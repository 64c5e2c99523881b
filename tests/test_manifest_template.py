"""The manifest templates in docs/templates/ are what `python -m service.arrivals.template`
writes from the column list, and the filled example imports cleanly (CSV and XLSX)."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient

from service.arrivals import template
from tests.factories import Actors
from tests.manifests import arrival, upload
from tests.test_cli import cli_env, nrm_here  # noqa: F401  (a fixture, and the in-process CLI)


def test_the_templates_in_the_repository_follow_the_column_list() -> None:
    for examples, stem in ((False, "manifest"), (True, "manifest-example")):
        csv_file = template.TARGET / f"{stem}.csv"
        assert csv_file.read_bytes() == b"\xef\xbb\xbf" + template.csv_text(examples).encode(), (
            "run python -m service.arrivals.template"
        )
        book = openpyxl.load_workbook(template.TARGET / f"{stem}.xlsx", read_only=True)
        for title, rows in template.xlsx_rows(examples).items():
            found = [[v or "" for v in row] for row in book[title].iter_rows(values_only=True)]
            assert found == rows, "run python -m service.arrivals.template"


@pytest.mark.parametrize("name", ["manifest-example.csv", "manifest-example.xlsx"])
def test_the_filled_example_imports_without_a_refusal(
    client: TestClient, actors: Actors, name: str
) -> None:
    worker = actors.worker("KEMLU")
    made = arrival(client, worker)
    report = upload(client, worker, made["id"], (template.TARGET / name).read_bytes(), name)
    assert report.status_code == 200, report.text
    assert (report.json()["created"], report.json()["refused"]) == (3, 0), report.text


def test_the_command_line_imports_a_manifest_as_a_named_user(
    cli_env: dict[str, str],  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
) -> None:
    assert nrm_here(cli_env, "db", "upgrade")[0] == 0
    made = nrm_here(
        cli_env,
        "users",
        "add",
        "petugas.kemlu",
        "--role",
        "case_worker",
        "--ministry",
        "KEMLU",
        "--password-stdin",
        stdin="a long enough passphrase\n",
    )
    assert made[0] == 0, made
    code, out, err = nrm_here(cli_env, "arrivals", "add", "--date", "2025-03-18", "--place",
                              "Bandara Soekarno-Hatta", "--from", "MM", "--operation",
                              "Myawaddy 2", "--as", "petugas.kemlu")  # fmt: skip
    assert code == 0, out + err
    arrival_id = out.strip().splitlines()[-1]
    report = tmp_path / "report.json"
    args = ["cases", "import", str(template.TARGET / "manifest-example.xlsx"), "--arrival",
            arrival_id, "--as", "petugas.kemlu", "--report", str(report)]  # fmt: skip
    code, out, err = nrm_here(cli_env, *args)
    assert code == 0, out + err
    assert "3 rows: 3 cases created, 0 already imported, 0 refused" in err  # rich: stderr
    assert json.loads(report.read_text())["created"] == 3
    code, out, err = nrm_here(cli_env, *args)
    assert code == 0 and "3 rows: 0 cases created, 3 already imported" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("nama_lengkap,jenis_kelamin,kewarganegaraan,saluran_rujukan\nAni,x,ID,police\n")
    code, out, err = nrm_here(cli_env, "cases", "import", str(bad), "--arrival", arrival_id,
                              "--as", "petugas.kemlu")  # fmt: skip
    assert code == 1 and "row 2, jenis_kelamin" in err
    code, out, err = nrm_here(cli_env, *args[:5], "--as", "nobody")
    assert code == 1 and "no active user" in out + err
