"""Every endpoint x every role x every relation to the case, generated from the app's routes.

A route without a rule here fails the suite: a new endpoint cannot ship without deciding who
may call it. Relations to the case under test (now in `screening`, led by PEMDA):
lead = PEMDA, earlier = KEMENPPPA (led `referred`), referrer = KEMLU, supporting = POLRI
(supports `screening`, read-only), other = KEMNAKER (never involved).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response  # what starlette's TestClient answers with

from tests.factories import Actors, User, approve, fire, intake_body, register

RELATIONS = {
    "lead": "PEMDA",
    "earlier": "KEMENPPPA",
    "referrer": "KEMLU",
    "supporting": "POLRI",
    "other": "KEMNAKER",
}


@dataclass(frozen=True)
class Who:
    role: str  # case_worker, supervisor, auditor, admin, anonymous
    relation: str | None = None

    @property
    def works(self) -> bool:
        return self.role in ("case_worker", "supervisor")

    @property
    def sees_case(self) -> bool:
        return self.role == "auditor" or (self.works and self.relation != "other")

    def __str__(self) -> str:
        return f"{self.role}/{self.relation}" if self.relation else self.role


EVERYONE = [
    *(Who(role, rel) for role, rel in itertools.product(("case_worker", "supervisor"), RELATIONS)),
    Who("auditor"),
    Who("admin"),
    Who("anonymous"),
]


class World:
    """The case under test, and fresh objects for probes that change what they touch."""

    def __init__(self, client: TestClient, actors: Actors) -> None:
        self.client, self.actors = client, actors
        self.counter = itertools.count()
        self.case = self.new_case()

    def user(self, who: Who) -> User | None:
        if who.role == "anonymous":
            return None
        if who.works:
            assert who.relation is not None
            return self.actors.get(who.role, RELATIONS[who.relation])
        return self.actors.get(who.role)

    def new_case(self) -> dict[str, Any]:
        case = register(self.client, self.actors.worker("KEMLU"), intake_body())
        moved = fire(self.client, self.actors.worker("KEMENPPPA"), case, "begin_screening", {})
        assert moved.status_code == 200
        result: dict[str, Any] = moved.json()
        return result

    def new_approval(self) -> str:
        case = self.new_case()
        pending = fire(
            self.client,
            self.actors.worker("PEMDA"),
            case,
            "identify",
            {"indicators": ["exploitation"]},
        )
        assert pending.status_code == 202, pending.text
        approval_id: str = pending.json()["approval"]["id"]
        return approval_id

    def first_seq(self) -> int:
        history = self.client.get(
            f"/api/v1/cases/{self.case['id']}/history", headers=self.actors.auditor().headers
        )
        seq: int = history.json()["items"][0]["seq"]
        return seq

    def version(self) -> int:
        case = self.client.get(
            f"/api/v1/cases/{self.case['id']}", headers=self.actors.auditor().headers
        )
        version: int = case.json()["version"]
        return version


Call = Callable[[TestClient, dict[str, str], World], Response]
Expect = Callable[[Who], int]


def _authenticated(ok: int) -> Expect:
    return lambda who: 401 if who.role == "anonymous" else ok


def _roles(ok: int, *roles: str) -> Expect:
    return lambda who: 401 if who.role == "anonymous" else ok if who.role in roles else 403


def _case_read(ok: int = 200) -> Expect:
    return lambda who: 401 if who.role == "anonymous" else ok if who.sees_case else 404


def _transition(who: Who) -> int:
    if who.role == "anonymous":
        return 401
    if not who.sees_case:
        return 404
    return 200 if who.works and who.relation == "supporting" else 403  # POLRI's legal track


def _decide(who: Who) -> int:
    if who.role == "anonymous":
        return 401
    if not who.sees_case:
        return 404
    return 200 if who == Who("supervisor", "lead") else 403


def _cancel(who: Who) -> int:
    if who.role == "anonymous":
        return 401
    if not who.sees_case:
        return 404
    return 200 if who == Who("case_worker", "lead") else 403


def _lists_of_lead(who: Who) -> int:
    if who.role == "anonymous":
        return 401
    return 200 if who.role == "auditor" or (who.works and who.relation == "lead") else 403


def _escalations(who: Who) -> int:
    if who.role == "anonymous":
        return 401
    return 200 if who.role in ("auditor", "supervisor") else 403


def _stats_of_lead(who: Who) -> int:
    if who.role == "anonymous":
        return 401
    return 200 if who.role == "auditor" or who == Who("supervisor", "lead") else 403


def _lead_only(ok_for: set[Who]) -> Expect:
    """Case-bound actions of the lead ministry: 404 unless visible, else 403 unless allowed."""

    def expect(who: Who) -> int:
        if who.role == "anonymous":
            return 401
        if not who.sees_case:
            return 404
        return 200 if who in ok_for else 403

    return expect


def _assignee(w: World, case: dict[str, Any]) -> None:
    response = w.client.put(
        f"/api/v1/cases/{case['id']}/assignee",
        json={"assignee": w.actors.worker("PEMDA").username},
        headers=w.actors.supervisor("PEMDA").headers,
    )
    assert response.status_code == 200, response.text


def _release(c: TestClient, h: dict[str, str], w: World) -> Response:
    case = w.new_case()
    _assignee(w, case)
    return c.delete(f"/api/v1/cases/{case['id']}/assignee", headers=h)


def _case_url(world: World, suffix: str = "") -> str:
    return f"/api/v1/cases/{world.case['id']}{suffix}"


def _police_report(c: TestClient, h: dict[str, str], w: World) -> Response:
    body = {
        "trigger": "record_police_report",
        "expected_version": w.version(),
        "payload": {"report_number": "LP/1/2026", "filed_on": "2026-01-02"},
    }
    return c.post(_case_url(w, "/transitions"), json=body, headers=h)


def _decision(verb: str) -> Call:
    def call(c: TestClient, h: dict[str, str], w: World) -> Response:
        return c.post(
            f"/api/v1/approvals/{w.new_approval()}/{verb}", json={"reason": "checked"}, headers=h
        )

    return call


def _new_user(c: TestClient, h: dict[str, str], w: World) -> Response:
    body = {
        "username": f"probe.{next(w.counter)}",
        "role": "auditor",
        "password": "a long probe passphrase",
    }
    return c.post("/api/v1/users", json=body, headers=h)


def _account_request(w: World) -> int:
    """A supervisor asked for by another admin: pending until a second admin decides."""
    other = w.actors.make("admin", username=f"admin.probe.{next(w.counter)}")
    body = {
        "username": f"probe.{next(w.counter)}",
        "role": "supervisor",
        "ministry": "KEMNAKER",
        "password": "a long probe passphrase",
    }
    response = w.client.post("/api/v1/users", json=body, headers=other.headers)
    assert response.status_code == 202, response.text
    request_id: int = response.json()["id"]
    return request_id


def _account_decision(verb: str) -> Call:
    def call(c: TestClient, h: dict[str, str], w: World) -> Response:
        url = f"/api/v1/users/requests/{_account_request(w)}/{verb}"
        return c.post(url, json={"reason": "checked"} if verb == "reject" else None, headers=h)

    return call


def _new_unit(c: TestClient, h: dict[str, str], w: World) -> Response:
    body = {
        "code": f"PEMDA-PROBE-{next(w.counter)}",
        "name": "a probe unit",
        "ministry": "PEMDA",
        "level": "province",
        "region_code": "53",
    }
    return c.post("/api/v1/units", json=body, headers=h)


def _rename_unit(c: TestClient, h: dict[str, str], w: World) -> Response:
    made = _new_unit(c, w.actors.admin().headers, w)
    assert made.status_code == 201, made.text
    return c.patch(f"/api/v1/units/{made.json()['code']}", json={"name": "renamed"}, headers=h)


def _transfer(verb: str) -> Call:
    def call(c: TestClient, h: dict[str, str], w: World) -> Response:
        case = w.new_case()  # in screening: the hand-over from KEMENPPPA to PEMDA waits
        if verb == "reroute":
            body = {"to_unit": "PEMDA-NASIONAL"}
            return c.put(f"/api/v1/cases/{case['id']}/transfer", json=body, headers=h)
        body = {"reason": "not ours"} if verb == "decline" else {}
        return c.post(f"/api/v1/cases/{case['id']}/transfer/{verb}", json=body, headers=h)

    return call


def _identified(w: World) -> dict[str, Any]:
    """A new case identified by PEMDA (four eyes), awaiting consent: a version-3 case may be
    given services now, on a lawful basis other than consent."""
    case = w.new_case()
    pending = fire(
        w.client, w.actors.worker("PEMDA"), case, "identify", {"indicators": ["exploitation"]}
    )
    approved = approve(w.client, w.actors.supervisor("PEMDA"), pending)
    assert approved.status_code == 200, approved.text
    result: dict[str, Any] = approved.json()
    return result


def _ask_shelter(c: TestClient, h: dict[str, str], case: dict[str, Any]) -> Response:
    body = {"kind": "shelter", "lawful_basis": "vital_interest"}
    return c.post(f"/api/v1/cases/{case['id']}/services", json=body, headers=h)


def _service_action(action: str) -> Call:
    """PEMDA's case worker asks KEMENSOS for a shelter; the caller then acts on the request."""

    def call(c: TestClient, h: dict[str, str], w: World) -> Response:
        case = _identified(w)
        asked = _ask_shelter(c, w.actors.worker("PEMDA").headers, case)
        assert asked.status_code == 201, asked.text
        url = f"/api/v1/cases/{case['id']}/services/{asked.json()['id']}/{action}"
        return c.post(url, json={"expected_version": 1}, headers=h)

    return call


def _ok_for(ok: int, allowed: set[Who]) -> Expect:
    """Case-bound: 404 unless visible, else `ok` for those allowed, 403 for the others."""
    return lambda who: (
        401 if who.role == "anonymous" else 404 if not who.sees_case
        else ok if who in allowed else 403
    )  # fmt: skip


def _of_relation(ok_for: set[Who]) -> Expect:
    """Lists of a unit: its members and auditors (no case is involved: 403, never 404)."""
    return lambda who: 401 if who.role == "anonymous" else 200 if who in ok_for else 403


def _new_match(w: World) -> int:
    """Two referrals of one person (the same NIK), both in screening like the case under test."""
    nik = str(3_200_000_000_000_000 + next(w.counter) * 7_919 + id(w) % 1_000_000)
    body = intake_body(identity_document={"kind": "nik", "number": nik})
    cases = []
    for _ in range(2):
        case = register(w.client, w.actors.worker("KEMLU"), body)
        fire(w.client, w.actors.worker("KEMENPPPA"), case, "begin_screening", {})
        cases.append(case)
    only = f"/api/v1/duplicates?limit=100&case_id={cases[1]['id']}"
    url: str | None = only
    while url:
        listed = w.client.get(url, headers=w.actors.supervisor("KEMENPPPA").headers).json()
        for match in listed["items"]:
            if match["new_case"]["id"] == cases[1]["id"] and match["basis"] == "document":
                match_id: int = match["id"]
                return match_id
        url = listed["next_cursor"] and f"{only}&cursor={listed['next_cursor']}"
    raise AssertionError("the second referral of one NIK made no match")


def _review(who: Who) -> int:
    """Supervisors who may see both cases decide a match; 404 (not 403) when they may not."""
    if who.role == "anonymous":
        return 401
    if who.role != "supervisor":
        return 403
    return 200 if who.sees_case else 404


def _match_decision(verb: str) -> Call:
    def call(c: TestClient, h: dict[str, str], w: World) -> Response:
        return c.post(f"/api/v1/duplicates/{_new_match(w)}/{verb}", headers=h)

    return call


def _subscription(w: World, tail: str = "") -> str:
    """A fresh subscription (made by an admin), for probes that change or delete it."""
    made = w.client.post(
        "/api/v1/webhooks/subscriptions",
        json={"url": "https://d.example/in"},
        headers=w.actors.admin().headers,
    )
    assert made.status_code == 201, made.text
    return f"/api/v1/webhooks/subscriptions/{made.json()['id']}{tail}"


_ARRIVAL = {"arrival_date": "2025-03-18", "place": "Bandara Soekarno-Hatta", "source_country": "MM",
            "operation_name": "probe"}  # fmt: skip
_MANIFEST = b"nama_lengkap,jenis_kelamin,perkiraan_usia,kewarganegaraan,saluran_rujukan\r\n"


def _arrival(w: World) -> str:
    made = w.client.post(
        "/api/v1/arrivals", json=_ARRIVAL, headers=w.actors.worker("KEMLU").headers
    )
    assert made.status_code == 201, made.text
    arrival_id: str = made.json()["id"]
    return arrival_id


def _group(w: World) -> str:
    """A group approval of PEMDA's (identify, sensitive), waiting on one new case."""
    case = w.new_case()
    body = {"case_ids": [case["id"]], "trigger": "identify",
            "payload": {"indicators": ["exploitation"]}}  # fmt: skip
    made = w.client.post(
        "/api/v1/group-transitions", json=body, headers=w.actors.worker("PEMDA").headers
    )
    assert made.json()["pending"] == 1, made.text
    group_id: str = made.json()["id"]
    return group_id


def _group_decision(verb: str) -> Call:
    def call(c: TestClient, h: dict[str, str], w: World) -> Response:
        url = f"/api/v1/group-approvals/{_group(w)}/{verb}"
        return c.post(url, json={"reason": "checked"}, headers=h)

    return call


def _group_read(who: Who) -> int:
    if who.role == "anonymous":
        return 401
    return 200 if who.role == "auditor" or (who.works and who.relation == "lead") else 404


def _decide_group(who: Who) -> int:
    if who.role == "anonymous":
        return 401
    if who.role == "auditor" or (who.works and who.relation == "lead"):
        return 200 if who == Who("supervisor", "lead") else 403
    return 404


LEAD = {Who("case_worker", "lead"), Who("supervisor", "lead")}
EARLIER = {Who("case_worker", "earlier"), Who("supervisor", "earlier")}

RULES: dict[tuple[str, str], tuple[Call, Expect]] = {
    ("GET", "/health"): (lambda c, h, w: c.get("/health", headers=h), lambda who: 200),
    ("GET", "/health/live"): (lambda c, h, w: c.get("/health/live", headers=h), lambda who: 200),
    ("GET", "/health/ready"): (lambda c, h, w: c.get("/health/ready", headers=h), lambda who: 200),
    ("POST", "/api/v1/auth/token"): (
        lambda c, h, w: c.post(
            "/api/v1/auth/token",
            data={"username": f"nobody{next(w.counter)}", "password": "y" * 12},
        ),
        lambda who: 401,
    ),
    ("POST", "/api/v1/auth/refresh"): (
        lambda c, h, w: c.post("/api/v1/auth/refresh", json={"refresh_token": "z" * 43}),
        lambda who: 401,
    ),
    ("POST", "/api/v1/auth/logout"): (
        lambda c, h, w: c.post("/api/v1/auth/logout", headers=h),
        _authenticated(204),
    ),
    ("GET", "/api/v1/workflows"): (
        lambda c, h, w: c.get("/api/v1/workflows", headers=h),
        _authenticated(200),
    ),
    ("GET", "/api/v1/workflows/{name}"): (
        lambda c, h, w: c.get("/api/v1/workflows/nrm-indonesia", headers=h),
        _authenticated(200),
    ),
    ("POST", "/api/v1/workflows/{name}/migrations"): (  # a dry run: it moves nothing
        lambda c, h, w: c.post(
            "/api/v1/workflows/nrm-indonesia/migrations",
            json={
                "mapping": {
                    "from": {"name": "nrm-indonesia", "version": 1},
                    "to": {"name": "nrm-indonesia", "version": 2},
                    "states": {"screening": "screening"},
                }
            },
            headers=h,
        ),
        _roles(200, "admin"),
    ),
    ("GET", "/api/v1/workflows/{name}/diagram"): (
        lambda c, h, w: c.get(
            f"/api/v1/workflows/nrm-indonesia/diagram?case={w.case['id']}", headers=h
        ),
        _case_read(),
    ),
    ("POST", "/api/v1/cases"): (
        lambda c, h, w: c.post("/api/v1/cases", json=intake_body(), headers=h),
        _roles(201, "case_worker", "supervisor"),
    ),
    ("GET", "/api/v1/cases/{case_id}"): (
        lambda c, h, w: c.get(_case_url(w), headers=h),
        _case_read(),
    ),
    ("GET", "/api/v1/cases/{case_id}/history"): (
        lambda c, h, w: c.get(_case_url(w, "/history"), headers=h),
        _case_read(),
    ),
    ("POST", "/api/v1/cases/{case_id}/transitions"): (_police_report, _transition),
    ("GET", "/api/v1/approvals"): (
        lambda c, h, w: c.get("/api/v1/approvals", headers=h),
        _roles(200, "case_worker", "supervisor", "auditor"),
    ),
    ("POST", "/api/v1/approvals/{approval_id}/approve"): (_decision("approve"), _decide),
    ("POST", "/api/v1/approvals/{approval_id}/reject"): (_decision("reject"), _decide),
    ("POST", "/api/v1/approvals/{approval_id}/cancel"): (
        lambda c, h, w: c.post(f"/api/v1/approvals/{w.new_approval()}/cancel", headers=h),
        _cancel,
    ),
    ("GET", "/api/v1/users"): (
        lambda c, h, w: c.get("/api/v1/users", headers=h),
        _roles(200, "admin"),
    ),
    ("POST", "/api/v1/users"): (_new_user, _roles(201, "admin")),
    ("PATCH", "/api/v1/users/{user_id}"): (
        lambda c, h, w: c.patch(
            f"/api/v1/users/{w.actors.worker('KEMNAKER').id}", json={"is_active": True}, headers=h
        ),
        _roles(200, "admin"),
    ),
    ("GET", "/api/v1/users/requests"): (
        lambda c, h, w: c.get("/api/v1/users/requests", headers=h),
        _roles(200, "admin"),
    ),
    ("POST", "/api/v1/users/requests/{request_id}/approve"): (
        _account_decision("approve"),
        _roles(200, "admin"),
    ),
    ("POST", "/api/v1/users/requests/{request_id}/reject"): (
        _account_decision("reject"),
        _roles(200, "admin"),
    ),
    ("POST", "/api/v1/users/{user_id}/password-reset"): (
        lambda c, h, w: c.post(
            f"/api/v1/users/{w.actors.make('case_worker', 'KEMNAKER').id}/password-reset",
            json={"password": "a temporary probe passphrase"},
            headers=h,
        ),
        _roles(200, "admin"),
    ),
    ("POST", "/api/v1/users/me/password"): (  # a wrong old password: 422 for anyone logged in
        lambda c, h, w: c.post(
            "/api/v1/users/me/password",
            json={"old_password": "not the password at all", "new_password": "a new probe phrase"},
            headers=h,
        ),
        lambda who: 401 if who.role == "anonymous" else 422,
    ),
    ("GET", "/api/v1/queues/{ministry}"): (
        lambda c, h, w: c.get("/api/v1/queues/PEMDA", headers=h),
        _lists_of_lead,
    ),
    ("GET", "/api/v1/queues/{ministry}/watching"): (
        lambda c, h, w: c.get("/api/v1/queues/PEMDA/watching", headers=h),
        _lists_of_lead,
    ),
    ("GET", "/api/v1/me/cases"): (
        lambda c, h, w: c.get("/api/v1/me/cases", headers=h),
        _roles(200, "case_worker", "supervisor"),
    ),
    ("GET", "/api/v1/escalations"): (
        lambda c, h, w: c.get("/api/v1/escalations", headers=h),
        _escalations,
    ),
    ("GET", "/api/v1/ministries/{code}/stats"): (
        lambda c, h, w: c.get("/api/v1/ministries/PEMDA/stats", headers=h),
        _stats_of_lead,
    ),
    # reports: supervisors (their ministry's cases), the Task Force and auditors (national)
    ("GET", "/api/v1/reports/breakdown"): (
        lambda c, h, w: c.get("/api/v1/reports/breakdown?dimension=state", headers=h),
        _roles(200, "supervisor", "auditor"),
    ),
    ("GET", "/api/v1/reports/monthly"): (
        lambda c, h, w: c.get("/api/v1/reports/monthly", headers=h),
        _roles(200, "supervisor", "auditor"),
    ),
    ("GET", "/api/v1/reports/durations"): (
        lambda c, h, w: c.get("/api/v1/reports/durations", headers=h),
        _roles(200, "supervisor", "auditor"),
    ),
    # national data: the Task Force (not among these relations) and auditors
    ("GET", "/api/v1/reports/htcds"): (
        lambda c, h, w: c.get("/api/v1/reports/htcds", headers=h),
        _roles(200, "auditor"),
    ),
    ("GET", "/api/v1/publication/dataset"): (
        lambda c, h, w: c.get("/api/v1/publication/dataset", headers=h),
        _roles(200, "auditor"),
    ),
    ("GET", "/api/v1/publication/tables"): (
        lambda c, h, w: c.get("/api/v1/publication/tables?dimension=sex", headers=h),
        _roles(200, "auditor"),
    ),
    ("PUT", "/api/v1/cases/{case_id}/assignee"): (
        lambda c, h, w: c.put(
            f"/api/v1/cases/{w.new_case()['id']}/assignee",
            json={"assignee": w.actors.worker("PEMDA").username},
            headers=h,
        ),
        _lead_only({Who("supervisor", "lead")}),
    ),
    ("POST", "/api/v1/cases/{case_id}/claim"): (
        lambda c, h, w: c.post(f"/api/v1/cases/{w.new_case()['id']}/claim", headers=h),
        _lead_only({Who("case_worker", "lead")}),
    ),
    ("DELETE", "/api/v1/cases/{case_id}/assignee"): (
        _release,
        _lead_only({Who("case_worker", "lead"), Who("supervisor", "lead")}),
    ),
    ("GET", "/api/v1/audit/verify"): (
        lambda c, h, w: c.get("/api/v1/audit/verify", headers=h),
        _roles(200, "auditor"),
    ),
    ("GET", "/api/v1/audit/checkpoints"): (
        lambda c, h, w: c.get("/api/v1/audit/checkpoints", headers=h),
        _roles(200, "auditor"),
    ),
    ("POST", "/api/v1/audit/checkpoints"): (
        lambda c, h, w: c.post("/api/v1/audit/checkpoints", headers=h),
        _roles(201, "auditor"),
    ),
    ("GET", "/api/v1/audit/public-key"): (
        lambda c, h, w: c.get("/api/v1/audit/public-key", headers=h),
        _roles(200, "auditor"),
    ),
    ("GET", "/api/v1/audit/events"): (
        lambda c, h, w: c.get(f"/api/v1/audit/events?case_id={w.case['id']}", headers=h),
        _roles(200, "auditor"),
    ),
    ("GET", "/api/v1/audit/events/{seq}/proof"): (
        lambda c, h, w: c.get(f"/api/v1/audit/events/{w.first_seq()}/proof", headers=h),
        _roles(200, "auditor"),
    ),
    ("GET", "/api/v1/audit/export"): (
        lambda c, h, w: c.get("/api/v1/audit/export?format=jsonl", headers=h),
        _roles(200, "auditor"),
    ),
    ("GET", "/api/v1/audit/identity-access"): (
        lambda c, h, w: c.get("/api/v1/audit/identity-access", headers=h),
        _roles(200, "auditor"),
    ),
    ("GET", "/api/v1/units"): (
        lambda c, h, w: c.get("/api/v1/units", headers=h),
        _authenticated(200),
    ),
    ("POST", "/api/v1/units"): (_new_unit, _roles(201, "admin")),
    ("GET", "/api/v1/units/{code}"): (
        lambda c, h, w: c.get("/api/v1/units/PEMDA-NASIONAL", headers=h),
        _authenticated(200),
    ),
    ("PATCH", "/api/v1/units/{code}"): (_rename_unit, _roles(200, "admin")),
    ("GET", "/api/v1/regions"): (
        lambda c, h, w: c.get("/api/v1/regions", headers=h),
        _authenticated(200),
    ),
    ("GET", "/api/v1/units/{code}/queue"): (
        lambda c, h, w: c.get("/api/v1/units/PEMDA-NASIONAL/queue", headers=h),
        _of_relation({*LEAD, Who("auditor")}),
    ),
    ("GET", "/api/v1/units/{code}/incoming"): (
        lambda c, h, w: c.get("/api/v1/units/PEMDA-NASIONAL/incoming", headers=h),
        _of_relation({*LEAD, Who("auditor")}),
    ),
    ("GET", "/api/v1/units/{code}/stats"): (
        lambda c, h, w: c.get("/api/v1/units/PEMDA-NASIONAL/stats", headers=h),
        _stats_of_lead,  # the unit's supervisors (and above), its region's Task Force, auditors
    ),
    ("GET", "/api/v1/regions/{code}/stats"): (
        lambda c, h, w: c.get("/api/v1/regions/53/stats", headers=h),
        _roles(200, "auditor"),  # and the region's Task Force (tests/test_unit_figures.py)
    ),
    ("POST", "/api/v1/cases/{case_id}/transfer/accept"): (
        _transfer("accept"),
        _lead_only(LEAD),
    ),
    ("POST", "/api/v1/cases/{case_id}/transfer/decline"): (
        _transfer("decline"),
        _lead_only(LEAD),
    ),
    ("PUT", "/api/v1/cases/{case_id}/transfer"): (
        _transfer("reroute"),
        _lead_only(EARLIER),
    ),
    # Service requests (v3): the lead ministry (PEMDA, in `identified`) or the provider asks;
    # only the provider (KEMENSOS for a shelter, none of the relations here) starts, completes
    # or declines; the lead or the provider withdraws; the rest who see the case read.
    ("GET", "/api/v1/cases/{case_id}/services"): (
        lambda c, h, w: c.get(_case_url(w, "/services"), headers=h),
        _case_read(),
    ),
    ("POST", "/api/v1/cases/{case_id}/services"): (
        lambda c, h, w: _ask_shelter(c, h, _identified(w)),
        _ok_for(201, LEAD),
    ),
    ("POST", "/api/v1/cases/{case_id}/services/{request_id}/start"): (
        _service_action("start"),
        _ok_for(200, set()),
    ),
    ("POST", "/api/v1/cases/{case_id}/services/{request_id}/complete"): (
        _service_action("complete"),
        _ok_for(200, set()),
    ),
    ("POST", "/api/v1/cases/{case_id}/services/{request_id}/decline"): (
        _service_action("decline"),
        _ok_for(200, set()),
    ),
    ("POST", "/api/v1/cases/{case_id}/services/{request_id}/withdraw"): (
        _service_action("withdraw"),
        _ok_for(200, LEAD),
    ),
    ("GET", "/api/v1/services/queue"): (
        lambda c, h, w: c.get("/api/v1/services/queue", headers=h),
        _roles(200, "case_worker", "supervisor"),
    ),
    ("GET", "/api/v1/duplicates"): (
        lambda c, h, w: c.get("/api/v1/duplicates", headers=h),
        _roles(200, "supervisor"),
    ),
    ("POST", "/api/v1/duplicates/{match_id}/link"): (_match_decision("link"), _review),
    ("POST", "/api/v1/duplicates/{match_id}/dismiss"): (_match_decision("dismiss"), _review),
    ("GET", "/api/v1/cases/{case_id}/linked"): (
        lambda c, h, w: c.get(_case_url(w, "/linked"), headers=h),
        _case_read(),
    ),
    # webhooks (service/webhooks/): admins only
    ("GET", "/api/v1/webhooks/subscriptions"): (
        lambda c, h, w: c.get("/api/v1/webhooks/subscriptions", headers=h),
        _roles(200, "admin"),
    ),
    ("POST", "/api/v1/webhooks/subscriptions"): (
        lambda c, h, w: c.post(
            "/api/v1/webhooks/subscriptions", json={"url": "https://d.example/in"}, headers=h
        ),
        _roles(201, "admin"),
    ),
    ("GET", "/api/v1/webhooks/subscriptions/{subscription_id}"): (
        lambda c, h, w: c.get(_subscription(w), headers=h),
        _roles(200, "admin"),
    ),
    ("PATCH", "/api/v1/webhooks/subscriptions/{subscription_id}"): (
        lambda c, h, w: c.patch(_subscription(w), json={"is_active": False}, headers=h),
        _roles(200, "admin"),
    ),
    ("DELETE", "/api/v1/webhooks/subscriptions/{subscription_id}"): (
        lambda c, h, w: c.delete(_subscription(w), headers=h),
        _roles(204, "admin"),
    ),
    ("POST", "/api/v1/webhooks/subscriptions/{subscription_id}/requeue"): (
        lambda c, h, w: c.post(_subscription(w, "/requeue"), headers=h),
        _roles(200, "admin"),
    ),
    ("GET", "/api/v1/webhooks/dead-letters"): (
        lambda c, h, w: c.get("/api/v1/webhooks/dead-letters", headers=h),
        _roles(200, "admin"),
    ),
    ("POST", "/api/v1/webhooks/dead-letters/{delivery_id}/requeue"): (  # none dead: 404
        lambda c, h, w: c.post("/api/v1/webhooks/dead-letters/999999/requeue", headers=h),
        _roles(404, "admin"),
    ),
    # Arrivals and group decisions (service/arrivals, service/groups): an arrival holds no
    # identity (its cases are listed through visibility); a group is its ministry's, 404 to others.
    ("POST", "/api/v1/arrivals"): (
        lambda c, h, w: c.post("/api/v1/arrivals", json=_ARRIVAL, headers=h),
        _roles(201, "case_worker", "supervisor"),
    ),
    ("GET", "/api/v1/arrivals"): (
        lambda c, h, w: c.get("/api/v1/arrivals", headers=h),
        _roles(200, "case_worker", "supervisor", "auditor"),
    ),
    ("GET", "/api/v1/arrivals/{arrival_id}"): (
        lambda c, h, w: c.get(f"/api/v1/arrivals/{_arrival(w)}", headers=h),
        _roles(200, "case_worker", "supervisor", "auditor"),
    ),
    ("GET", "/api/v1/arrivals/{arrival_id}/cases"): (
        lambda c, h, w: c.get(f"/api/v1/arrivals/{_arrival(w)}/cases", headers=h),
        _roles(200, "case_worker", "supervisor", "auditor"),
    ),
    ("POST", "/api/v1/arrivals/{arrival_id}/manifest"): (
        lambda c, h, w: c.post(
            f"/api/v1/arrivals/{_arrival(w)}/manifest",
            files={"file": ("m.csv", _MANIFEST)},
            headers=h,
        ),
        _roles(200, "case_worker", "supervisor"),  # per row: the single intake's own checks
    ),
    ("POST", "/api/v1/group-transitions"): (
        lambda c, h, w: c.post(
            "/api/v1/group-transitions",
            json={
                "case_ids": [w.case["id"]],
                "trigger": "record_police_report",
                "payload": {"report_number": "LP/1/2026", "filed_on": "2026-01-02"},
            },
            headers=h,
        ),
        _roles(200, "case_worker", "supervisor"),  # per case: tests/test_group_decisions.py
    ),
    ("GET", "/api/v1/group-approvals/{group_id}"): (
        lambda c, h, w: c.get(f"/api/v1/group-approvals/{_group(w)}", headers=h),
        _group_read,
    ),
    ("POST", "/api/v1/group-approvals/{group_id}/approve"): (
        _group_decision("approve"),
        _decide_group,
    ),
    ("POST", "/api/v1/group-approvals/{group_id}/reject"): (
        _group_decision("reject"),
        _decide_group,
    ),
}


# --- the legal track (service/legal): POLRI is the `supporting` relation ---------------------


def _criminal_case(w: World) -> dict[str, Any]:
    body = {"police_report_number": f"LP/MATRIX/{next(w.counter)}", "reported_on": "2025-03-20",
            "region_code": "53"}  # fmt: skip
    police = w.actors.worker("POLRI").headers
    made = w.client.post("/api/v1/criminal-cases", json=body, headers=police)
    assert made.status_code == 201, made.text
    result: dict[str, Any] = made.json()
    return result


def _on_criminal_case(suffix: str, method: str = "get", body: Any = None) -> Call:
    def call(c: TestClient, h: dict[str, str], w: World) -> Response:
        url = f"/api/v1/criminal-cases/{_criminal_case(w)['id']}{suffix}"
        made = body(w) if callable(body) else body
        return c.get(url, headers=h) if method == "get" else c.post(url, json=made, headers=h)

    return call


def _of_criminal_case(ok: int, *, auditor: int) -> Expect:
    """Those who may not see the criminal case: 404; POLRI (its unit's tree) acts."""

    def expect(who: Who) -> int:
        if who.role == "anonymous":
            return 401
        if who.role == "auditor":
            return auditor
        return ok if who.works and who.relation == "supporting" else 404

    return expect


def _legal_record(c: TestClient, h: dict[str, str], w: World) -> Response:
    case = w.new_case()
    linked = w.client.post(
        f"/api/v1/criminal-cases/{_criminal_case(w)['id']}/victims",
        json={"case_id": case["id"]}, headers=w.actors.worker("POLRI").headers,
    )  # fmt: skip
    assert linked.status_code == 200, linked.text
    body = {"record": {"kind": "witness", "witness_status": "summoned"}}
    return c.post(f"/api/v1/cases/{case['id']}/legal", json=body, headers=h)


SUSPECT_BODY = {"identity": {"full_name": "Probe Suspect"}, "sex": "male", "nationality": "ID",
                "role": "other"}  # fmt: skip
RULES.update({
    ("POST", "/api/v1/criminal-cases"): (
        lambda c, h, w: c.post("/api/v1/criminal-cases", json={
            "police_report_number": f"LP/PROBE/{next(w.counter)}", "reported_on": "2025-03-20",
            "region_code": "53"}, headers=h),
        lambda who: 401 if who.role == "anonymous" else 201
        if who.works and who.relation == "supporting" else 403,
    ),
    ("GET", "/api/v1/criminal-cases"): (
        lambda c, h, w: c.get("/api/v1/criminal-cases", headers=h), _authenticated(200),
    ),
    ("GET", "/api/v1/criminal-cases/counts"): (
        lambda c, h, w: c.get(
            "/api/v1/criminal-cases/counts?reported_from=2025-01-01&reported_to=2025-12-31",
            headers=h),
        lambda who: 401 if who.role == "anonymous" else 200 if who.role == "auditor"
        or (who.works and who.relation == "supporting") else 403,
    ),
    ("GET", "/api/v1/criminal-cases/{criminal_case_id}"): (
        _on_criminal_case(""), _of_criminal_case(200, auditor=200),
    ),
    ("POST", "/api/v1/criminal-cases/{criminal_case_id}/stage"): (
        _on_criminal_case("/stage", "post", {"stage": "terminated", "on": "2025-04-01",
                                             "expected_version": 1}),
        _of_criminal_case(200, auditor=403),
    ),
    ("POST", "/api/v1/criminal-cases/{criminal_case_id}/suspects"): (
        _on_criminal_case("/suspects", "post", SUSPECT_BODY), _of_criminal_case(201, auditor=403),
    ),
    ("GET", "/api/v1/criminal-cases/{criminal_case_id}/suspects"): (
        _on_criminal_case("/suspects"), _of_criminal_case(200, auditor=200),
    ),
    ("POST", "/api/v1/criminal-cases/{criminal_case_id}/victims"): (
        _on_criminal_case("/victims", "post", lambda w: {"case_id": w.case["id"]}),
        _of_criminal_case(200, auditor=403),
    ),
    ("GET", "/api/v1/cases/{case_id}/legal"): (
        lambda c, h, w: c.get(_case_url(w, "/legal"), headers=h), _case_read(),
    ),
    ("POST", "/api/v1/cases/{case_id}/legal"): (_legal_record, _transition),
    ("GET", "/api/v1/legal/lpsk-late"): (
        lambda c, h, w: c.get("/api/v1/legal/lpsk-late", headers=h), _roles(200, "auditor"),
    ),
})  # fmt: skip


def _routes(client: TestClient) -> list[tuple[str, str]]:
    """Every operation the app serves, read from its own OpenAPI document."""
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return sorted((method.upper(), path) for path, item in paths.items() for method in item)


def test_every_route_has_an_access_rule(client: TestClient) -> None:
    missing = [route for route in _routes(client) if route not in RULES]
    assert missing == [], "add a rule to RULES for each new endpoint"
    assert set(RULES) == set(_routes(client)), "a rule names a route that no longer exists"


@pytest.mark.parametrize("route", sorted(RULES), ids=lambda route: " ".join(route))
def test_the_endpoint_answers_every_role_and_relation_as_its_rule_says(
    client: TestClient, actors: Actors, route: tuple[str, str]
) -> None:
    world = World(client, actors)
    for who in EVERYONE:  # made up front: the logout probe must not meet a half-made user
        world.user(who)
    call, expect = RULES[route]
    failures = []
    for who in EVERYONE:
        user = world.user(who)
        response = call(client, user.headers if user else {}, world)
        if response.status_code != expect(who):
            failures.append(f"as {who}: {response.status_code}, expected {expect(who)}")
        elif response.status_code >= 400:
            assert "code" in response.json(), (route, who)
    assert failures == []


@pytest.mark.parametrize("relation", ["lead", "earlier", "referrer"])
def test_ministries_that_led_or_referred_see_the_identity(
    client: TestClient, actors: Actors, relation: str
) -> None:
    world = World(client, actors)
    for role in ("case_worker", "supervisor"):
        user = world.user(Who(role, relation))
        assert user is not None
        victim = client.get(_case_url(world), headers=user.headers).json()["victim"]
        assert victim["identity_visible"] is True and victim["full_name"] == "Siti Rahayu"


def test_supporting_ministries_and_auditors_see_a_pseudonym_an_age_band_sex_and_province(
    client: TestClient, actors: Actors
) -> None:
    world = World(client, actors)
    for who in (Who("case_worker", "supporting"), Who("supervisor", "supporting"), Who("auditor")):
        user = world.user(who)
        assert user is not None
        response = client.get(_case_url(world), headers=user.headers)
        victim = response.json()["victim"]
        assert victim["identity_visible"] is False
        assert victim["pseudonym"].startswith("NRM-") and victim["age_band"] == "18-29"
        assert victim["sex"] == "female" and victim["province_of_origin"] == "Nusa Tenggara Timur"
        assert victim["full_name"] is None and victim["birth_date"] is None
        assert "Siti" not in response.text and "2003-04-12" not in response.text
