"""Factories: users with tokens, intake bodies, sample payloads, and walks through the workflow."""

from __future__ import annotations

import contextlib
import copy
import itertools
import threading
from collections import deque
from dataclasses import dataclass
from functools import cache
from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response  # what starlette's TestClient answers with

from service.auth.security import hash_password
from service.auth.service import open_session
from service.cases import firing, transition_core
from service.kit import capacity
from service.kit.context import AppContext
from service.models import UserAccount, utcnow
from service.units.repository import national as national_unit
from workflows import Definition, TransitionSpec
from workflows.registry import DEFAULT_WORKFLOW

PASSWORD = "correct horse battery staple"
ALL_MINISTRIES = [
    "KEMENPPPA", "KEMENSOS", "KEMENKES", "KEMLU", "KP2MI", "POLRI", "IMIGRASI", "LPSK",
    "KEMNAKER", "KEMENDAGRI", "PEMDA", "GUGUS_TUGAS",
]  # fmt: skip
_counter = itertools.count(1)


@cache
def password_hash() -> str:
    return hash_password(PASSWORD)


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    ministry: str | None
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Actors:
    """Users made on demand, one per (role, ministry) unless asked for another."""

    def __init__(self, client: TestClient, context: AppContext) -> None:
        self.client = client
        self.context = context
        self._cache: dict[tuple[str, str | None], User] = {}

    def make(self, role: str, ministry: str | None = None, username: str | None = None) -> User:
        name = username or f"{role}.{(ministry or 'all').lower()}.{next(_counter)}"
        with self.context.database.transaction() as session:
            unit = national_unit(session, ministry) if ministry else None
            account = UserAccount(
                username=name, password_hash=password_hash(), role=role, ministry=ministry,
                unit_id=unit.id if unit else None,
            )  # fmt: skip
            session.add(account)
            session.flush()
            assert account.id is not None
            user_id = account.id
            tokens = open_session(session, self.context, user_id, utcnow())
        return User(
            id=user_id, username=name, role=role, ministry=ministry, token=tokens.access_token
        )

    def get(self, role: str, ministry: str | None = None) -> User:
        key = (role, ministry)
        if key not in self._cache:
            self._cache[key] = self.make(role, ministry)
        return self._cache[key]

    def worker(self, ministry: str) -> User:
        return self.get("case_worker", ministry)

    def supervisor(self, ministry: str) -> User:
        return self.get("supervisor", ministry)

    def auditor(self) -> User:
        return self.get("auditor")

    def admin(self) -> User:
        return self.get("admin")


def intake_body(**victim: Any) -> dict[str, Any]:
    """The contract's example intake, with victim fields overridden."""
    body: dict[str, Any] = {
        "victim": {
            "full_name": "Siti Rahayu",
            "sex": "female",
            "birth_date": "2003-04-12",
            "nationality": "ID",
            "province_of_origin": "Nusa Tenggara Timur",
        },
        "referral": {
            "channel": "embassy",
            "country_of_exploitation": "MM",
            "exploitation_types": ["forced_criminality"],
        },
    }
    body["victim"].update(victim)
    return body


def child_body() -> dict[str, Any]:
    return intake_body(full_name="Dewi Lestari", birth_date="2012-02-03")


def foreign_body() -> dict[str, Any]:
    body = intake_body(full_name="Nguyen Thi Lan", nationality="VN", birth_date="1998-07-01")
    del body["victim"]["province_of_origin"]
    body["referral"] = {"channel": "police", "exploitation_types": ["forced_labour"]}
    return body


def consent(by: str = "victim", recipients: list[str] | None = None) -> dict[str, Any]:
    return {
        "by": by,
        "purposes": ["services", "data_sharing"],
        "recipients": recipients or ALL_MINISTRIES,
        "given_on": "2026-01-05",
    }


SAMPLE_PAYLOADS: dict[str, dict[str, Any]] = {
    "begin_screening": {"screening_unit": "UPTD PPA Kupang"},
    "begin_screening_abroad": {"mission": "KBRI Yangon"},
    "identify": {"indicators": ["deceptive_recruitment", "exploitation"]},
    "decide_not_identified": {"grounds": "no indicators of exploitation were found"},
    "request_reconsideration": {
        "new_information": "a co-worker's statement describes debt bondage"
    },
    "rescreen": {},
    "rescreen_abroad": {"mission": "KBRI Phnom Penh"},
    "close_not_victim": {"reason": "not_victim"},
    "record_consent": {"consent": consent()},
    "update_consent": {"consent": consent()},
    "decline_services": {"reason": "consent_withdrawn", "statement_ref": "ST-001"},
    "admit_to_shelter": {"shelter": "RPTC Bambu Apus"},
    "admit_to_emergency_care": {"facility": "RS Polri"},
    "begin_health_rehabilitation": {"facility": "RSUD Kupang"},
    "begin_social_rehabilitation": {"programme": "psychosocial support"},
    "depart": {"travel_date": "2026-02-01", "best_interest_assessed": True},
    "refer_abroad": {"mission": "KBRI Kuala Lumpur"},
    "hand_over_at_arrival": {"arrival_point": "Bandara Soekarno-Hatta", "arrived_on": "2026-02-02"},
    "hand_to_province": {"province": "Nusa Tenggara Timur"},
    "receive_at_port": {"arrival_point": "Pelabuhan Tanjung Priok", "arrived_on": "2026-02-02"},
    "record_immigration_detention": {
        "detention_centre": "Rudenim Kupang",
        "detained_on": "2026-01-03",
    },
    "release_from_detention": {"released_on": "2026-01-04"},
    "hand_to_district": {"district": "Kabupaten Kupang"},
    "reunite_with_family": {"placement": "family", "best_interest_assessed": True},
    "plan_reintegration": {"placement": "family", "best_interest_assessed": True},
    "prepare_foreign_return": {"embassy": "Embassy of Viet Nam, Jakarta"},
    "return_home_abroad": {"reason": "returned_abroad", "departed_on": "2026-03-01"},
    "complete_reintegration": {"services": ["family_support", "vocational_training"]},
    "withdraw_consent": {"by": "victim", "withdrawn_on": "2026-02-10"},
    "lose_contact": {"last_seen_on": "2026-02-10"},
    "record_death": {"reason": "deceased", "date_of_death": "2026-02-10"},
    "record_police_report": {"report_number": "LP/B/123/II/2026", "filed_on": "2026-01-20"},
    "record_lpsk_decision": {"decision": "protection_granted", "decided_on": "2026-01-25"},
    "record_restitution": {"status": "requested", "amount_idr": 50_000_000},
    # version 3
    "begin_emergency_care": {"grounds": "bleeding injuries; the victim is not able to consent"},
    "review_care_plan": {"reviewed_on": "2026-02-15", "summary": "shelter and counselling go on"},
    "resume_services": {"plan": "shelter and counselling again"},
    "leave_services": {"by": "victim", "left_on": "2026-02-10", "wishes": "goes to her sister"},
}
SAMPLE_BY_SOURCE: dict[tuple[str, str], dict[str, Any]] = {
    ("close", "monitoring"): {"reason": "reintegrated"},
    ("close", "consent_withdrawn"): {
        "reason": "consent_withdrawn",
        "case_conference_on": "2026-02-12",
        "signed_statement_ref": "SP-2026-014",
    },
    ("close", "contact_lost"): {
        "reason": "lost_contact",
        "tracing_summary": "family and police traced for 30 days",
    },
    ("reopen", "consent_withdrawn"): {
        "consent": consent(),
        "grounds": "the victim asked for help again",
    },
    ("reopen", "contact_lost"): {"grounds": "the victim called the SAPA 129 hotline"},
    ("close", "left_services"): {
        "reason": "left_services",
        "case_conference_on": "2026-02-12",
        "signed_statement_ref": "SP-2026-015",
    },
    ("reopen", "left_services"): {"grounds": "the victim asked for help again"},
    ("reopen", "monitoring"): {"grounds": "the recruiter contacted the victim again"},
}


def sample_payload(row: TransitionSpec, *, child: bool = False) -> dict[str, Any]:
    payload = copy.deepcopy(
        SAMPLE_BY_SOURCE.get((row.trigger, row.source)) or SAMPLE_PAYLOADS[row.trigger]
    )
    if child and "consent" in payload:
        payload["consent"]["by"] = "parent"
    if child and row.trigger in ("withdraw_consent", "leave_services"):
        payload["by"] = "parent"
    reasons = row.payload_schema.get("properties", {}).get("reason", {}).get("enum")
    if reasons and payload.get("reason") not in reasons:  # a later version renamed it
        payload["reason"] = reasons[0]
    return payload


def pin_workflow(monkeypatch: Any, context: AppContext, version: int) -> None:
    """New cases of nrm-indonesia take `version`, as if it were the latest published one."""
    registry = context.registry
    engine = registry.engine(DEFAULT_WORKFLOW, version)
    real_latest = registry.latest
    monkeypatch.setattr(
        registry, "latest", lambda name: engine if name == DEFAULT_WORKFLOW else real_latest(name)
    )


def path_to(definition: Definition, target: str) -> list[TransitionSpec]:
    """The shortest walk from the initial state to `target` (not counting in-place rows)."""
    previous: dict[str, TransitionSpec | None] = {definition.initial: None}
    queue = deque([definition.initial])
    while queue:
        state = queue.popleft()
        for row in definition.exits(state):
            if row.dest not in previous:
                previous[row.dest] = row
                queue.append(row.dest)
    steps: list[TransitionSpec] = []
    state = target
    while (step := previous[state]) is not None:
        steps.append(step)
        state = step.source
    return steps[::-1]


def fire(
    client: TestClient,
    user: User,
    case: dict[str, Any],
    trigger: str,
    payload: dict[str, Any] | None = None,
    *,
    version: int | None = None,
    key: str | None = None,
    **extra: Any,
) -> Response:
    headers = dict(user.headers)
    if key is not None:
        headers["Idempotency-Key"] = key
    body = {
        "trigger": trigger,
        "expected_version": case["version"] if version is None else version,
        "payload": payload if payload is not None else {},
        **extra,
    }
    return client.post(f"/api/v1/cases/{case['id']}/transitions", json=body, headers=headers)


def approve(client: TestClient, supervisor: User, pending: Response) -> Response:
    """Approve the request a 202 answered with."""
    approval_id = pending.json()["approval"]["id"]
    return client.post(
        f"/api/v1/approvals/{approval_id}/approve",
        json={"reason": "checked against the file"},
        headers=supervisor.headers,
    )


def fire_approved(
    client: TestClient,
    actors: Actors,
    user: User,
    case: dict[str, Any],
    trigger: str,
    payload: dict[str, Any] | None = None,
    **extra: Any,
) -> Response:
    """Fire; a sensitive trigger (202) is then approved by a supervisor of the same ministry."""
    response = fire(client, user, case, trigger, payload, **extra)
    if response.status_code != 202:
        return response
    assert user.ministry is not None
    return approve(client, actors.supervisor(user.ministry), response)


def register(client: TestClient, user: User, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = client.post("/api/v1/cases", json=body or intake_body(), headers=user.headers)
    assert response.status_code == 201, response.text
    case: dict[str, Any] = response.json()
    return case


def step(
    client: TestClient,
    actors: Actors,
    case: dict[str, Any],
    row: TransitionSpec,
    *,
    child: bool = False,
) -> dict[str, Any]:
    """Fire `row` as a worker of its first ministry, with its sample payload; return the case."""
    user = actors.worker(row.ministries[0])
    response = fire_approved(
        client, actors, user, case, row.trigger, sample_payload(row, child=child)
    )
    assert response.status_code == 200, (row.trigger, row.source, response.text)
    result: dict[str, Any] = response.json()
    return result


def step_with_consent(
    client: TestClient,
    actors: Actors,
    definition: Definition,
    case: dict[str, Any],
    row: TransitionSpec,
) -> dict[str, Any]:
    """Like `step`, first recording consent where a hand-over needs it and none was given yet
    (a case can reach reassessment through `contact_lost` before any consent was recorded)."""
    child = case["victim"]["is_child"]
    update = definition.transition("update_consent", row.source)
    recipient = definition.state(row.dest).ministry
    if (
        "consent_covers_recipient" in row.guards
        and recipient not in case["consent_recipients"]
        and update
    ):
        case = step(client, actors, case, update, child=child)
    return step(client, actors, case, row, child=child)


def race_after_reading(monkeypatch: Any, context: AppContext, clients: int) -> None:
    """PostgreSQL: hold each transition between its read and its write until `clients` have
    read, so that they all race on the compare-and-set. (SQLite queues writers before they read.)
    """
    if context.database.engine.dialect.name != "postgresql":
        return
    # as if each request came through another worker: a worker gives writes to one case turns
    monkeypatch.setattr(capacity, "_turn_of", lambda _key: contextlib.nullcontext())
    everyone_has_read = threading.Barrier(clients, timeout=10)
    real_check = transition_core.check

    def check_after_everyone_read(*args: Any, **kwargs: Any) -> Any:
        everyone_has_read.wait()
        return real_check(*args, **kwargs)

    monkeypatch.setattr(firing, "check", check_after_everyone_read)


def walk_to(
    client: TestClient,
    actors: Actors,
    definition: Definition,
    target: str,
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    case = register(client, actors.worker("KEMLU"), body)
    for row in path_to(definition, target):
        case = step_with_consent(client, actors, definition, case, row)
    assert case["state"] == target
    return case
