"""An arrival's cases through one group transition in a real browser (Chromium, Playwright).

A KEMLU case worker records an arrival, uploads its manifest, picks the state its cases are in,
leaves one case out, fills the trigger's form once and sees each case's outcome; then asks for
`identify` (sensitive) for the same cases and follows the link to the one group approval,
which a KEMLU supervisor approves once. Screenshots go to bench/out/browser/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench._setup import live_server
from tests.browser import PASSWORD, add_users, launch, require_chromium, served_database
from tests.conftest import fresh_database
from tests.manifests import csv_bytes, person

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parent.parent / "bench" / "out" / "browser"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    with fresh_database(tmp_path_factory.mktemp("groups")) as url, served_database(url) as context:
        add_users(context, ("kemlu.worker", "case_worker", "KEMLU"),
                  ("kemlu.supervisor", "supervisor", "KEMLU"))  # fmt: skip
        with live_server(context) as served:
            yield served


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            yield browser
        finally:
            browser.close()


def logged_in(chromium: Any, base: str, username: str) -> Any:
    page = chromium.new_context(base_url=base, bypass_csp=True).new_page()
    page.goto("/")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(re.compile(r"/work"))
    return page


def test_a_case_worker_takes_an_arrivals_cases_through_one_group_transition(
    chromium: Any, base: str
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    worker = logged_in(chromium, base, "kemlu.worker")
    worker.goto("/arrivals")
    worker.locator("[name=arrival_date]").fill("2025-03-18")
    worker.locator("[name=place]").fill("Bandara Soekarno-Hatta")
    worker.locator("[name=source_country]").fill("MM")
    worker.locator("[name=operation_name]").fill("Myawaddy gelombang 2")
    worker.get_by_role("button", name="Catat kedatangan").click()
    worker.wait_for_url(re.compile(r"/arrivals/[0-9a-f-]{36}$"))
    arrival_url = worker.url
    worker.locator("input[type=file][name=file]").set_input_files(
        {"name": "m.csv", "mimeType": "text/csv",
         "buffer": csv_bytes([person(i) for i in range(4)])}
    )  # fmt: skip
    worker.get_by_role("button", name="Impor").click()
    worker.get_by_text("4 kasus dibuat").wait_for()

    worker.goto(arrival_url)
    worker.get_by_label("Kasus dengan status").select_option(index=0)
    worker.get_by_role("button", name="Pilih tindakan").click()
    worker.wait_for_url(re.compile(r"/group\?state="))
    form = worker.locator("#group-begin_screening_abroad form")
    boxes = form.locator("input[name=case_id]")
    assert boxes.count() == 4
    left_out = boxes.nth(3).get_attribute("value")
    boxes.nth(3).uncheck()
    form.get_by_role("button", name=re.compile("untuk kasus yang dipilih")).click()
    form.locator(".field-error").first.wait_for()  # the mission is required: asked beside it
    assert "Perwakilan RI: wajib diisi" in form.inner_text()

    form = worker.locator("#group-begin_screening_abroad form")
    form.get_by_label(re.compile("^Perwakilan RI")).fill("KBRI Yangon")
    worker.screenshot(path=str(SHOTS / "group_transition_form.png"), full_page=True)
    form.get_by_role("button", name=re.compile("untuk kasus yang dipilih")).click()
    worker.get_by_text("3 dipindahkan, 0 menunggu persetujuan, 0 ditolak.").wait_for()
    worker.screenshot(path=str(SHOTS / "group_transition_result.png"), full_page=True)
    rows = worker.locator("tbody tr")
    assert rows.count() == 3
    assert all("berpindah" in rows.nth(i).inner_text() for i in range(3))
    assert left_out is not None and left_out not in worker.content()

    worker.goto(arrival_url)
    worker.get_by_label("Kasus dengan status").select_option(value="screening_abroad")
    worker.get_by_role("button", name="Pilih tindakan").click()
    if worker.locator("#group-identify[open]").count() == 0:
        worker.locator("#group-identify summary").click()  # one of several actions: closed
    form = worker.locator("#group-identify form")
    assert form.locator("input[name=case_id]").count() == 3
    form.get_by_label(re.compile("eksploitasi", re.IGNORECASE)).first.check()
    form.get_by_role("button", name=re.compile("untuk kasus yang dipilih")).click()
    worker.get_by_text("0 dipindahkan, 3 menunggu persetujuan, 0 ditolak.").wait_for()
    worker.screenshot(path=str(SHOTS / "group_transition_pending.png"), full_page=True)
    worker.get_by_role("link", name=re.compile("buka persetujuan kelompok")).click()
    worker.wait_for_url(re.compile(r"/group-approvals/[0-9a-f-]{36}$"))
    group_url = worker.url

    supervisor = logged_in(chromium, base, "kemlu.supervisor")
    supervisor.goto(group_url)
    supervisor.get_by_label(re.compile("^Alasan")).fill("catatan skrining sudah diperiksa")
    supervisor.get_by_role("button", name=re.compile("Setujui semua 3")).click()
    supervisor.get_by_text("3 disetujui, 0 ditolak, 0 tidak dapat diproses.").wait_for()
    supervisor.screenshot(path=str(SHOTS / "group_approval_decided.png"), full_page=True)
