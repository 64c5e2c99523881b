"""The way in: the login page (with the demo users when the demo is loaded), logout, and
where each role lands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session
from starlette.responses import RedirectResponse, Response

from service import navigation
from service.auth import browser
from service.auth.service import LoginRefused
from service.kit.errors import TooManyRequests
from service.web.errors import page_router
from service.web.session import (
    SESSION_COOKIE,
    CsrfRefused,
    Page,
    page_as,
    pre_session,
    safe_next,
    set_language_cookie,
    set_pre_session_cookie,
    set_session_cookie,
)
from service.web.templating import Templates

router = page_router()
# The demo's password and users, while the demo is loaded (the app gives service.demo's).
LoginHints = Callable[[Session], tuple[str, list[str]] | None]
templates = Templates(Path(__file__).parent / "templates")
PageDep = Annotated[Page, Depends(page_as())]


@router.get("/")
async def root() -> Response:
    return RedirectResponse("/home", status_code=303)


@router.get("/home")
async def home(page: PageDep) -> Response:
    target = await page.read(lambda _session, context, me: navigation.home(context, me))
    return RedirectResponse(target, status_code=303)


@router.get("/login")
async def login_form(page: PageDep, next: str | None = None, changed: bool = False) -> Response:
    message = page.t("password.done") if changed else None  # after a password change
    return await _login_page(page, safe_next(next), username="", message=message)


@router.post("/login")
async def log_in(page: PageDep, request: Request) -> Response:
    username = page.field("username")[:64]
    password = page.secret("password")  # exactly as typed
    target = safe_next(page.field("next"))
    client = request.client.host if request.client else "unknown"
    try:
        outcome = await page.public(
            lambda session, context: browser.log_in(session, context, username, password, client),
            write=True,
        )
    except TooManyRequests as exc:
        wait = int((exc.headers or {}).get("Retry-After", "60"))
        message = page.t("login.too_many", minutes=max(1, round(wait / 60)))
        return await _login_page(page, target, username, message, status_code=429)
    except CsrfRefused:
        return await _login_page(page, target, username, page.t("login.expired"), 403)
    if isinstance(outcome, LoginRefused):
        return await _login_page(page, target, username, page.t("login.refused"), 401)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, outcome.token)
    set_language_cookie(request, response, outcome.language)
    return response


@router.post("/logout")
async def log_out(page: PageDep) -> Response:
    token = page.token
    if token:
        await page(lambda session, _context, _me: browser.log_out(session, token))
    response = page.redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def _login_page(
    page: Page, target: str, username: str, message: str | None, status_code: int = 200
) -> Response:
    hints: LoginHints = page.request.app.state.login_hints
    demo = await page.public(lambda session, _context: hints(session), write=False)
    new_pre = pre_session(page.request)
    response = page.render(
        templates, "login.html", status_code,
        next=target, username=username, message=message, demo=demo,
    )  # fmt: skip
    if new_pre is not None:
        set_pre_session_cookie(page.request, response, new_pre)
    return response
