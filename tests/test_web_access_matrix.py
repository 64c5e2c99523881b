"""Every web page x every role x every relation to the case, generated from the app's routes.

The pages' twin of test_access_matrix.py, with the same case and relations: a page route
without a rule fails the suite. Anonymous callers go to the login page; a case the caller may
not see is the same not-found page whether or not it exists; no page shows a victim's identity
except the deliberate look, and each look writes an identity-access row.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from httpx2 import Response  # what starlette's TestClient answers with
from sqlmodel import col, func, select

from service.app import PAGES
from service.kit.context import AppContext
from service.models import IdentityAccess, WebhookDelivery, utcnow
from service.web import assets
from tests.factories import Actors
from tests.test_access_matrix import (
    _ARRIVAL,
    EVERYONE,
    Who,
    World,
    _account_request,
    _arrival,
    _ask_shelter,
    _group,
    _identified,
    _new_match,
)
from tests.web import WebUser, get, post, visible_text, web_login

Call = Callable[[TestClient, WebUser | None, "WebWorld"], Response]
Expect = Callable[[Who], int]
NAME = "Siti Rahayu"
EVERY_ROLE = ("case_worker", "supervisor", "auditor", "admin")


class WebWorld(World):
    def __init__(self, client: TestClient, actors: Actors, context: AppContext) -> None:
        super().__init__(client, actors)
        self.context = context
        self.sessions: dict[str, WebUser] = {}

    def web(self, who: Who) -> WebUser | None:
        user = self.user(who)
        if user is None:
            return None
        if user.username not in self.sessions:
            self.sessions[user.username] = web_login(self.context, user)
        return self.sessions[user.username]

    def assigned_case(self) -> dict[str, Any]:
        case = self.new_case()
        response = self.client.put(
            f"/api/v1/cases/{case['id']}/assignee",
            json={"assignee": self.actors.worker("PEMDA").username},
            headers=self.actors.supervisor("PEMDA").headers,
        )
        assert response.status_code == 200, response.text
        return case


def _dead_letter(w: WebWorld) -> int:
    """A fresh dead letter (a subscription's delivery whose attempts ran out)."""
    made = w.client.post(
        "/api/v1/webhooks/subscriptions",
        json={"url": "https://d.example/in"},
        headers=w.actors.admin().headers,
    )
    assert made.status_code == 201, made.text
    now = utcnow()
    with w.context.database.transaction() as session:
        letter = WebhookDelivery(
            subscription_id=made.json()["id"], case_id=uuid.uuid4(), stream_seq=1, event_seq=1,
            payload={"data": {"kind": "created"}}, attempts=3, next_attempt_at=now, dead_at=now,
        )  # fmt: skip
        session.add(letter)
        session.flush()
        assert letter.id is not None
        return letter.id


def _roles(ok: int, *roles: str, anonymous: int = 303) -> Expect:
    return lambda who: anonymous if who.role == "anonymous" else ok if who.role in roles else 403


def _anyone(ok: int) -> Expect:
    return lambda who: ok


def _case_page(who: Who) -> int:
    if who.role == "anonymous":
        return 303
    return 200 if who.sees_case else 404


def _web_service_action(action: str) -> Call:
    """PEMDA's case worker asks KEMENSOS for a shelter (API); the caller then acts on it."""

    def call(c: TestClient, u: WebUser | None, w: WebWorld) -> Response:
        case = _identified(w)
        asked = _ask_shelter(c, w.actors.worker("PEMDA").headers, case)
        assert asked.status_code == 201, asked.text
        url = f"/cases/{case['id']}/services/{asked.json()['id']}/{action}"
        return post(c, u, url, {"expected_version": "1"})

    return call


def _worker_case(ok_for: Callable[[Who], bool], ok: int = 303) -> Expect:
    """A POST about the case by a case worker or supervisor: 404 unless visible, 403 unless
    theirs (auditors and admins are refused by role first)."""

    def expect(who: Who) -> int:
        if who.role == "anonymous":
            return 303
        if not who.works:
            return 403
        if not who.sees_case:
            return 404
        return ok if ok_for(who) else 403

    return expect


def _match_review(who: Who) -> int:
    """Supervisors who see both cases decide a match (then back to the list); 404 otherwise."""
    if who.role == "anonymous":
        return 303
    if who.role != "supervisor":
        return 403
    return 303 if who.sees_case else 404


def _lead(role: str) -> Callable[[Who], bool]:
    return lambda who: who == Who(role, "lead")


def _escalations(who: Who) -> int:
    if who.role == "anonymous":
        return 303
    return 200 if who.role in ("auditor", "supervisor") else 403


def _figures_home(who: Who) -> int:
    if who.role == "anonymous":
        return 303
    if who.role == "admin":
        return 403
    return 200 if who.role in ("auditor", "supervisor") else 303


def _auditors_only_figures(who: Who) -> int:
    """A region's figures: auditors (and the region's Task Force, not among these callers)."""
    if who.role == "anonymous":
        return 303
    return 200 if who.role == "auditor" else 403


def _figures_of_lead(who: Who) -> int:
    if who.role == "anonymous":
        return 303
    if who.role == "admin":
        return 403
    return 200 if who.role == "auditor" or who == Who("supervisor", "lead") else 403


def _police_report(c: TestClient, u: WebUser | None, w: WebWorld) -> Response:
    data = {
        "trigger": "record_police_report", "source": "screening", "workflow": "nrm-indonesia",
        "version": "1", "expected_version": str(w.version()), "form_key": uuid.uuid4().hex,
        "payload.report_number": "LP/1/2026", "payload.filed_on": "2026-01-02",
    }  # fmt: skip
    return post(c, u, f"/cases/{w.case['id']}/transitions", data)


def _approval_form(verb: str) -> Call:
    return lambda c, u, w: post(c, u, f"/approvals/{w.new_approval()}/{verb}", {"reason": "seen"})


def _intake() -> dict[str, Any]:
    return {
        "form_key": uuid.uuid4().hex, "victim.full_name": NAME, "victim.sex": "female",
        "victim.birth_date": "2003-04-12", "victim.nationality": "ID",
        "referral.channel": "embassy",
    }  # fmt: skip


def _new_user(w: WebWorld) -> dict[str, str]:
    name = f"web.probe.{next(w.counter)}"
    return {"username": name, "role": "auditor", "password": "a long probe passphrase"}


def _pemda_worker(w: WebWorld) -> str:
    return w.actors.worker("PEMDA").username


def _case(w: WebWorld, suffix: str = "") -> str:
    return f"/cases/{w.case['id']}{suffix}"


def _new_unit(w: WebWorld) -> dict[str, str]:
    return {"code": f"KEMSOS-WEB-{next(w.counter)}", "name": "a probe unit",
            "ministry": "KEMENSOS", "level": "province", "region_code": "21"}  # fmt: skip


def _probe_unit(w: WebWorld) -> str:
    """A unit made through the API by an admin, for a probe that changes it."""
    code = f"PEMDA-WEB-PROBE-{next(w.counter)}"
    body = {"code": code, "name": "a probe unit", "ministry": "PEMDA", "level": "province",
            "region_code": "53"}  # fmt: skip
    made = w.client.post("/api/v1/units", json=body, headers=w.actors.admin().headers)
    assert made.status_code == 201, made.text
    return code


def _transfer(verb: str) -> Call:
    """A fresh case in screening: its hand-over from KEMENPPPA's unit to PEMDA's waits."""

    def call(c: TestClient, u: WebUser | None, w: WebWorld) -> Response:
        case = w.new_case()
        if verb == "reroute":
            return post(c, u, f"/cases/{case['id']}/transfer", {"to_unit": "PEMDA-NASIONAL"})
        data = {"reason": "not ours"} if verb == "decline" else {}
        return post(c, u, f"/cases/{case['id']}/transfer/{verb}", data)

    return call


def _upload(c: TestClient, u: WebUser | None, w: WebWorld) -> Response:
    c.cookies.clear()
    headers = u.headers if u else {"Accept": "text/html"}
    manifest = b"nama_lengkap,jenis_kelamin,perkiraan_usia,kewarganegaraan,saluran_rujukan\r\n"
    return c.post(
        f"/arrivals/{_arrival(w)}/manifest", headers=headers,
        data={"csrf": u.csrf if u else ""}, files={"file": ("m.csv", manifest)},
        follow_redirects=False,
    )  # fmt: skip


def _group_form(verb: str) -> Call:
    return lambda c, u, w: post(c, u, f"/group-approvals/{_group(w)}/{verb}", {"reason": "seen"})


def _group_page(who: Who) -> int:
    if who.role == "anonymous":
        return 303
    if who.role == "admin":
        return 403
    return 200 if who.role == "auditor" or (who.works and who.relation == "lead") else 404


def _group_decision(who: Who) -> int:
    if who.role == "anonymous":
        return 303
    if who.role != "supervisor":
        return 403
    return 200 if who.relation == "lead" else 404


RULES: dict[tuple[str, str], tuple[Call, Expect]] = {
    ("GET", "/static/{version}/{name}"): (
        lambda c, u, w: get(c, u, assets.url("app.css")),
        _anyone(200),
    ),
    ("GET", "/"): (lambda c, u, w: get(c, u, "/"), _anyone(303)),
    ("GET", "/home"): (lambda c, u, w: get(c, u, "/home"), _anyone(303)),
    ("GET", "/login"): (lambda c, u, w: get(c, u, "/login"), _anyone(200)),
    ("POST", "/login"): (  # no pre-session cookie: the form is refused whoever sends it
        lambda c, u, w: post(c, u, "/login", {"username": "nobody", "password": "x" * 12}),
        _anyone(403),
    ),
    ("POST", "/logout"): (lambda c, u, w: post(c, u, "/logout"), _anyone(303)),
    ("POST", "/language"): (
        lambda c, u, w: post(c, u, "/language", {"language": "id", "next": "/home"}),
        _anyone(303),
    ),
    ("GET", "/admin/users"): (lambda c, u, w: get(c, u, "/admin/users"), _roles(200, "admin")),
    ("POST", "/admin/users"): (
        lambda c, u, w: post(
            c,
            u,
            "/admin/users",
            {
                "username": f"web.probe.{next(w.counter)}",
                "role": "auditor",
                "password": "a long probe passphrase",
            },
        ),
        _roles(303, "admin"),
    ),
    ("POST", "/admin/users/{user_id}"): (
        lambda c, u, w: post(
            c, u, f"/admin/users/{w.actors.worker('KEMNAKER').id}", {"active": "true"}
        ),
        _roles(303, "admin"),
    ),
    ("POST", "/admin/users/{user_id}/password-reset"): (
        lambda c, u, w: post(
            c,
            u,
            f"/admin/users/{w.actors.make('case_worker', 'KEMNAKER').id}/password-reset",
            {"password": "a temporary probe passphrase"},
        ),
        _roles(303, "admin"),
    ),
    ("POST", "/admin/users/requests/{request_id}/{decision}"): (
        lambda c, u, w: post(
            c, u, f"/admin/users/requests/{_account_request(w)}/reject", {"reason": "not known"}
        ),
        _roles(303, "admin"),
    ),
    ("GET", "/account/password"): (
        lambda c, u, w: get(c, u, "/account/password"),
        _roles(200, *EVERY_ROLE),
    ),
    ("POST", "/account/password"): (  # a wrong old password: the form again, for anyone
        lambda c, u, w: post(
            c,
            u,
            "/account/password",
            {"old_password": "not the password at all", "new_password": "a new probe phrase"},
        ),
        _roles(422, *EVERY_ROLE),
    ),
    ("GET", "/admin/units"): (lambda c, u, w: get(c, u, "/admin/units"), _roles(200, "admin")),
    ("GET", "/admin/webhooks"): (
        lambda c, u, w: get(c, u, "/admin/webhooks"),
        _roles(200, "admin"),
    ),
    ("POST", "/admin/webhooks/dead-letters/{delivery_id}/requeue"): (
        lambda c, u, w: post(c, u, f"/admin/webhooks/dead-letters/{_dead_letter(w)}/requeue"),
        _roles(303, "admin"),
    ),
    ("POST", "/admin/units"): (
        lambda c, u, w: post(c, u, "/admin/units", _new_unit(w)),
        _roles(303, "admin"),
    ),
    ("POST", "/admin/units/{code}"): (
        lambda c, u, w: post(c, u, f"/admin/units/{_probe_unit(w)}", {"name": "renamed"}),
        _roles(303, "admin"),
    ),
    ("POST", "/cases/{case_id}/transfer/accept"): (
        _transfer("accept"),
        _worker_case(lambda who: who.relation == "lead"),
    ),
    ("POST", "/cases/{case_id}/transfer/decline"): (
        _transfer("decline"),
        _worker_case(lambda who: who.relation == "lead"),
    ),
    ("POST", "/cases/{case_id}/transfer"): (
        _transfer("reroute"),
        _worker_case(lambda who: who.relation == "earlier"),
    ),
    ("GET", "/figures/units/{code}"): (
        lambda c, u, w: get(c, u, "/figures/units/PEMDA-NASIONAL"),
        _figures_of_lead,
    ),
    ("GET", "/figures/regions/{code}"): (
        lambda c, u, w: get(c, u, "/figures/regions/53"),
        _auditors_only_figures,
    ),
    # reports: supervisors (their ministry), the Task Force (not among these callers), auditors
    ("GET", "/reports"): (
        lambda c, u, w: get(c, u, "/reports?dimension=state"),
        _roles(200, "supervisor", "auditor"),
    ),
    ("GET", "/reports/download"): (
        lambda c, u, w: get(c, u, "/reports/download?kind=monthly&format=csv"),
        _roles(200, "supervisor", "auditor"),
    ),
    ("GET", "/work"): (
        lambda c, u, w: get(c, u, "/work"),
        _roles(200, "case_worker", "supervisor"),
    ),
    ("GET", "/escalations"): (lambda c, u, w: get(c, u, "/escalations"), _escalations),
    ("GET", "/cases/new"): (
        lambda c, u, w: get(c, u, "/cases/new"),
        _roles(200, "case_worker", "supervisor"),
    ),
    ("POST", "/cases"): (
        lambda c, u, w: post(c, u, "/cases", _intake()),
        _roles(303, "case_worker", "supervisor"),
    ),
    ("GET", "/cases/{case_id}"): (lambda c, u, w: get(c, u, _case(w)), _case_page),
    ("GET", "/cases/{case_id}/history"): (
        lambda c, u, w: get(c, u, _case(w, "/history")),
        _case_page,
    ),
    ("GET", "/cases/{case_id}/diagram"): (
        lambda c, u, w: get(c, u, _case(w, "/diagram")),
        _case_page,
    ),
    ("GET", "/cases/{case_id}/services"): (
        lambda c, u, w: get(c, u, _case(w, "/services")),
        _case_page,
    ),
    # asking for a service: the lead (PEMDA, `identified`) or the provider (KEMENSOS: none of
    # the relations here); moving one on: start/complete/decline the provider, withdraw also
    # the lead (the use cases decide, as for the API)
    ("POST", "/cases/{case_id}/services"): (
        lambda c, u, w: post(
            c,
            u,
            f"/cases/{_identified(w)['id']}/services",
            {"kind": "shelter", "lawful_basis": "vital_interest"},
        ),
        _worker_case(lambda who: who.relation == "lead"),
    ),
    ("POST", "/cases/{case_id}/services/{request_id}/{action}"): (
        _web_service_action("withdraw"),
        _worker_case(lambda who: who.relation == "lead"),
    ),
    ("POST", "/cases/{case_id}/identity"): (
        lambda c, u, w: post(c, u, _case(w, "/identity")),
        _worker_case(lambda who: who.relation in ("lead", "earlier", "referrer"), ok=200),
    ),
    ("POST", "/cases/{case_id}/transitions"): (
        _police_report,
        _worker_case(lambda who: who.relation == "supporting"),
    ),
    ("POST", "/cases/{case_id}/claim"): (
        lambda c, u, w: post(c, u, f"/cases/{w.new_case()['id']}/claim"),
        _worker_case(_lead("case_worker")),
    ),
    ("POST", "/cases/{case_id}/release"): (
        lambda c, u, w: post(c, u, f"/cases/{w.assigned_case()['id']}/release"),
        _worker_case(lambda who: who.relation == "lead"),
    ),
    ("GET", "/cases/{case_id}/assignee"): (
        lambda c, u, w: get(c, u, _case(w, "/assignee")),
        _worker_case(lambda who: True, ok=200),
    ),
    ("POST", "/cases/{case_id}/assign"): (
        lambda c, u, w: post(
            c,
            u,
            f"/cases/{w.new_case()['id']}/assign",
            {"assignee": w.actors.worker("PEMDA").username},
        ),
        _worker_case(_lead("supervisor")),
    ),
    ("GET", "/duplicates"): (
        lambda c, u, w: get(c, u, "/duplicates"),
        _roles(200, "supervisor"),
    ),
    ("POST", "/duplicates/{match_id}/link"): (
        lambda c, u, w: post(c, u, f"/duplicates/{_new_match(w)}/link", {}),
        _match_review,
    ),
    ("POST", "/duplicates/{match_id}/dismiss"): (
        lambda c, u, w: post(c, u, f"/duplicates/{_new_match(w)}/dismiss", {}),
        _match_review,
    ),
    ("GET", "/approvals"): (
        lambda c, u, w: get(c, u, "/approvals"),
        _roles(200, "case_worker", "supervisor", "auditor"),
    ),
    ("POST", "/approvals/{approval_id}/approve"): (
        _approval_form("approve"),
        _worker_case(_lead("supervisor")),
    ),
    ("POST", "/approvals/{approval_id}/reject"): (
        _approval_form("reject"),
        _worker_case(_lead("supervisor")),
    ),
    ("POST", "/approvals/{approval_id}/cancel"): (
        _approval_form("cancel"),
        _worker_case(_lead("case_worker")),
    ),
    # Arrivals and group approvals (service/arrivals/pages.py, service/groups/pages.py)
    ("GET", "/arrivals"): (
        lambda c, u, w: get(c, u, "/arrivals"),
        _roles(200, "case_worker", "supervisor", "auditor"),
    ),
    ("POST", "/arrivals"): (
        lambda c, u, w: post(c, u, "/arrivals", _ARRIVAL),
        _roles(303, "case_worker", "supervisor"),
    ),
    ("GET", "/arrivals/{arrival_id}"): (
        lambda c, u, w: get(c, u, f"/arrivals/{_arrival(w)}"),
        _roles(200, "case_worker", "supervisor", "auditor"),
    ),
    ("POST", "/arrivals/{arrival_id}/manifest"): (
        _upload,
        _roles(200, "case_worker", "supervisor"),
    ),
    ("GET", "/arrivals/{arrival_id}/group"): (
        lambda c, u, w: get(c, u, f"/arrivals/{_arrival(w)}/group?state=referral_received"),
        _roles(200, "case_worker", "supervisor"),
    ),
    ("POST", "/arrivals/{arrival_id}/group"): (  # the arrival has no case: nothing to choose
        lambda c, u, w: post(c, u, f"/arrivals/{_arrival(w)}/group", {"state": "x"}),
        _roles(422, "case_worker", "supervisor"),
    ),
    ("GET", "/group-approvals"): (
        lambda c, u, w: get(c, u, "/group-approvals"),
        _roles(200, "case_worker", "supervisor", "auditor"),
    ),
    ("GET", "/group-approvals/{group_id}"): (
        lambda c, u, w: get(c, u, f"/group-approvals/{_group(w)}"),
        _group_page,
    ),
    ("POST", "/group-approvals/{group_id}/approve"): (_group_form("approve"), _group_decision),
    ("POST", "/group-approvals/{group_id}/reject"): (_group_form("reject"), _group_decision),
    ("GET", "/figures"): (lambda c, u, w: get(c, u, "/figures"), _figures_home),
    ("GET", "/figures/{code}"): (lambda c, u, w: get(c, u, "/figures/PEMDA"), _figures_of_lead),
    ("GET", "/audit"): (lambda c, u, w: get(c, u, "/audit"), _roles(200, "auditor")),
    ("GET", "/audit/verify"): (
        lambda c, u, w: get(c, u, "/audit/verify?run=true"),
        _roles(200, "auditor"),
    ),
    ("GET", "/audit/checkpoints"): (
        lambda c, u, w: get(c, u, "/audit/checkpoints"),
        _roles(200, "auditor"),
    ),
    ("POST", "/audit/export"): (
        lambda c, u, w: post(c, u, "/audit/export", {"format": "jsonl"}),
        _roles(200, "auditor"),
    ),
    ("GET", "/audit/identity-access"): (
        lambda c, u, w: get(c, u, "/audit/identity-access"),
        _roles(200, "auditor"),
    ),
}

# --- the legal track's pages (service/legal/pages.py); POLRI is the `supporting` relation ------


def _criminal_case_page(w: WebWorld) -> str:
    body = {"police_report_number": f"LP/WEB/{next(w.counter)}", "reported_on": "2025-03-20",
            "region_code": "53"}  # fmt: skip
    made = w.client.post(
        "/api/v1/criminal-cases", json=body, headers=w.actors.worker("POLRI").headers
    )
    assert made.status_code == 201, made.text
    return f"/criminal-cases/{made.json()['id']}"


def _of_criminal_case(who: Who) -> int:
    if who.role == "anonymous":
        return 303
    if who.role == "admin":
        return 403
    return 200 if who.role == "auditor" or who.relation == "supporting" else 404


def _legal_track_page(who: Who) -> int:
    if who.role == "anonymous":
        return 303
    if who.role == "admin":
        return 403
    return 200 if who.sees_case else 404


RULES.update({
    ("GET", "/criminal-cases"): (
        lambda c, u, w: get(c, u, "/criminal-cases"),
        _roles(200, "case_worker", "supervisor", "auditor"),
    ),
    ("GET", "/criminal-cases/{criminal_case_id}"): (
        lambda c, u, w: get(c, u, _criminal_case_page(w)), _of_criminal_case,
    ),
    ("GET", "/cases/{case_id}/legal"): (
        lambda c, u, w: get(c, u, _case(w, "/legal")), _legal_track_page,
    ),
})  # fmt: skip

LAST = {("POST", "/logout")}


def _page_routes() -> list[tuple[str, str]]:
    """Every route of the routers the app mounts as pages (and their assets)."""
    return sorted(
        (method, route.path)
        for module in PAGES
        for route in module.router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    )


def test_every_page_has_an_access_rule(client: TestClient) -> None:
    routes = _page_routes()
    app: Any = client.app
    documented = app.openapi()["paths"]
    assert [path for _method, path in routes if path in documented] == [], "pages stay out"
    assert [route for route in routes if route not in RULES] == [], "add a rule for each page"
    assert set(RULES) == set(routes), "a rule names a page that no longer exists"


def test_every_page_answers_every_role_and_relation_as_its_rule_says(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    world = WebWorld(client, actors, context)
    for who in EVERYONE:
        world.web(who)
    failures = []
    for route, who in itertools.product(sorted(RULES, key=lambda r: r in LAST), EVERYONE):
        call, expect = RULES[route]
        response = call(client, world.web(who), world)
        if response.status_code != expect(who):
            failures.append(f"{route} as {who}: {response.status_code}, expected {expect(who)}")
        if who.role == "anonymous" and response.status_code == 303 and route[1] != "/":
            location = response.headers["location"]
            if route not in (("POST", "/language"), ("GET", "/home")) or location != "/home":
                assert location.startswith(("/login", "/home")), (route, location)
        if route != ("POST", "/cases/{case_id}/identity"):
            assert NAME not in response.text, (route, who)
    assert failures == []


def test_every_form_is_refused_without_its_csrf_token_and_changes_nothing(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    """Each POST page, sent by one its rule lets through but with a forged token: 403."""
    world = WebWorld(client, actors, context)
    refused = []
    for route in sorted(r for r in RULES if r[0] == "POST" and r[1] != "/login"):
        call, expect = RULES[route]
        allowed = next(
            who for who in EVERYONE if who.role != "anonymous" and expect(who) not in (403, 404)
        )
        user = world.web(allowed)
        assert user is not None
        forged = replace(user, csrf="0" * 64)
        response = call(client, forged, world)
        if response.status_code != 403:
            refused.append(f"{route} as {allowed}: {response.status_code}")
        if route == ("POST", "/logout"):
            assert get(client, user, "/work").status_code == 200  # still logged in
    assert refused == []


def test_a_case_one_may_not_see_reads_like_one_that_does_not_exist(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    world = WebWorld(client, actors, context)
    outsider = world.web(Who("case_worker", "other"))
    for suffix in ("", "/history", "/diagram"):
        hidden = get(client, outsider, _case(world, suffix))
        missing = get(client, outsider, f"/cases/{uuid.uuid4()}{suffix}")
        garbage = get(client, outsider, f"/cases/not-a-case{suffix}")
        assert hidden.status_code == missing.status_code == garbage.status_code == 404
        assert visible_text(hidden.text) == visible_text(missing.text) == visible_text(garbage.text)
        assert world.case["reference"] not in hidden.text


@pytest.mark.parametrize("relation", ["lead", "earlier", "referrer"])
def test_showing_the_identity_is_a_deliberate_look_and_each_look_is_logged(
    client: TestClient, actors: Actors, context: AppContext, relation: str
) -> None:
    world = WebWorld(client, actors, context)
    reader = world.web(Who("case_worker", relation))
    page = get(client, reader, _case(world))
    assert page.status_code == 200 and NAME not in page.text
    assert "/identity" in page.text  # the button to look
    before = _looks(context, world)  # the API's looks while the case was made
    for looks in (1, 2):
        shown = post(client, reader, _case(world, "/identity"))
        assert shown.status_code == 200 and NAME in shown.text
        assert _looks(context, world) == before + looks


def test_no_identity_button_for_those_who_may_not_see_it(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    world = WebWorld(client, actors, context)
    before = _looks(context, world)
    for who in (Who("case_worker", "supporting"), Who("auditor")):
        page = get(client, world.web(who), _case(world))
        assert page.status_code == 200 and NAME not in page.text
        assert f"{_case(world)}/identity" not in page.text
    refused = post(client, world.web(Who("case_worker", "supporting")), _case(world, "/identity"))
    assert refused.status_code == 403 and NAME not in refused.text
    assert _looks(context, world) == before


def test_firing_from_a_page_logs_no_look_at_the_identity(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    world = WebWorld(client, actors, context)
    before = _looks(context, world)
    lead = world.web(Who("case_worker", "lead"))
    data = {
        "trigger": "lose_contact", "source": "screening", "workflow": "nrm-indonesia",
        "version": "1", "expected_version": str(world.case["version"]), "form_key": "once",
        "payload.last_seen_on": "2026-01-02",
    }  # fmt: skip
    answer = post(client, lead, _case(world, "/transitions"), data)
    assert answer.status_code in (303, 409, 422)  # lose_contact does not leave screening
    police = world.web(Who("case_worker", "supporting"))
    assert _police_report(client, police, world).status_code == 303
    assert _looks(context, world) == before


def _looks(context: AppContext, world: WebWorld) -> int:
    with context.database.transaction() as session:
        count = session.exec(
            select(func.count()).where(col(IdentityAccess.case_id) == uuid.UUID(world.case["id"]))
        ).one()
    return int(count)
