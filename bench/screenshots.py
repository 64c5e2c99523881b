"""Screenshots of the main pages from the demo data, in Indonesian, at a phone's width (360 px)
and a desktop's, into docs/screenshots/ (the README shows them). Run: make screenshots.

Needs Debian's Chromium (/usr/bin/chromium). It loads the demo into a scratch SQLite database,
serves it on a loopback port, logs in as the demo users and photographs what they see.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from bench._setup import CHROMIUM_ARGS, live_server
from service.bootstrap import bootstrap
from service.demo.service import DEMO_PASSWORD, load_demo
from service.kit import migrate
from service.kit.config import settings_for
from service.kit.db import Database, create_db_engine

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
SIZES = {"phone": {"width": 360, "height": 780}, "desktop": {"width": 1280, "height": 860}}
# (file name, user, what to open: a path, or a function of the page that gets there)
SHOTS: list[tuple[str, str | None, str]] = [
    ("login", None, "/login"),
    ("queue", "kemlu.worker", "/work?tab=queue"),
    ("unit-queue", "pemda.kotakupang.worker", "/work"),
    ("unit-choice", "pemda.ntt.supervisor", "/work?tab=unit&unit=PEMDA-53.71"),
    ("case", "kemlu.worker", "first-case"),
    ("register", "kemlu.worker", "/cases/new"),
    ("history", "kemlu.worker", "first-case/history"),
    ("diagram", "kemlu.worker", "first-case/diagram"),
    ("approvals", "kemlu.supervisor", "/approvals"),
    ("escalations", "gugus_tugas.worker", "/escalations"),
    ("figures", "kemensos.supervisor", "/figures/KEMENSOS"),
    ("unit-figures", "pemda.ntt.supervisor", "/figures/units/PEMDA-53"),
    ("verify", "auditor", "/audit/verify?run=true"),
    ("audit", "auditor", "/audit"),
    ("users", "admin", "/admin/users"),
    ("units", "admin", "/admin/units"),
]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'screenshots.db'}"
        migrate.upgrade(url)
        context = bootstrap(settings_for(url), Database(create_db_engine(url)))
        load_demo(context)
        with live_server(context) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
            )
            for size, viewport in SIZES.items():
                pages: dict[str | None, Any] = {}
                for name, user, target in SHOTS:
                    page = pages.get(user) or _page(browser, base, viewport, user)
                    pages[user] = page
                    page.goto(_resolve(page, target))
                    page.screenshot(path=str(OUT / f"{name}-{size}.png"))
                    print(f"{name}-{size}.png")
            browser.close()
        context.database.engine.dispose()


def _page(browser: Any, base: str, viewport: dict[str, int], user: str | None) -> Any:
    page = browser.new_context(base_url=base, viewport=viewport, locale="id-ID").new_page()
    if user is not None:
        page.goto("/login")
        page.fill("#username", user)
        page.fill("#password", DEMO_PASSWORD)
        page.click("button[type=submit].primary")
        page.wait_for_url(re.compile(r"/(work|audit|admin)"))
    return page


def _resolve(page: Any, target: str) -> str:
    if not target.startswith("first-case"):
        return target
    page.goto("/work?tab=queue")
    href: str = page.locator(".case-title a").first.get_attribute("href")
    return href + target.removeprefix("first-case")


if __name__ == "__main__":
    main()
