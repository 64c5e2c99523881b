"""Errors a person can act on: every page route answers an error as a page, in their language.

A 404 and a refused look at a case read the same, whether or not the case exists. A lapsed
session goes to the login page and back. The JSON API keeps its `{"detail", "code"}` answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.responses import RedirectResponse, Response

from service.kit.errors import (
    RETRY_AFTER_SECONDS,
    DomainError,
    PasswordChangeRequired,
    TooManyRequests,
)
from service.web.i18n import Translator, language_of
from service.web.session import LANGUAGE_COOKIE, PASSWORD_PAGE, LoginRequired, Page
from service.web.templating import Templates, html_response

log = logging.getLogger("nrm.web")
_templates = Templates()
_TITLES = {400: "error.400", 401: "error.401", 403: "error.403", 404: "error.404",
           405: "error.404", 409: "error.409", 422: "error.422", 429: "error.429",
           503: "error.503"}  # fmt: skip


class PageRoute(APIRoute):
    """An APIRoute whose errors are pages (its handler's exceptions never reach the JSON
    handlers of the API)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                return to_login(request)
            except PasswordChangeRequired:
                return RedirectResponse(PASSWORD_PAGE, status_code=303)
            except DomainError as exc:
                return error_page(request, exc.status_code, exc)
            except RequestValidationError:
                return error_page(request, 422)
            except OperationalError as exc:
                log.error("database unavailable: %s", type(exc.orig).__name__)
                return error_page(request, 503)
            except PoolTimeout:
                return error_page(request, 503)

        return page_handler


def page_router(**kwargs: Any) -> APIRouter:
    """A router of pages: errors as pages, and kept out of the OpenAPI document."""
    return APIRouter(route_class=PageRoute, include_in_schema=False, **kwargs)


def to_login(request: Request) -> Response:
    target = "/login"
    if request.method == "GET" and request.url.path not in ("/", "/login"):
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target += "?next=" + quote(path, safe="")
    if request.headers.get("HX-Request"):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def error_page(request: Request, status: int, exc: DomainError | None = None) -> Response:
    page: Page | None = getattr(request.state, "page", None)
    if page is not None:
        values = page.values()
    else:
        language = language_of(request.cookies.get(LANGUAGE_COOKIE))
        values = {
            "t": Translator(language, request.app.state.context.registry),
            "lang": language,
            "me": None,
            "nav": [],
            "csrf": "",
            "path": request.url.path,
            "request_path": request.url.path,
            "now": None,
        }
    t: Translator = values["t"]
    message = _message(t, status, exc)
    headers = dict(exc.headers or {}) if isinstance(exc, TooManyRequests) else {}
    if status == 503:
        headers.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))
    text = _templates.html(
        "error.html",
        {**values, "status": status, "title": t(_TITLES.get(status, "error.400")),
         "message": message},
    )  # fmt: skip
    return html_response(request, text, status, headers)


def _message(t: Translator, status: int, exc: DomainError | None) -> str:
    """What to do next. Never the use case's English detail, never whether a case exists."""
    if exc is not None and t.has(f"error.code.{exc.code}"):
        return t(f"error.code.{exc.code}")
    return t(f"{_TITLES.get(status, 'error.400')}.help")


def wants_page(request: Request) -> bool:
    """A browser asking for a page (not the API, /docs or the health check)."""
    path = request.url.path
    if path.startswith(("/api/", "/docs", "/redoc", "/openapi.json", "/health")):
        return False
    return "text/html" in request.headers.get("accept", "")
