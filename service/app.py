"""The FastAPI application: routers, error handlers, and the context built at start-up."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from service import navigation
from service.approvals import api as approvals
from service.approvals import pages as approval_pages
from service.arrivals import api as arrivals
from service.arrivals import pages as arrival_pages
from service.assignments import api as assignments
from service.assignments import pages as assignment_pages
from service.audit import api as audit
from service.audit import pages as audit_pages
from service.auth import api as auth
from service.auth import browser as browser_sessions
from service.auth import pages as auth_pages
from service.auth.dependencies import endpoint_of
from service.bootstrap import bootstrap
from service.cases import api as cases
from service.cases import pages as case_pages
from service.cases.duplicates import api as duplicates
from service.cases.duplicates import pages as duplicate_pages
from service.demo import service as demo
from service.groups import api as groups
from service.groups import pages as group_pages
from service.health import api as health
from service.jobs import JOBS
from service.kit import metrics, openapi, periodic
from service.kit.capacity import set_worker_threads
from service.kit.config import Settings
from service.kit.context import AppContext
from service.kit.db import is_busy
from service.kit.errors import RETRY_AFTER_SECONDS, DatabaseBusy, DomainError
from service.kit.middleware import BODY_TOO_LARGE, RequestGuard, SecurityHeaders
from service.kit.request_id import RequestIdMiddleware
from service.legal import api as legal
from service.legal import pages as legal_pages
from service.reports import api as reports
from service.reports import pages as report_pages
from service.service_requests import api as service_requests
from service.service_requests import pages as service_request_pages
from service.sla import api as ministries
from service.sla import pages as figure_pages
from service.units import api as units
from service.units import pages as unit_pages
from service.users import api as users
from service.users import pages as users_pages
from service.web import assets, docs
from service.web.errors import error_page, wants_page
from service.webhooks import api as webhooks
from service.webhooks import pages as webhook_pages
from service.workflow import api as workflows
from service.workflow import pages as workflow_pages
from service.worklists import api as queues
from service.worklists import pages as worklist_pages

log = logging.getLogger("nrm")
_HTTP_CODES = {
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: BODY_TOO_LARGE,
}
DESCRIPTION = """
The shared case record of Indonesia's National Referral Mechanism for victims of trafficking:
identification, rehabilitation, repatriation and reintegration, each step owned by a ministry.

Log in with **Authorize** (a demo user from `nrm demo`), register a referral with
`POST /api/v1/cases`, then follow the `actions` a case lists for your ministry.
"""


PAGES = (
    assets,
    auth_pages,
    users_pages,
    unit_pages,
    webhook_pages,
    worklist_pages,
    case_pages,
    assignment_pages,
    approval_pages,
    duplicate_pages,
    figure_pages,
    report_pages,
    audit_pages,
    workflow_pages,
    legal_pages,
    arrival_pages,
    group_pages,
    service_request_pages,
)


def create_app(context: AppContext | None = None) -> FastAPI:
    settings = context.settings if context is not None else Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        """Build the context unless one was given, run the periodic jobs if the settings say
        so, and dispose only what this app built."""
        built = context is None
        if built:
            app.state.context = bootstrap(settings)
        running: AppContext = app.state.context
        set_worker_threads(running.settings.worker_threads)
        metrics.watch_pool(running.database.engine)
        tasks = periodic.start(JOBS, running) if running.settings.run_jobs else []
        yield
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if built:
            running.database.engine.dispose()
            metrics.forget_this_process()

    app = FastAPI(
        title="NRM case workflow service",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # web/docs.py: Swagger UI from the app's own assets, under a CSP
        redoc_url=None,
        generate_unique_id_function=openapi.operation_id,  # `fire_transition`
    )
    if context is not None:
        app.state.context = context
    routers = (
        health, auth, workflows, cases, approvals, assignments, queues, ministries, users, units,
        legal,
        duplicates,
        webhooks,
        arrivals, groups,
        reports,
    )  # fmt: skip
    for module in (*routers, audit, service_requests):
        app.include_router(module.router)
    # The web application: pages are routers like any other, on the same use cases.
    for module in PAGES:
        app.include_router(module.router)
    app.include_router(docs.router)
    app.state.navigation = navigation.navigation
    app.state.browser_sessions = browser_sessions
    app.state.login_hints = demo.demo_logins
    _install_error_handlers(app)
    openapi.install(app)
    # X-Forwarded-For and -Proto from the configured proxies only: anyone else could name any
    # address, and so spend another client's login attempts (or dodge their own limit).
    app.add_middleware(
        RequestGuard, max_bytes=settings.max_body_bytes, as_page=_refusal_page,
        larger=((arrivals.MANIFEST_PATH, settings.max_manifest_bytes),),
    )  # fmt: skip
    app.add_middleware(SecurityHeaders)
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxy_list)
    app.add_middleware(metrics.RequestMetrics)  # inside the request id: its 500 is counted
    app.add_middleware(RequestIdMiddleware)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        headers = dict(exc.headers or {})
        metrics.count_error(exc.status_code, exc.code)
        if exc.status_code == 503:
            headers.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))
        return JSONResponse(
            {"detail": exc.detail, "code": exc.code}, status_code=exc.status_code, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        metrics.count_error(422, "validation_error")
        return JSONResponse(
            {"detail": _without_input(exc.errors()), "code": "validation_error"}, status_code=422
        )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code in (404, 405) and wants_page(request):
            return error_page(request, 404)
        code = getattr(exc, "code", None) or _HTTP_CODES.get(exc.status_code, "http_error")
        metrics.count_error(exc.status_code, code)
        return JSONResponse(
            {"detail": exc.detail, "code": code}, status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(OperationalError)
    async def database_down(request: Request, exc: OperationalError) -> JSONResponse:
        if is_busy(exc):
            log.warning("database busy: %s on %s", type(exc.orig).__name__, endpoint_of(request))
            return await domain_error(request, DatabaseBusy())
        log.error("database unavailable: %s", type(exc.orig).__name__)
        metrics.count_error(503, "database_unavailable")
        return JSONResponse(
            {"detail": "the database is unavailable; try again", "code": "database_unavailable"},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    @app.exception_handler(PoolTimeout)
    async def pool_exhausted(request: Request, _exc: PoolTimeout) -> JSONResponse:
        log.warning("database busy: no pooled connection in time on %s", endpoint_of(request))
        return await domain_error(request, DatabaseBusy())


def _refusal_page(scope: Any, status: int) -> Response | None:
    """A request the guard refuses (too large, not UTF-8, NUL) is an error page for a browser."""
    request = Request(scope)
    return error_page(request, status) if wants_page(request) else None


def _without_input(errors: Any) -> list[dict[str, Any]]:
    """FastAPI's field list, minus the offending input: it may hold a victim's name."""
    return [
        jsonable_encoder({k: v for k, v in error.items() if k not in ("input", "url", "ctx")})
        for error in errors
    ]
