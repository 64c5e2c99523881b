"""The browser's twin of `auth.dependencies.Run`: who is looking, and one unit of work per page.

A page route depends on `page_as(*roles)`, which reads the session cookie (and, for a POST, the
form with its CSRF token) and returns a `Page`. The route hands its use case to `page.read`
(GET: one read-only snapshot) or `await page(...)` (a write: one transaction, CSRF checked
first), each ONE trip to the thread pool that also loads the caller from their session, checks
the idle timeout and their role. Then `page.render` answers in the caller's language.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from fastapi import Request
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from service.kit.capacity import in_thread, write_turn
from service.kit.context import AppContext
from service.kit.errors import DomainError, Forbidden, PasswordChangeRequired
from service.kit.principal import BrowserLogin, Principal
from service.models import utcnow
from service.web import csrf
from service.web.i18n import Translator, language_of
from service.web.templating import Templates, html_response

T = TypeVar("T")
UseCase = Callable[[Session, AppContext, Principal], T]
SESSION_COOKIE = "nrm_session"
LANGUAGE_COOKIE = "nrm_lang"
PRE_SESSION_COOKIE = "nrm_pre"  # binds the login form's CSRF token before there is a session
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
PASSWORD_PAGE = "/account/password"
PASSWORD_PAGES = frozenset({PASSWORD_PAGE, "/logout"})  # all a user with a reset password may use


class BrowserSessions(Protocol):
    """The browser-session use cases (service.auth.browser), given to the pages by the app."""

    def login_for(
        self, session: Session, context: AppContext, token: str, now: datetime
    ) -> BrowserLogin | None: ...

    def touch(self, session: Session, session_id: str, now: datetime) -> None: ...


class LoginRequired(DomainError):
    """No open session behind the cookie: the browser goes to the login page."""

    status_code = 401
    code = "login_required"


class CsrfRefused(DomainError):
    status_code = 403
    code = "csrf"


@dataclass
class Page:
    request: Request
    context: AppContext
    endpoint: str
    roles: tuple[str, ...] = ()
    form: FormData | None = None
    login: BrowserLogin | None = field(default=None, init=False)

    @property
    def token(self) -> str | None:
        return self.request.cookies.get(SESSION_COOKIE)

    @property
    def principal(self) -> Principal:
        assert self.login is not None, "call page.read or page(...) first"
        return self.login.principal

    @property
    def language(self) -> str:
        if self.login is not None:
            return self.login.language
        return language_of(self.request.cookies.get(LANGUAGE_COOKIE))

    @property
    def t(self) -> Translator:
        return Translator(self.language, self.context.registry)

    @property
    def csrf_token(self) -> str:
        secret = self.context.settings.keys.secret_key
        if self.login is not None:
            return csrf.token_for(secret, self.login.session_id)
        return csrf.token_for(secret, "pre:" + self.request.cookies.get(PRE_SESSION_COOKIE, ""))

    def field(self, name: str, default: str = "") -> str:
        value = self.form.get(name) if self.form is not None else None
        return value.strip() if isinstance(value, str) else default

    def secret(self, name: str) -> str:
        """A password field exactly as typed: spaces are part of it."""
        value = self.form.get(name) if self.form is not None else None
        return value if isinstance(value, str) else ""

    def fields(self, name: str) -> list[str]:
        if self.form is None:
            return []
        return [v.strip() for v in self.form.getlist(name) if isinstance(v, str) and v.strip()]

    # --- units of work --------------------------------------------------------------------
    async def read(self, use_case: UseCase[T]) -> T:
        """A GET: the caller and the use case from one read-only snapshot."""
        return await in_thread(self.context, self._read_now, use_case)

    async def __call__(self, use_case: UseCase[T]) -> T:
        """A write: one transaction, after the CSRF token is checked; writes to one case take
        their turn in the worker, as the API's (`kit/capacity.py`)."""
        serial = write_turn(self.context, self.request.path_params.get("case_id"))
        return await in_thread(self.context, self._write_now, use_case, serial=serial)

    def writer(self) -> Callable[[UseCase[T]], T]:
        """For a use case made of several units of work (an import in batches): each call is
        one transaction, the session and the CSRF token checked in each. Call it on a thread."""
        return self._write_now

    async def ensure(self) -> Principal:
        """Who is asking, when nothing else was run yet (a form refused before its use case):
        the answer still needs their language, menu and CSRF token."""
        if self.login is None:
            nothing: UseCase[None] = lambda _session, _context, _principal: None  # noqa: E731
            await (self(nothing) if self.request.method == "POST" else self.read(nothing))
        return self.principal

    async def public(self, use_case: Callable[[Session, AppContext], T], *, write: bool) -> T:
        """A unit of work before anyone is logged in (the login page): a POST's CSRF token is
        bound to the pre-session cookie."""
        if write and not csrf.valid(
            self.context.settings.keys.secret_key,
            "pre:" + self.request.cookies.get(PRE_SESSION_COOKIE, ""),
            self._given_csrf(),
        ):
            raise CsrfRefused("the form is out of date; reload the page and try again")
        return await in_thread(self.context, self._public_now, use_case, write)

    def _public_now(self, use_case: Callable[[Session, AppContext], T], write: bool) -> T:
        unit = self.context.database.transaction if write else self.context.database.snapshot
        with unit() as session:
            return use_case(session, self.context)

    def _read_now(self, use_case: UseCase[T]) -> T:
        now = utcnow()
        with self.context.database.snapshot() as session:
            self.login = self._login(session, now)
            result = use_case(session, self.context, self.login.principal)
        if self.login.stale:
            with self.context.database.transaction() as session:
                self.sessions.touch(session, self.login.session_id, now)
        return result

    def _write_now(self, use_case: UseCase[T]) -> T:
        now = utcnow()
        with self.context.database.transaction() as session:
            self.login = self._login(session, now)
            if not csrf.valid(
                self.context.settings.keys.secret_key, self.login.session_id, self._given_csrf()
            ):
                raise CsrfRefused("the form is out of date; reload the page and try again")
            if self.login.stale:
                self.sessions.touch(session, self.login.session_id, now)
            return use_case(session, self.context, self.login.principal)

    @property
    def sessions(self) -> BrowserSessions:
        sessions: BrowserSessions = self.request.app.state.browser_sessions
        return sessions

    def _login(self, session: Session, now: datetime) -> BrowserLogin:
        token = self.token
        login = self.sessions.login_for(session, self.context, token, now) if token else None
        if login is None:
            raise LoginRequired("log in to continue")
        if login.principal.must_change_password and self.request.url.path not in PASSWORD_PAGES:
            self.login = login
            raise PasswordChangeRequired("an admin reset your password: choose your own first")
        if self.roles and login.principal.role not in self.roles:
            self.login = login  # the refusal page is still in their language, with their menu
            raise Forbidden(f"this needs the role {' or '.join(self.roles)}")
        return login

    def _given_csrf(self) -> str | None:
        given = self.form.get(CSRF_FIELD) if self.form is not None else None
        if isinstance(given, str):
            return given
        return self.request.headers.get(CSRF_HEADER)

    # --- answers --------------------------------------------------------------------------
    def render(
        self,
        templates: Templates,
        name: str,
        status_code: int = 200,
        *,
        block: str | None = None,
        headers: dict[str, str] | None = None,
        **values: Any,
    ) -> Response:
        """The template in the caller's language; `block` alone for an htmx request."""
        if block is not None and not self.request.headers.get("HX-Request"):
            block = None
        text = templates.html(name, {**self.values(), **values}, block)
        return html_response(self.request, text, status_code, headers)

    def values(self) -> dict[str, Any]:
        nav: Callable[[AppContext, Principal], list[tuple[str, str]]] = (
            self.request.app.state.navigation
        )
        return {
            "t": self.t,
            "lang": self.language,
            "me": self.login.principal if self.login else None,
            "nav": nav(self.context, self.login.principal) if self.login else [],
            "csrf": self.csrf_token,
            "path": self.request.url.path,
            "request_path": _with_query(self.request),
            "now": self.context.clock(),
        }

    def redirect(self, url: str, *, headers: Mapping[str, str] | None = None) -> Response:
        """After a POST: see the result (303), or tell htmx to go there."""
        if self.request.headers.get("HX-Request"):
            return Response(status_code=204, headers={"HX-Redirect": url, **(headers or {})})
        return RedirectResponse(url, status_code=303, headers=dict(headers or {}))


def page_as(*roles: str) -> Callable[[Request], Coroutine[Any, Any, Page]]:
    """A `Page` for the caller, refusing (403) one without one of `roles` if any are given."""

    async def dependency(request: Request) -> Page:
        form = await request.form() if request.method == "POST" else None
        page = Page(request, request.app.state.context, endpoint_of(request), roles, form)
        request.state.page = page  # the error pages speak the caller's language
        return page

    return dependency


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="strict", secure=secure(request), path="/"
    )


def set_language_cookie(request: Request, response: Response, language: str) -> None:
    response.set_cookie(
        LANGUAGE_COOKIE, language, max_age=365 * 86400, httponly=True, samesite="strict",
        secure=secure(request), path="/",
    )  # fmt: skip


def pre_session(request: Request) -> str | None:
    """A random cookie that the login form's CSRF token binds to (there is no session yet):
    the new value to set, or None when the browser has one. Call it before rendering."""
    if request.cookies.get(PRE_SESSION_COOKIE):
        return None
    value = secrets.token_urlsafe(24)
    request.cookies[PRE_SESSION_COOKIE] = value  # the form rendered now binds to it
    return value


def set_pre_session_cookie(request: Request, response: Response, value: str) -> None:
    response.set_cookie(
        PRE_SESSION_COOKIE, value, httponly=True, samesite="strict", secure=secure(request),
        path="/",
    )  # fmt: skip


def secure(request: Request) -> bool:
    """HTTPS as uvicorn saw it (it honours X-Forwarded-Proto from trusted proxies only)."""
    settings = request.app.state.context.settings
    return bool(settings.cookie_secure) or request.url.scheme == "https"


def safe_next(target: str | None, default: str = "/home") -> str:
    """Only a path on this site: never `//elsewhere` or a URL (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def endpoint_of(request: Request) -> str:
    """The route as a template ("POST /cases/{case_id}/identity"): never the ids themselves."""
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', request.url.path)}"


def _with_query(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")
