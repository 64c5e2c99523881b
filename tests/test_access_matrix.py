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

from tests.factories import Actors, User, fire, intake_body, register

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


def _of_relation(ok_for: set[Who]) -> Expect:
    """Lists of a unit: its members and auditors (no case is involved: 403, never 404)."""
    return lambda who: 401 if who.role == "anonymous" else 200 if who in ok_for else 403


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
}


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
