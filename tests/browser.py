"""Browser tests' plumbing: the app served by a real uvicorn on a free loopback port, against a
migrated scratch database, and Debian's Chromium driven by Playwright (no browser download).

Without /usr/bin/chromium the browser tests skip with the reason, unless NRM_REQUIRE_BROWSER=1
(CI), where they fail instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bench._setup import CHROMIUM_ARGS
from service.auth.security import hash_password
from service.bootstrap import bootstrap
from service.kit import migrate
from service.kit.config import settings_for
from service.kit.context import AppContext
from service.kit.db import Database, create_db_engine
from service.models import UserAccount
from service.units.service import unit_for_user

CHROMIUM = Path(os.environ.get("NRM_CHROMIUM", "/usr/bin/chromium"))
REQUIRE = os.environ.get("NRM_REQUIRE_BROWSER") == "1"
PASSWORD = "correct horse battery staple"


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if REQUIRE:
        pytest.fail(reason + "; NRM_REQUIRE_BROWSER=1 requires it")
    pytest.skip(reason)


@contextmanager
def served_database(url: str) -> Iterator[AppContext]:
    migrate.upgrade(url)
    context = bootstrap(settings_for(url), Database(create_db_engine(url)))
    try:
        yield context
    finally:
        context.database.engine.dispose()


def add_users(context: AppContext, *accounts: tuple[str, str, str | None]) -> None:
    password = hash_password(PASSWORD)
    with context.database.transaction() as session:
        for username, role, ministry in accounts:
            unit = unit_for_user(session, ministry, None)
            session.add(
                UserAccount(
                    username=username,
                    password_hash=password,
                    role=role,
                    ministry=ministry,
                    unit_id=unit.id if unit else None,
                )
            )


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
