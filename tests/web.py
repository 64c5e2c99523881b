"""Browser sessions for tests: a user's cookie and CSRF token without going through the form."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response  # what starlette's TestClient answers with

from service.auth import browser
from service.kit.context import AppContext
from service.web import csrf
from service.web.session import SESSION_COOKIE
from tests.factories import PASSWORD, User


@dataclass(frozen=True)
class WebUser:
    username: str
    token: str
    csrf: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Cookie": f"{SESSION_COOKIE}={self.token}", "Accept": "text/html"}


def web_login(context: AppContext, user: User | str) -> WebUser:
    username = user if isinstance(user, str) else user.username
    with context.database.transaction() as session:
        opened = browser.log_in(session, context, username, PASSWORD, "testclient")
    assert isinstance(opened, browser.Opened), opened
    token = csrf.token_for(context.settings.keys.secret_key, opened.session_id)
    return WebUser(username, opened.token, token)


def get(client: TestClient, who: WebUser | None, url: str, **kwargs: Any) -> Response:
    client.cookies.clear()
    headers = who.headers if who else {"Accept": "text/html"}
    return client.get(url, headers=headers, follow_redirects=False, **kwargs)


def post(
    client: TestClient, who: WebUser | None, url: str, data: dict[str, Any] | None = None
) -> Response:
    client.cookies.clear()
    headers = who.headers if who else {"Accept": "text/html"}
    form = {"csrf": who.csrf if who else "", **(data or {})}
    return client.post(url, headers=headers, data=form, follow_redirects=False)


def visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
