"""The application in a real browser (Chromium through Playwright), as its users would use it.

A KEMLU case worker registers the contract's example victim; the case moves through all four
phases to closure, each step by a user of the ministry leading it and the sensitive ones approved
by a supervisor in the inbox; a stale second tab gets the conflict message; a user of an
unrelated ministry gets the not-found page; an auditor verifies the log and downloads the
export; the language switch changes every label; and axe-core finds no serious or critical
accessibility violation on any page.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import func, select

from bench._setup import live_server
from service.kit.context import AppContext
from service.models import CaseFile
from service.web.i18n import catalogue
from tests.browser import PASSWORD, add_users, launch, require_chromium, served_database
from tests.conftest import fresh_database
from tests.factories import ALL_MINISTRIES

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parent.parent / "bench" / "out" / "browser"
MINISTRIES_IN_WALK = ("KEMLU", "KEMENSOS", "PEMDA", "KEMENPPPA")
PATH: list[tuple[str, dict[str, Any]]] = [
    ("begin_screening_abroad", {"payload.mission": "KBRI Yangon"}),
    ("identify", {"payload.indicators": ["deceptive_recruitment", "exploitation"]}),
    (
        "record_consent",
        {
            "payload.consent.by": "victim",
            "payload.consent.purposes": ["services", "data_sharing"],
            "payload.consent.recipients": ALL_MINISTRIES,
            "payload.consent.given_on": "2026-01-05",
        },
    ),
    ("depart", {"payload.travel_date": "2026-02-01"}),
    (
        "hand_over_at_arrival",
        {
            "payload.arrival_point": "Bandara Soekarno-Hatta",
            "payload.arrived_on": "2026-02-02",
        },
    ),
    ("hand_to_province", {"payload.province": "Nusa Tenggara Timur"}),
    ("hand_to_district", {"payload.district": "Kabupaten Kupang"}),
    ("reunite_with_family", {"payload.placement": "family"}),
    ("complete_reintegration", {"payload.services": ["family_support", "vocational_training"]}),
    ("close", {"payload.reason": "reintegrated", "payload.summary": "back with her family"}),
]


class Browser:
    """One logged-in browser context per user, kept for the module."""

    def __init__(self, chromium: Any, base: str) -> None:
        self.chromium, self.base = chromium, base
        self.people: dict[str, Any] = {}

    def page(self, username: str, *, fresh: bool = False) -> Any:
        if fresh or username not in self.people:
            context = self.chromium.new_context(
                base_url=self.base, accept_downloads=True, bypass_csp=True
            )
            page = context.new_page()
            log_in(page, username)
            if fresh:
                return page
            self.people[username] = page
        return self.people[username]


def log_in(page: Any, username: str) -> None:
    page.goto("/")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(re.compile(r"/(work|audit|admin/users)"))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AppContext, str]]:
    require_chromium()
    with fresh_database(tmp_path_factory.mktemp("browser")) as url, served_database(url) as context:
        accounts: list[tuple[str, str, str | None]] = [("auditor", "auditor", None)]
        for code in (*MINISTRIES_IN_WALK, "KEMNAKER"):
            accounts += [(f"{code.lower()}.worker", "case_worker", code),
                         (f"{code.lower()}.supervisor", "supervisor", code)]  # fmt: skip
        accounts.append(("admin", "admin", None))
        add_users(context, *accounts)
        with live_server(context) as base:
            yield context, base


@pytest.fixture(scope="module")
def browser(served: tuple[AppContext, str]) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            yield Browser(chromium, served[1])
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def case_url(served: tuple[AppContext, str], browser: Browser) -> str:
    """The contract's example victim, registered through the form by a KEMLU case worker."""
    context, _base = served
    page = browser.page("kemlu.worker")
    page.get_by_role("link", name="Daftarkan rujukan").click()
    page.get_by_label("Nama lengkap").fill("Siti Rahayu")
    page.get_by_label("Tanggal lahir").fill("2003-04-12")
    page.get_by_label("Kewarganegaraan").select_option("ID")
    page.get_by_label("Provinsi asal").select_option("Nusa Tenggara Timur")
    page.get_by_label("Jalur rujukan").select_option("embassy")
    page.get_by_label("Negara tempat eksploitasi").select_option("MM")
    page.get_by_label("Dipaksa melakukan kejahatan (penipuan daring)").check()
    page.get_by_role("button", name="Daftarkan kasus").click()
    # the sex was left out: the message is beside the field, and nothing typed is lost
    error = page.locator("#victim-sex-error")
    assert "wajib diisi" in error.inner_text()
    assert page.get_by_label("Nama lengkap").input_value() == "Siti Rahayu"
    assert page.get_by_label("Negara tempat eksploitasi").input_value() == "MM"
    page.get_by_label("Jenis kelamin").select_option("female")
    page.get_by_role("button", name="Daftarkan kasus").dblclick()  # pressed twice
    page.wait_for_url(re.compile(r"/cases/[0-9a-f-]{36}\?registered=1"))
    assert "Kasus terdaftar" in page.inner_text("main")
    with context.database.transaction() as session:
        assert session.exec(select(func.count()).select_from(CaseFile)).one() == 1
    return str(page.url).split("?")[0]


def _fill(form: Any, values: dict[str, Any]) -> None:
    for name, value in values.items():
        if isinstance(value, list):
            for item in value:
                form.locator(f'input[name="{name}"][value="{item}"]').check()
            continue
        field = form.locator(f'[name="{name}"]')
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)


def _act(page: Any, case_url: str, trigger: str, values: dict[str, Any]) -> None:
    page.goto(case_url)
    action = page.locator(f"details#action-{trigger}")
    action.locator("summary").click()
    _fill(action, values)
    action.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"\?(done|pending)="))


def _approve(page: Any, reference: str) -> None:
    page.goto("/approvals")
    request = page.locator("article", has_text=reference)
    request.get_by_label("Alasan keputusan").fill("checked against the file")
    request.get_by_role("button", name="Setujui").click()
    page.wait_for_url(re.compile(r"/approvals\?done=approve"))


def test_the_case_moves_through_four_phases_to_closure_each_step_by_its_ministry(
    served: tuple[AppContext, str], browser: Browser, case_url: str
) -> None:
    context, _base = served
    definition = context.registry.latest("nrm-indonesia")
    assert definition is not None
    workflow = definition.definition
    state, phases = workflow.initial, set()
    reference = browser.page("kemlu.worker").locator("h1").inner_text().split()[0]
    for trigger, values in PATH:
        ministry = workflow.state(state).ministry
        worker = browser.page(f"{ministry.lower()}.worker")
        _act(worker, case_url, trigger, values)
        row = workflow.transition(trigger, state)
        assert row is not None
        if row.sensitive:
            assert "menunggu persetujuan" in worker.inner_text("main")
            _approve(browser.page(f"{ministry.lower()}.supervisor"), reference)
        worker.goto(case_url)
        state = row.dest
        assert workflow.state(state).label.id in worker.locator("h1").inner_text()
        phases.add(workflow.state(state).phase)
    assert state == "closed"
    assert {"identification", "rehabilitation", "repatriation", "reintegration"} <= phases
    history = browser.page("pemda.worker")
    history.goto(case_url + "/history")
    assert history.locator(".timeline li").count() >= len(PATH) + 4  # and approvals, etc.
    assert "Siti Rahayu" not in history.content()


def test_a_second_tab_with_a_stale_version_gets_the_conflict_message(
    browser: Browser,
) -> None:
    first = browser.page("kemlu.worker")
    first.goto("/cases/new")
    first.get_by_label("Nama lengkap").fill("Dewi Lestari")
    first.get_by_label("Jenis kelamin").select_option("female")
    first.get_by_label("Perkiraan umur (tahun)").fill("24")
    first.get_by_label("Jalur rujukan").select_option("ngo")
    first.get_by_role("button", name="Daftarkan kasus").click()
    first.wait_for_url(re.compile(r"registered=1"))
    url = str(first.url).split("?")[0]
    second = first.context.new_page()  # a second tab, opened before the case moves
    second.goto(url)
    _act(first, url, "begin_screening_abroad", {"payload.mission": "KBRI Kuala Lumpur"})
    action = second.locator("details#action-begin_screening_abroad")  # as the tab shows it
    action.locator("summary").click()
    _fill(action, {"payload.mission": "KBRI Phnom Penh"})
    action.locator("button[type=submit]").click()
    alert = second.get_by_role("alert")
    assert "Orang lain baru saja memindahkan kasus ini" in alert.inner_text()
    assert "Skrining oleh Perwakilan RI" in alert.inner_text()
    second.close()


def test_a_user_of_an_unrelated_ministry_gets_the_not_found_page(
    browser: Browser, case_url: str
) -> None:
    page = browser.page("kemnaker.worker")
    page.goto(case_url)
    hidden = page.inner_text("main")
    page.goto(f"/cases/{uuid.uuid4()}")
    assert "Tidak ditemukan" in hidden and hidden == page.inner_text("main")


def test_an_auditor_verifies_the_log_and_downloads_the_export(
    browser: Browser, case_url: str, tmp_path: Path
) -> None:
    page = browser.page("auditor")
    page.get_by_role("link", name="Verifikasi log").click()
    page.get_by_role("button", name="Jalankan verifikasi").click()
    assert "Log utuh" in page.get_by_role("status").inner_text()
    page.get_by_role("link", name="Cari peristiwa").click()
    for button, suffix in (("Unduh JSON Lines", "jsonl"), ("Unduh CSV", "csv")):
        with page.expect_download() as download:
            page.get_by_role("button", name=button).click()
        saved = tmp_path / f"export.{suffix}"
        download.value.save_as(saved)
        lines = saved.read_text("utf-8").splitlines()
        assert len(lines) > 15, lines  # the four-phase case and its approvals, checkpoints
        if suffix == "jsonl":
            kinds = {json.loads(line)["type"] for line in lines}
            assert {"event", "checkpoint"} <= kinds
        else:
            assert lines[0].startswith('"seq","stream"')  # every cell quoted (CSV injection)
    assert "Siti" not in saved.read_text("utf-8")
    page.goto(case_url + "/history")  # a case's history, without identity
    assert "Riwayat" in page.locator("h1").inner_text() and "Siti" not in page.content()


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _open_unit(admin: Any, code: str, name: str, region: str) -> None:
    admin.goto("/admin/units")
    form = admin.locator("form", has=admin.get_by_role("button", name="Buka unit"))
    form.get_by_label("Kode").fill(code)
    form.get_by_label("Nama").fill(name)
    form.get_by_label("Kementerian/lembaga").select_option("PEMDA")
    form.get_by_label("Tingkat").select_option("district")
    form.get_by_label("Wilayah").select_option(region)
    form.get_by_role("button", name="Buka unit").click()
    admin.wait_for_url(re.compile(r"created="))


def _add_member(admin: Any, username: str, unit: str) -> None:
    admin.goto("/admin/users")
    form = admin.locator("form", has=admin.get_by_role("button", name="Buat akun"))
    form.get_by_label("Nama pengguna").fill(username)
    form.get_by_label("Peran").select_option("case_worker")
    form.get_by_label("Unit").fill(unit)
    form.get_by_label("Kata sandi").fill(PASSWORD)
    form.get_by_role("button", name="Buat akun").click()
    admin.wait_for_url(re.compile(r"created="))


def test_a_hand_over_is_declined_with_a_reason_sent_elsewhere_and_accepted(
    browser: Browser,
    case_url: str,  # the module's first case comes first (it counts the cases it makes)
) -> None:
    admin = browser.page("admin")
    _open_unit(admin, "PEMDA-KAB-KUPANG", "UPTD PPA Kabupaten Kupang", "53.01")
    _open_unit(admin, "PEMDA-KOTA-KUPANG", "UPTD PPA Kota Kupang", "53.71")
    _shot(admin, "units-admin")
    _add_member(admin, "kabkupang.worker", "PEMDA-KAB-KUPANG")
    _add_member(admin, "kotakupang.worker", "PEMDA-KOTA-KUPANG")
    referrer = browser.page("kemlu.worker")
    referrer.goto("/cases/new")
    referrer.get_by_label("Nama lengkap").fill("Maria Bria")
    referrer.get_by_label("Jenis kelamin").select_option("female")
    referrer.get_by_label("Perkiraan umur (tahun)").fill("22")
    referrer.get_by_label("Jalur rujukan").select_option("ngo")
    referrer.get_by_role("button", name="Daftarkan kasus").click()
    referrer.wait_for_url(re.compile(r"registered=1"))
    url = str(referrer.url).split("?")[0]
    reference = referrer.locator("h1").inner_text().split()[0]

    sender = browser.page("kemenpppa.worker")  # screening goes to a district of PEMDA
    sender.goto(url)
    action = sender.locator("details#action-begin_screening")
    action.locator("summary").click()
    action.get_by_label("Unit penerima").select_option("PEMDA-KAB-KUPANG")
    action.locator("button[type=submit]").click()
    sender.wait_for_url(re.compile(r"\?done="))
    handover = sender.locator("section#transfer").inner_text()
    assert (
        "PEMDA-KAB-KUPANG" in handover and "KEMENPPPA-NASIONAL tetap bertanggung jawab" in handover
    )
    _shot(sender, "handover-sent")

    district = browser.page("kabkupang.worker")
    district.get_by_role("link", name="Masuk", exact=True).click()
    card = district.locator("li.case", has_text=reference)
    assert "ke PEMDA-KAB-KUPANG, batas" in card.inner_text()
    _shot(district, "handover-incoming")
    card.locator("summary", has_text="Tolak").click()
    card.get_by_role("button", name="Tolak serah terima").click()  # no reason: the browser asks
    assert district.url.endswith("tab=incoming")
    card.get_by_label("Alasan penolakan").fill("keluarganya tinggal di Kota Kupang")
    card.get_by_role("button", name="Tolak serah terima").click()
    district.wait_for_url(re.compile(r"notice=declined"))
    assert "Anda menolak serah terima" in district.get_by_role("status").inner_text()
    _shot(district, "handover-declined")

    sender.goto(url)
    sender.locator("section#transfer").get_by_label("Unit penerima").select_option(
        "PEMDA-KOTA-KUPANG"
    )
    sender.get_by_role("button", name="Kirim kasus").click()
    sender.wait_for_url(re.compile(r"notice=rerouted"))
    assert "PEMDA-KOTA-KUPANG" in sender.locator("section#transfer").inner_text()

    receiver = browser.page("kotakupang.worker")
    receiver.goto("/work?tab=incoming")
    card = receiver.locator("li.case", has_text=reference)
    card.get_by_role("button", name="Terima serah terima").click()
    receiver.wait_for_url(re.compile(r"notice=accepted"))
    status = receiver.locator("section[aria-labelledby=status-title]").inner_text()
    assert "PEMDA-KOTA-KUPANG" in status
    _shot(receiver, "handover-accepted")
    receiver.goto("/work")
    assert reference in receiver.locator("ul.cases").inner_text()
    _shot(receiver, "unit-queue")
    receiver.goto(url + "/history")
    assert "keluarganya tinggal di Kota Kupang" in receiver.content()
    supervisor = browser.page("pemda.supervisor")
    supervisor.goto("/figures")
    supervisor.get_by_role("link", name=re.compile("Unit saya")).click()
    supervisor.get_by_role("link", name="PEMDA-KOTA-KUPANG").click()
    assert "PEMDA-KOTA-KUPANG" in supervisor.locator("h1").inner_text()
    _shot(supervisor, "unit-figures")


def _visible_texts(page: Any) -> list[str]:
    texts: list[str] = page.eval_on_selector_all(
        "h1, h2, h3, label, legend, button, nav a, th, dt, .tabs a, summary, option",
        "els => els.map(e => e.innerText.trim()).filter(Boolean)",
    )
    return texts


def test_the_language_switch_changes_every_label(browser: Browser, case_url: str) -> None:
    page = browser.page("pemda.worker", fresh=True)
    indonesian_only = set(catalogue("id").values()) - set(catalogue("en").values())
    for url in ("/work", case_url, "/cases/new", case_url + "/history"):
        page.goto(url)
        before = _visible_texts(page)
        assert any(text in indonesian_only for text in before), url
    page.get_by_role("button", name="English").click()
    for url in ("/work", case_url, "/cases/new", case_url + "/history", "/approvals"):
        page.goto(url)
        assert page.locator("html").get_attribute("lang") == "en"
        left = [text for text in _visible_texts(page) if text in indonesian_only]
        assert left == [], (url, left)
    page.get_by_role("button", name="Bahasa Indonesia").click()
    assert page.locator("html").get_attribute("lang") == "id"


PAGES_BY_USER = {
    "kemlu.worker": ["/work", "/work?tab=mine", "/work?tab=watching", "/cases/new", "{case}",
                     "{case}/history", "{case}/diagram", "/approvals", "/no-such-page"],
    "pemda.supervisor": ["/work", "/work?tab=incoming", "{case}", "/approvals", "/escalations",
                         "/figures", "/figures/PEMDA", "/figures/units/PEMDA-NASIONAL"],
    "auditor": ["/audit", "/audit/verify?run=true", "/audit/checkpoints",
                "/audit/identity-access", "/figures", "/figures/KEMENSOS", "/escalations",
                "{case}"],
    "admin": ["/admin/users", "/admin/units", "/account/password"],
}  # fmt: skip


def test_axe_finds_no_serious_or_critical_violation_on_any_page(
    browser: Browser, case_url: str
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    found: dict[str, list[str]] = {}
    anonymous = browser.chromium.new_context(base_url=browser.base, bypass_csp=True).new_page()
    anonymous.goto("/login")
    checked = [("anonymous", "/login", axe.run(anonymous))]
    for username, urls in PAGES_BY_USER.items():
        page = browser.page(username)
        for url in urls:
            page.goto(url.format(case=case_url))
            checked.append((username, url, axe.run(page)))
    for username, url, result in checked:
        for violation in result.response["violations"]:
            if violation["impact"] in ("serious", "critical"):
                found.setdefault(f"{username} {url}", []).append(violation["id"])
    assert found == {}
