"""The pages' behaviour without a browser: sessions, CSRF, idle timeout, language, forms,
errors, assets. (Walks through the pages in Chromium are in tests/test_browser.py.)"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, func, select, update

from service.app import create_app
from service.kit.context import AppContext
from service.models import AuthSession, CaseFile
from service.web import assets
from service.web.i18n import Translator
from tests.factories import PASSWORD, Actors, intake_body, register
from tests.web import get, post, visible_text, web_login

INTAKE = {
    "victim.full_name": "Siti Rahayu", "victim.sex": "female", "victim.birth_date": "2003-04-12",
    "victim.nationality": "ID", "victim.province_of_origin": "Nusa Tenggara Timur",
    "referral.channel": "embassy", "referral.country_of_exploitation": "MM",
    "referral.exploitation_types": ["forced_criminality"],
}  # fmt: skip


def _form_login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    client.cookies.clear()
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf": token.group(1), "next": "/"},
        follow_redirects=False,
    )
    return response.headers.get("set-cookie", "") if response.status_code == 303 else ""


# --- sessions -----------------------------------------------------------------------------
def test_the_login_form_opens_a_strict_http_only_session_and_lands_on_the_role_page(
    client: TestClient, actors: Actors
) -> None:
    user = actors.worker("KEMLU")
    cookies = _form_login(client, user.username)
    assert "nrm_session=" in cookies
    session_cookie = next(c for c in cookies.split(", nrm") if "session=" in c)
    assert "HttpOnly" in session_cookie and "SameSite=strict" in session_cookie.replace(
        "Strict", "strict"
    )
    assert "Secure" not in session_cookie  # plain http in tests
    home = client.get("/home", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/work"


def test_the_cookie_is_secure_behind_https(client: TestClient, actors: Actors) -> None:
    user = actors.worker("KEMLU")
    secure = TestClient(client.app, base_url="https://testserver")
    assert "Secure" in _form_login(secure, user.username)


def test_logging_out_ends_the_session_at_once(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    me = web_login(context, actors.worker("KEMLU"))
    assert get(client, me, "/work").status_code == 200
    assert post(client, me, "/logout").status_code == 303
    gone = get(client, me, "/work")
    assert gone.status_code == 303 and gone.headers["location"].startswith("/login")


def test_deactivating_a_user_ends_their_browser_session(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    worker = actors.worker("KEMLU")
    me = web_login(context, worker)
    admin = web_login(context, actors.admin())
    assert post(client, admin, f"/admin/users/{worker.id}", {"active": "false"}).status_code == 303
    assert get(client, me, "/work").headers["location"].startswith("/login")


def test_an_idle_session_ends(client: TestClient, actors: Actors, context: AppContext) -> None:
    me = web_login(context, actors.worker("KEMLU"))
    idle = timedelta(minutes=context.settings.web_idle_minutes + 1)
    with context.database.transaction() as session:
        session.execute(
            update(AuthSession)
            .where(col(AuthSession.kind) == "browser")
            .values(last_seen_at=datetime.now(UTC) - idle)
        )
    assert get(client, me, "/work").status_code == 303


def test_a_browser_session_is_no_bearer_credential(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    me = web_login(context, actors.worker("KEMLU"))
    response = client.get("/api/v1/me/cases", headers={"Authorization": f"Bearer {me.token}"})
    assert response.status_code == 401


def test_a_post_without_the_csrf_token_is_refused(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    me = web_login(context, actors.worker("KEMLU"))
    client.cookies.clear()
    response = client.post(
        "/cases", headers=me.headers, data={"form_key": "x", **INTAKE}, follow_redirects=False
    )
    assert response.status_code == 403
    with context.database.transaction() as session:
        assert session.exec(select(func.count()).select_from(CaseFile)).one() == 0


def test_the_login_page_has_the_api_s_rate_limit(client: TestClient, actors: Actors) -> None:
    user = actors.worker("KEMLU")
    for _ in range(5):
        assert _form_login(client, user.username, "wrong password!!") == ""
    client.cookies.clear()
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    refused = client.post(
        "/login", data={"username": user.username, "password": PASSWORD, "csrf": token.group(1)}
    )
    assert refused.status_code == 429 and "Terlalu banyak" in refused.text


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil"])
def test_after_login_only_paths_of_this_site(
    client: TestClient, actors: Actors, target: str
) -> None:
    user = actors.worker("KEMLU")
    client.cookies.clear()
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    response = client.post(
        "/login",
        data={
            "username": user.username,
            "password": PASSWORD,
            "csrf": token.group(1),
            "next": target,
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/home"


def test_the_login_page_lists_the_demo_users_only_when_the_demo_is_loaded(
    client: TestClient,
) -> None:
    assert "nrm-demo-2026" not in client.get("/login").text


# --- language -----------------------------------------------------------------------------
def test_indonesian_by_default_english_by_choice_remembered_on_the_user(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    user = actors.worker("KEMLU")
    me = web_login(context, user)
    assert 'lang="id"' in get(client, me, "/work").text
    assert post(client, me, "/language", {"language": "en", "next": "/work"}).status_code == 303
    again = web_login(context, user)  # a new session, days later
    page = get(client, again, "/work")
    assert 'lang="en"' in page.text and "Ministry queue" in page.text


def test_both_catalogues_say_everything() -> None:
    from service.web.i18n import catalogue

    indonesian, english = catalogue("id"), catalogue("en")
    assert set(indonesian) == set(english)
    assert [k for k, v in {**indonesian, **english}.items() if not v.strip()] == []


def test_every_field_and_choice_of_every_payload_schema_has_both_labels(
    context: AppContext,
) -> None:
    from service.web.forms import schema_fields

    missing: set[str] = set()
    for definition in context.registry.definitions():
        for row in definition.transitions:
            stack = schema_fields(row.payload_schema)
            while stack:
                field = stack.pop()
                stack.extend(field.children)
                for language in ("id", "en"):
                    t = Translator(language, context.registry)
                    if not t.has(f"field.{field.key}"):
                        missing.add(f"field.{field.key}")
                    missing.update(
                        f"enum.{o}" for o in field.options
                        if not o.isupper() and not t.has(f"enum.{o}")
                    )  # fmt: skip
    assert missing == set()


def test_every_catalogue_key_a_template_names_exists() -> None:
    from pathlib import Path

    from service.web.i18n import catalogue

    keys = set(catalogue("id"))
    named: set[str] = set()
    for template in Path("service").rglob("templates/**/*.html"):
        named.update(re.findall(r"\bt\('([a-z_0-9.]+)'[,)]", template.read_text("utf-8")))
    assert sorted(k for k in named if k not in keys) == []


def test_dates_in_wib_indonesian_style() -> None:
    t = Translator("id")
    instant = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)  # 00.30 WIB the next day
    assert t.datetime(instant) == "2 Mar 2026, 00.30 WIB"
    assert t.date("2026-08-17") == "17 Agustus 2026"
    assert Translator("en").datetime(instant) == "2 Mar 2026, 00:30 WIB"
    assert t.number(1234.5, 1) == "1.234,5"


# --- forms --------------------------------------------------------------------------------
def test_a_refused_referral_keeps_the_draft_and_says_why_beside_the_field(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    me = web_login(context, actors.worker("KEMLU"))
    draft = {**INTAKE, "form_key": "k1", "victim.sex": "", "victim.birth_date": "2999-01-01"}
    page = post(client, me, "/cases", draft)
    assert page.status_code == 422
    text = visible_text(page.text)
    assert "Jenis kelamin: wajib diisi." in text
    assert "Tanggal lahir: tidak boleh di masa depan." in text
    assert 'value="Siti Rahayu"' in page.text and 'value="2999-01-01"' in page.text
    assert 'aria-invalid="true"' in page.text
    assert f'name="csrf" value="{me.csrf}"' in page.text  # the corrected form can be sent


def test_pressing_register_twice_makes_one_case(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    me = web_login(context, actors.worker("KEMLU"))
    first = post(client, me, "/cases", {**INTAKE, "form_key": "twice"})
    second = post(client, me, "/cases", {**INTAKE, "form_key": "twice"})
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    with context.database.transaction() as session:
        assert session.exec(select(func.count()).select_from(CaseFile)).one() == 1


def _action(case: dict[str, object], trigger: str, source: str, **payload: str) -> dict[str, str]:
    return {
        "trigger": trigger, "source": source, "workflow": "nrm-indonesia", "version": "1",
        "expected_version": str(case["version"]), "form_key": f"k-{trigger}-{case['version']}",
        **{f"payload.{k}": v for k, v in payload.items()},
    }  # fmt: skip


def test_a_stale_form_says_someone_else_moved_the_case_and_shows_where_it_is(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = register(client, actors.worker("KEMLU"), intake_body())
    me = web_login(context, actors.worker("KEMLU"))
    url = f"/cases/{case['id']}/transitions"
    moved = post(
        client, me, url, _action(case, "begin_screening_abroad", "referred", mission="KBRI")
    )
    assert moved.status_code == 303
    stale = post(client, me, url, _action(case, "begin_screening", "referred"))
    assert stale.status_code == 409
    text = visible_text(stale.text)
    assert "Orang lain baru saja memindahkan kasus ini" in text
    assert "Skrining oleh Perwakilan RI (versi 2)" in text


def test_a_payload_refusal_names_the_field_in_the_user_s_language(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = register(client, actors.worker("KEMLU"), intake_body())
    me = web_login(context, actors.worker("KEMLU"))
    url = f"/cases/{case['id']}/transitions"
    refused = post(
        client, me, url, _action(case, "begin_screening_abroad", "referred", mission="X")
    )
    assert refused.status_code == 422
    assert "Perwakilan RI: terlalu pendek." in visible_text(refused.text)
    assert 'value="X"' in refused.text  # the value is kept


def test_a_sensitive_action_waits_for_a_supervisor_of_the_inbox(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = register(client, actors.worker("KEMLU"), intake_body())
    worker = web_login(context, actors.worker("KEMLU"))
    url = f"/cases/{case['id']}/transitions"
    assert post(client, worker, url, _action(case, "begin_screening_abroad", "referred",
                                             mission="KBRI Yangon")).status_code == 303  # fmt: skip
    case["version"] = 2
    asked = post(client, worker, url, _action(case, "identify", "screening_abroad",
                                              indicators="exploitation"))  # fmt: skip
    assert asked.status_code == 303 and "pending=identify" in asked.headers["location"]
    supervisor = web_login(context, actors.supervisor("KEMLU"))
    inbox = get(client, supervisor, "/approvals")
    approval = re.search(r"/approvals/([0-9a-f-]{36})/approve", inbox.text)
    assert approval is not None
    too_short = post(client, supervisor, f"/approvals/{approval.group(1)}/approve", {"reason": "o"})
    assert too_short.status_code == 422
    decided = post(client, supervisor, f"/approvals/{approval.group(1)}/approve",
                   {"reason": "checked against the file"})  # fmt: skip
    assert decided.status_code == 303
    page = get(client, worker, f"/cases/{case['id']}")
    assert "Teridentifikasi di luar negeri" in page.text


# --- errors and assets --------------------------------------------------------------------
def test_unknown_pages_are_pages_and_the_api_stays_json(client: TestClient) -> None:
    page = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    api = client.get("/api/v1/no-such-thing", headers={"Accept": "text/html"})
    assert api.status_code == 404 and api.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "url",
    ["/work?tab=nope", "/work?state=" + "x" * 200, "/work?cursor=garbage", "/work?phase=moon",
     "/cases/%00", "/figures/PEMDA?from=yesterday", "/audit?since=2026-13-45",
     "/escalations?level=cosmic", "/approvals?status=whatever&cursor=zz",
     "/work?tab=unit&unit=nope", "/work?tab=incoming&unit=" + "x" * 100,
     "/work?tab=incoming&cursor=garbage", "/figures/units/NOPE", "/figures/regions/99",
     "/figures/units/PEMDA-NASIONAL?from=2026-02-30"],
)  # fmt: skip
def test_bad_input_is_a_page_never_a_500(
    client: TestClient, actors: Actors, context: AppContext, url: str
) -> None:
    for user in (actors.supervisor("PEMDA"), actors.auditor()):
        response = get(client, web_login(context, user), url)
        assert response.status_code < 500 and "text/html" in response.headers["content-type"]


def test_assets_are_served_by_the_app_versioned_and_cached_for_a_year(client: TestClient) -> None:
    for name in ("app.css", "app.js", "htmx.min.js"):
        response = client.get(assets.url(name), headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200
        assert "immutable" in response.headers["cache-control"]
        assert response.headers["content-encoding"] == "gzip"
    assert client.get("/static/0/app.css").headers["cache-control"] == "no-cache"
    assert client.get("/static/0/nothing.js").status_code == 404


def test_pages_are_never_cached_and_cannot_be_framed(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    page = get(client, web_login(context, actors.worker("KEMLU")), "/work")
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_the_app_has_its_context_replaced_per_test(context: AppContext) -> None:
    """The pages take the context from the app, like the API (no module-level state)."""
    other = replace(context)
    assert create_app(other).state.context is other


def test_an_admin_changes_a_role_and_that_ends_the_user_s_session_but_saving_nothing_does_not(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    worker = actors.worker("KEMLU")
    me = web_login(context, worker)
    admin = web_login(context, actors.admin())
    same = {"role": "case_worker", "ministry": "KEMLU", "was_role": "case_worker",
            "was_ministry": "KEMLU"}  # fmt: skip
    assert post(client, admin, f"/admin/users/{worker.id}", same).status_code == 303
    assert get(client, me, "/work").status_code == 200
    moved = {**same, "role": "auditor", "ministry": ""}  # (a supervisor waits for two admins)
    assert post(client, admin, f"/admin/users/{worker.id}", moved).status_code == 303
    assert get(client, me, "/work").status_code == 303
    page = get(client, admin, "/admin/users")
    assert page.status_code == 200 and worker.username in page.text


# --- units and hand-overs -----------------------------------------------------------------
def test_an_admin_opens_renames_and_closes_units_and_bad_input_is_named_beside_the_field(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    admin = web_login(context, actors.admin())
    listed = get(client, admin, "/admin/units")
    assert listed.status_code == 200 and "PEMDA-NASIONAL" in listed.text
    assert 'href="/admin/units"' in listed.text  # in the menu
    wrong = {"code": "PEMDA-KUPANG", "name": "Kota Kupang", "ministry": "PEMDA",
             "level": "district", "region_code": "53"}  # fmt: skip
    refused = post(client, admin, "/admin/units", wrong)
    assert refused.status_code == 422
    assert 'id="region_code-error"' in refused.text and 'value="Kota Kupang"' in refused.text
    made = post(client, admin, "/admin/units", {**wrong, "region_code": "53.71"})
    assert made.status_code == 303 and "created=PEMDA-KUPANG" in made.headers["location"]
    again = post(client, admin, "/admin/units", {**wrong, "region_code": "53.71"})
    assert again.status_code == 422 and "Unit dengan kode ini sudah ada." in again.text
    renamed = post(client, admin, "/admin/units/PEMDA-KUPANG", {"name": "UPTD PPA Kota Kupang"})
    assert renamed.status_code == 303
    assert "UPTD PPA Kota Kupang" in get(client, admin, "/admin/units").text
    short = post(client, admin, "/admin/units/PEMDA-KUPANG", {"name": "x"})
    assert short.status_code == 422 and 'id="unit-PEMDA-KUPANG-error"' in short.text
    closed = post(client, admin, "/admin/units/PEMDA-KUPANG", {"active": "false"})
    assert closed.status_code == 303
    assert "Ditutup" in visible_text(get(client, admin, "/admin/units").text)


def test_an_admin_puts_a_user_in_a_unit_and_the_ministry_follows(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    admin = web_login(context, actors.admin())
    unit = {"code": "KEMSOS-NTT", "name": "Dinas Sosial NTT", "ministry": "KEMENSOS",
            "level": "province", "region_code": "53"}  # fmt: skip
    assert post(client, admin, "/admin/units", unit).status_code == 303
    account = {"username": "sosial.ntt", "role": "case_worker", "ministry": "KEMLU",
               "unit": "kemsos-ntt", "password": "a long probe passphrase"}  # fmt: skip
    assert post(client, admin, "/admin/users", account).status_code == 303
    unknown = {**account, "username": "sosial.ntt2", "unit": "NO-SUCH-UNIT"}
    refused = post(client, admin, "/admin/users", unknown)
    assert refused.status_code == 422 and 'value="NO-SUCH-UNIT"' in refused.text
    row = re.search(r'<tr id="user-(\d+)">\s*<th scope="row">sosial.ntt</th>', refused.text)
    assert row is not None and "KEMSOS-NTT" in refused.text
    worker = actors.worker("KEMLU")
    moved = {"was_role": "case_worker", "was_ministry": "KEMLU", "was_unit": "KEMLU-NASIONAL",
             "role": "case_worker", "ministry": "KEMLU", "unit": "KEMSOS-NTT"}  # fmt: skip
    assert post(client, admin, f"/admin/users/{worker.id}", moved).status_code == 303
    page = visible_text(get(client, admin, "/admin/users").text)
    assert f"{worker.username} Pendamping kasus KEMENSOS" in page


def _unit_with_worker(
    client: TestClient, actors: Actors, code: str, region: str, role: str = "case_worker"
) -> str:
    """A PEMDA district unit (made through the API) and a user of that unit; the username."""
    admin = actors.admin().headers
    body = {"code": code, "name": f"UPTD PPA {region}", "ministry": "PEMDA",
            "level": "district", "region_code": region}  # fmt: skip
    made = client.post("/api/v1/units", json=body, headers=admin)
    assert made.status_code in (201, 409), made.text
    username = f"{role}.{code.lower()}"
    user = {"username": username, "role": role, "unit": code, "password": PASSWORD}
    assert client.post("/api/v1/users", json=user, headers=admin).status_code == 201
    return username


def test_a_hand_over_is_declined_with_a_reason_rerouted_and_accepted_from_the_pages(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    kab = web_login(context, _unit_with_worker(client, actors, "PEMDA-KAB-KUPANG", "53.01"))
    kota = web_login(context, _unit_with_worker(client, actors, "PEMDA-KOTA-KUPANG", "53.71"))
    case = register(client, actors.worker("KEMLU"), intake_body())
    sender = web_login(context, actors.worker("KEMENPPPA"))
    url = f"/cases/{case['id']}"
    screen = get(client, sender, url)
    assert 'name="to_unit"' in screen.text and "PEMDA-KAB-KUPANG" in screen.text
    sent = post(
        client,
        sender,
        f"{url}/transitions",
        {**_action(case, "begin_screening", "referred"), "to_unit": "PEMDA-KAB-KUPANG"},
    )
    assert sent.status_code == 303, sent.text
    waiting = visible_text(get(client, sender, url).text)
    assert "Serah terima kepada PEMDA-KAB-KUPANG menunggu diterima" in waiting
    assert "KEMENPPPA-NASIONAL tetap bertanggung jawab" in waiting
    incoming = get(client, kab, "/work?tab=incoming")
    assert case["reference"] in incoming.text and f"{url}/transfer/accept" in incoming.text
    assert "ke PEMDA-KAB-KUPANG, batas" in visible_text(incoming.text)
    no_reason = post(client, kab, f"{url}/transfer/decline", {"reason": ""})
    assert no_reason.status_code == 422 and 'id="reason-error"' in no_reason.text
    declined = post(client, kab, f"{url}/transfer/decline", {"reason": "family lives in the city"})
    assert declined.status_code == 303 and declined.headers["location"].endswith("notice=declined")
    assert case["reference"] not in get(client, kab, "/work?tab=incoming").text
    unknown = post(client, sender, f"{url}/transfer", {"to_unit": "KEMLU-NASIONAL"})
    assert unknown.status_code == 422 and 'id="to_unit-error"' in unknown.text
    rerouted = post(client, sender, f"{url}/transfer", {"to_unit": "PEMDA-KOTA-KUPANG"})
    assert rerouted.status_code == 303
    assert post(client, kab, f"{url}/transfer/accept").status_code == 403  # not theirs now
    accepted = post(client, kota, f"{url}/transfer/accept")
    assert accepted.status_code == 303 and accepted.headers["location"].endswith("notice=accepted")
    mine = get(client, kota, "/work")  # the unit's queue is the default tab
    assert 'aria-current="page">Unit saya' in mine.text and case["reference"] in mine.text
    page = visible_text(get(client, kota, url).text)
    assert "Unit pemimpin PEMDA-KOTA-KUPANG" in page and "Serah terima kepada" not in page
    admin = web_login(context, actors.admin())
    refused = post(client, admin, "/admin/units/PEMDA-KOTA-KUPANG", {"active": "false"})
    assert refused.status_code == 422
    assert "masih memimpin atau akan menerima 1 kasus terbuka" in visible_text(refused.text)
    national = web_login(context, actors.supervisor("PEMDA"))
    below = get(client, national, "/work?tab=unit&unit=PEMDA-KOTA-KUPANG")
    assert below.status_code == 200 and case["reference"] in below.text
    assert '<option value="PEMDA-KAB-KUPANG">' in below.text
    assert get(client, kab, "/work?tab=unit&unit=PEMDA-KOTA-KUPANG").status_code == 403
    figures = get(client, national, "/figures/units/PEMDA-NASIONAL")
    assert figures.status_code == 200 and 'href="/figures/units/PEMDA-KOTA-KUPANG"' in figures.text
    assert 'href="/figures/units/' in get(client, national, "/figures").text
    region = get(client, web_login(context, actors.auditor()), "/figures/regions/53")
    assert region.status_code == 200 and "PEMDA" in region.text


def test_the_menu_marks_one_page_current_the_most_specific(
    client: TestClient, context: AppContext, actors: Actors
) -> None:
    auditor = web_login(context, actors.auditor())
    page = get(client, auditor, "/audit/verify").text
    current = re.findall(r'<a href="([^"]+)" aria-current="page">', page)
    assert current == ["/audit/verify"]  # not "/audit" (the search) as well
    search = get(client, auditor, "/audit").text
    assert re.findall(r'<a href="([^"]+)" aria-current="page">', search) == ["/audit"]
