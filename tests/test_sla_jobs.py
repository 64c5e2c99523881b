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
