"""The arrival and group-approval pages: upload a manifest and read its report, decide a group
at once; in the caller's language, with no identity on the pages."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from service.kit.context import AppContext
from tests.factories import Actors, intake_body, register
from tests.factories import fire as fire_one
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


def test_a_case_worker_fires_a_group_transition_from_the_arrival_page(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    worker = actors.worker("KEMLU")
    made, ids = imported(client, worker, 3)
    state = client.get(f"/api/v1/cases/{ids[0]}", headers=worker.headers).json()["state"]
    web = web_login(context, worker)
    page = get(client, web, f"/arrivals/{made['id']}")
    assert f'action="/arrivals/{made["id"]}/group"' in page.text and f'value="{state}"' in page.text
    form = get(client, web, f"/arrivals/{made['id']}/group?state={state}")
    assert form.status_code == 200 and form.text.count('name="case_id"') >= 3
    assert 'value="begin_screening_abroad"' in form.text and 'name="payload.mission"' in form.text
    assert "Orang Ke" not in form.text  # references only, no identity
    url = f"/arrivals/{made['id']}/group"
    fields = {"state": state, "trigger": "begin_screening_abroad", "form_key": "k1"}
    fields |= {f"version.{i}": "1" for i in ids}  # what the page showed

    def fire(**more: object) -> Any:
        client.cookies.clear()
        data = {"csrf": web.csrf, **fields, **more}
        return client.post(url, headers=web.headers, data=data, follow_redirects=False)

    assert fire(case_id=ids[:2]).status_code == 422  # the schema's required mission
    assert fire().status_code == 422  # no case chosen
    for case_id in ids:  # nothing moved by a refused form
        assert client.get(f"/api/v1/cases/{case_id}", headers=worker.headers).json()["version"] == 1
    elsewhere = actors.worker("PEMDA")
    outsider = register(client, elsewhere, intake_body())
    assert fire_one(client, elsewhere, outsider, "begin_screening", {}).status_code == 200
    assert client.get(f"/api/v1/cases/{outsider['id']}", headers=worker.headers).status_code == 404
    done = fire(case_id=[*ids[:2], outsider["id"]], **{"payload.mission": "KBRI Yangon"})
    assert done.status_code == 200, done.text
    text = visible_text(done.text)
    assert "2 dipindahkan, 0 menunggu persetujuan, 1 ditolak." in text
    assert "kasus yang tidak dapat Anda lihat" in text and outsider["id"] not in done.text
    assert outsider["reference"] not in text
    states = [client.get(f"/api/v1/cases/{i}", headers=worker.headers).json()["state"] for i in ids]
    assert states == ["screening_abroad", "screening_abroad", state]
    again = fire(case_id=[*ids[:2], outsider["id"]], **{"payload.mission": "KBRI Yangon"})
    assert "2 dipindahkan, 0 menunggu persetujuan, 1 ditolak." in visible_text(again.text)

    asked = post(client, web, url, {
        "state": "screening_abroad", "trigger": "identify", "form_key": "k2",
        "case_id": ids[:2], "payload.indicators": ["exploitation"],
    })  # fmt: skip
    assert asked.status_code == 200, asked.text
    assert "0 dipindahkan, 2 menunggu persetujuan, 0 ditolak." in visible_text(asked.text)
    linked = set(re.findall(r'href="/group-approvals/([0-9a-f-]{36})"', asked.text))
    assert len(linked) == 1
    group = client.get(f"/api/v1/group-approvals/{linked.pop()}", headers=worker.headers).json()
    assert (group["pending"], group["trigger"]) == (2, "identify")
