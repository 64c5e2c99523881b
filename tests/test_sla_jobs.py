"""The demo's queues after its SLA sweep (the sweep as a running job is in test_jobs.py)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.demo.service import DEMO_PASSWORD, load_demo
from service.kit.context import AppContext


def _login(client: TestClient, username: str) -> dict[str, str]:
    response = client.post(
        "/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_the_demo_has_overdue_escalated_and_assigned_cases(
    client: TestClient, context: AppContext
) -> None:
    assert "demo data loaded" in load_demo(context)
    supervisor = _login(client, "kemenpppa.supervisor")
    queue = client.get("/api/v1/queues/KEMENPPPA", params={"overdue": True}, headers=supervisor)
    assert queue.status_code == 200 and queue.json()["items"]
    escalated = client.get(
        "/api/v1/escalations", headers=_login(client, "gugus_tugas.worker")
    ).json()["items"]
    assert escalated and {item["sla"] for item in escalated} == {"escalated"}
    breached = client.get("/api/v1/escalations", params={"level": "breached"}, headers=supervisor)
    assert breached.status_code == 200
    mine = client.get("/api/v1/me/cases", headers=_login(client, "kemensos.worker")).json()
    assert {item["sla"] for item in mine["items"]} >= {"warning"}
    kemenkes = client.get(
        "/api/v1/escalations", headers=_login(client, "kemenkes.supervisor")
    ).json()["items"]
    assert [item["state"] for item in kemenkes] == ["emergency_care"]


def test_the_demo_walks_kepri_to_ntt_with_a_refusal_and_climbs_the_ladder_in_kupang(
    client: TestClient, context: AppContext
) -> None:
    load_demo(context)
    auditor = _login(client, "auditor")
    city = _login(client, "pemda.kotakupang.worker")
    queue = client.get("/api/v1/units/PEMDA-53.71/queue", headers=city).json()["items"]
    journey = [item for item in queue if item["phase"] == "reintegration"]
    assert journey, "the Batam case ends with Kota Kupang's unit"
    history = client.get(f"/api/v1/cases/{journey[0]['id']}/history", headers=auditor).json()
    kinds = [event["kind"] for event in history["items"]]
    assert kinds.count("transfer_accepted") >= 4 and "transfer_declined" in kinds
    assert "transfer_rerouted" in kinds
    named = client.get(f"/api/v1/cases/{journey[0]['id']}", headers=city).json()["victim"]
    assert named["identity_visible"] is True and named["full_name"] == "Yuliana Mbaru"
    regency = _login(client, "pemda.kabkupang.worker")  # declined it: another district
    seen = client.get(f"/api/v1/cases/{journey[0]['id']}", headers=regency)
    assert seen.status_code == 200 and seen.json()["victim"]["full_name"] is None
    assert "Yuliana" not in seen.text and seen.json()["victim"]["pseudonym"]
    for task_force in ("gugus.kotakupang.worker", "gugus.ntt.worker"):
        listed = client.get("/api/v1/escalations", headers=_login(client, task_force))
        assert listed.json()["items"], task_force
        assert "Fransiska" not in listed.text  # the ladder's case: without the name
    assert (
        client.get("/api/v1/escalations", headers=_login(client, "gugus.kepri.worker")).json()[
            "items"
        ]
        == []
    )
    incoming = client.get(
        "/api/v1/units/PEMDA-21.71/incoming", headers=_login(client, "pemda.batam.worker")
    ).json()["items"]
    assert len(incoming) == 1 and incoming[0]["transfer_to"] == "PEMDA-21.71"


def test_the_demo_has_a_version_3_victim_in_a_shelter_in_treatment_and_asking_lpsk_at_once(
    client: TestClient, context: AppContext
) -> None:
    load_demo(context)
    kemenkes, lpsk = _login(client, "kemenkes.worker"), _login(client, "lpsk.worker")
    treated = client.get("/api/v1/services/queue", headers=kemenkes).json()["items"]
    [case_id] = {item["case_id"] for item in treated}
    services = client.get(f"/api/v1/cases/{case_id}/services", headers=lpsk).json()["items"]
    assert {s["kind"]: s["status"] for s in services} == {
        "health": "started", "shelter": "started", "psychosocial": "started",
        "lpsk_protection": "requested",
    }  # fmt: skip
    assert len({s["start_due_at"] for s in services}) == 4  # each its own clock
    assert {s["unit"] for s in services} >= {"KEMENSOS-21", "PEMDA-21", "LPSK-NASIONAL"}
    case = client.get(f"/api/v1/cases/{case_id}", headers=lpsk).json()
    assert case["workflow_version"] == 3 and case["state"] == "in_services"
    assert case["lawful_basis"] == "consent" and case["sla"] == "on_track"
    assert {s["lawful_basis"] for s in services} == {"vital_interest", "consent"}
