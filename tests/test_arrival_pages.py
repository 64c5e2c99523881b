"""The arrival and group-approval pages: upload a manifest and read its report, decide a group
at once; in the caller's language, with no identity on the pages."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.kit.context import AppContext
from tests.factories import Actors
from tests.manifests import arrival, csv_bytes, imported, person
from tests.web import get, post, visible_text, web_login


def test_a_manifest_uploaded_on_the_page_answers_with_its_report(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    worker = actors.worker("KEMLU")
    made = arrival(client, worker)
    web = web_login(context, worker)
    content = csv_bytes([person(0), person(1, jenis_kelamin="x")])
    client.cookies.clear()
    answer = client.post(
        f"/arrivals/{made['id']}/manifest", headers=web.headers, data={"csrf": web.csrf},
        files={"file": ("m.csv", content)}, follow_redirects=False,
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    text = visible_text(answer.text)
    assert "2 baris: 1 kasus dibuat, 0 sudah diimpor, 1 ditolak." in text
    assert "jenis_kelamin" in text and "Orang Ke" not in text  # no identity on the report
    page = get(client, web, f"/arrivals/{made['id']}")
    assert page.status_code == 200 and "NRM-" in page.text and "Orang Ke" not in page.text
    refused = client.post(
        f"/arrivals/{made['id']}/manifest", headers=web.headers, data={"csrf": web.csrf},
        files={"file": ("m.pdf", b"%PDF\xff\xfe")}, follow_redirects=False,
    )  # fmt: skip
    assert refused.status_code == 422
    assert "tidak dapat diimpor sebagai manifes" in visible_text(refused.text)


def test_a_supervisor_decides_a_group_once_on_its_page(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    worker, supervisor = actors.worker("KEMLU"), actors.supervisor("KEMLU")
    made, ids = imported(client, worker, 2)
    body = {"arrival_id": made["id"], "trigger": "begin_screening_abroad",
            "payload": {"mission": "KBRI Yangon"}}  # fmt: skip
    assert (
        client.post("/api/v1/group-transitions", json=body, headers=worker.headers).json()["moved"]
        == 2
    )
    body = {"case_ids": ids, "trigger": "identify", "payload": {"indicators": ["exploitation"]}}
    group = client.post("/api/v1/group-transitions", json=body, headers=worker.headers).json()
    web = web_login(context, supervisor)
    listed = get(client, web, "/group-approvals")
    assert f"/group-approvals/{group['id']}" in listed.text
    empty = post(client, web, f"/group-approvals/{group['id']}/approve", {"reason": ""})
    assert empty.status_code == 422
    done = post(client, web, f"/group-approvals/{group['id']}/approve", {"reason": "checked"})
    assert done.status_code == 200, done.text
    assert "2 disetujui, 0 ditolak, 0 tidak dapat diproses." in visible_text(done.text)
    page = get(client, web, f"/group-approvals/{group['id']}")
    assert page.status_code == 200 and "disetujui" in visible_text(page.text)
