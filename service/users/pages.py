"""Pages about people: the language switch (anyone), and user administration (admins)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends
from pydantic import ValidationError
from sqlmodel import Session
from starlette.responses import Response

from schemas.auth import (
    AccountRequestPage,
    AccountRequestRead,
    PasswordChange,
    PasswordReset,
    UserCreate,
    UserPage,
    UserUpdate,
)
from service.kit.context import AppContext
from service.kit.errors import DomainError
from service.kit.principal import Principal
from service.units import service as units
from service.users import service as users
from service.web.errors import page_router
from service.web.forms import domain_message, translated_errors
from service.web.i18n import LANGUAGES
from service.web.session import LoginRequired, Page, page_as, safe_next, set_language_cookie
from service.web.templating import Templates

router = page_router()
templates = Templates(Path(__file__).parent / "templates")
PageDep = Annotated[Page, Depends(page_as())]
AdminPage = Annotated[Page, Depends(page_as("admin"))]
PAGE_SIZE = 100


@router.post("/language")
async def choose_language(page: PageDep) -> Response:
    """Remembered on the user when logged in; in a cookie either way (the login page)."""
    language = page.field("language")
    if language not in LANGUAGES:
        language = "id"
    with contextlib.suppress(LoginRequired):  # not logged in: the cookie alone
        await page(lambda session, _context, me: users.set_language(session, me, language))
    response = page.redirect(safe_next(page.field("next"), "/login"))
    set_language_cookie(page.request, response, language)
    return response


@router.get("/admin/users")
async def list_users(page: AdminPage, cursor: str | None = None) -> Response:
    accounts = await page.read(lambda session, context, _me: _accounts(session, context, cursor))
    return await _users_page(page, accounts)


@router.post("/admin/users")
async def create_user(page: AdminPage) -> Response:
    draft = {
        "username": page.field("username"),
        "role": page.field("role"),
        "ministry": page.field("ministry") or None,
        "unit": page.field("unit").upper() or None,
        "password": page.secret("password"),
    }
    try:
        data = UserCreate.model_validate(_ministry_of_unit(draft))
        made = await page(
            lambda session, context, me: users.create_user(session, context, me, data)
        )
    except ValidationError as exc:
        await page.ensure()
        return await _users_again(page, draft, translated_errors(page.t, exc.errors()))
    except DomainError as exc:
        if exc.status_code not in (409, 422):
            raise
        return await _users_again(page, draft, {"_": domain_message(page.t, exc)})
    if isinstance(made, AccountRequestRead):
        return page.redirect("/admin/users?pending=1#requests")
    return page.redirect(f"/admin/users?created={made.username}")


@router.post("/admin/users/{user_id}")
async def update_user(user_id: int, page: AdminPage) -> Response:
    changes: dict[str, object] = {}
    was = (page.field("was_role"), page.field("was_ministry"))
    if page.field("role") and (page.field("role"), page.field("ministry")) != was:
        changes["role"] = page.field("role")  # a change ends the user's sessions: only if any
        changes["ministry"] = page.field("ministry") or None
    if page.field("unit") and page.field("unit").upper() != page.field("was_unit"):
        changes["unit"] = page.field("unit").upper()
    if page.field("active") in ("true", "false"):
        changes["is_active"] = page.field("active") == "true"
    try:
        data = UserUpdate.model_validate(_ministry_of_unit(changes))
        changed = await page(
            lambda session, context, me: users.update_user(session, context, me, user_id, data)
        )
    except ValidationError as exc:
        await page.ensure()
        return await _users_again(page, None, translated_errors(page.t, exc.errors()))
    except DomainError as exc:
        if exc.status_code not in (409, 422):
            raise
        return await _users_again(page, None, {"_": domain_message(page.t, exc)})
    if isinstance(changed, AccountRequestRead):
        return page.redirect("/admin/users?pending=1#requests")
    return page.redirect(f"/admin/users?updated={user_id}#user-{user_id}")


@router.post("/admin/users/{user_id}/password-reset")
async def reset_password(user_id: int, page: AdminPage) -> Response:
    try:
        data = PasswordReset.model_validate({"password": page.secret("password")})
        done = await page(
            lambda session, context, me: users.reset_password(session, context, me, user_id, data)
        )
    except ValidationError as exc:
        await page.ensure()
        return await _users_again(page, None, translated_errors(page.t, exc.errors()))
    except DomainError as exc:
        if exc.status_code not in (409, 422):
            raise
        return await _users_again(page, None, {"_": domain_message(page.t, exc)})
    if isinstance(done, AccountRequestRead):
        return page.redirect("/admin/users?pending=1#requests")
    return page.redirect(f"/admin/users?reset={user_id}#user-{user_id}")


@router.post("/admin/users/requests/{request_id}/{decision}")
async def decide_request(request_id: int, decision: str, page: AdminPage) -> Response:
    """A second admin approves, or rejects with a reason, an account change another asked."""
    reason = page.field("reason")
    if decision not in ("approve", "reject") or (decision == "reject" and len(reason) < 3):
        await page.ensure()
        return await _users_again(page, None, {"reason": page.t("users.reason")})
    try:
        await page(
            lambda session, context, me: (
                users.approve_request(session, context, me, request_id)
                if decision == "approve"
                else users.reject_request(session, context, me, request_id, reason)
            )
        )
    except DomainError as exc:
        if exc.status_code not in (403, 404, 409, 422):
            raise
        message = {"_": domain_message(page.t, exc)}
        return await _users_again(page, None, message, exc.status_code)
    return page.redirect("/admin/users?decided=1#requests")


@router.get("/account/password")
async def password_form(page: PageDep) -> Response:
    await page.read(lambda _session, _context, _me: None)
    return _password_page(page)


@router.post("/account/password")
async def change_password(page: PageDep) -> Response:
    draft = {"old_password": page.secret("old_password"),
             "new_password": page.secret("new_password")}  # fmt: skip
    try:
        data = PasswordChange.model_validate(draft)
        await page(lambda session, context, me: users.change_password(session, context, me, data))
    except ValidationError as exc:
        await page.ensure()
        return _password_page(page, translated_errors(page.t, exc.errors()), 422)
    except DomainError as exc:
        if exc.status_code != 422:
            raise
        return _password_page(page, {"_": domain_message(page.t, exc)}, 422)
    return page.redirect("/login?changed=1")  # every session ended: log in with the new one


def _password_page(page: Page, errors: dict[str, str] | None = None, status: int = 200) -> Response:
    return page.render(
        templates, "password.html", status, errors=errors or {},
        forced=page.principal.must_change_password,
    )  # fmt: skip


def _accounts(session: Session, context: AppContext, cursor: str | None) -> Accounts:
    return Accounts(
        users.list_users(session, context, cursor, PAGE_SIZE),
        users.list_requests(session, context, None, PAGE_SIZE),
    )


@dataclass(frozen=True)
class Accounts:
    users: UserPage
    requests: AccountRequestPage


def _ministry_of_unit(form: Mapping[str, object]) -> dict[str, object]:
    """A unit named: the user's ministry is the unit's (the ministry chosen beside it is not)."""
    if form.get("unit"):
        return {**form, "ministry": None}
    return {k: v for k, v in form.items() if k != "unit"}


def _unit_codes(session: Session, context: AppContext, _me: Principal) -> list[str]:
    return [
        unit.code
        for ministry in sorted(context.registry.ministries())
        for unit in units.open_units(session, ministry)
    ]


async def _users_again(
    page: Page, draft: Mapping[str, object] | None, errors: dict[str, str], status: int = 422
) -> Response:
    accounts = await page.read(lambda session, context, _me: _accounts(session, context, None))
    return await _users_page(page, accounts, draft, errors, status)


async def _users_page(
    page: Page,
    accounts: Accounts,
    draft: Mapping[str, object] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    ministries = sorted(page.context.registry.ministries())
    unit_codes = await page.read(_unit_codes)
    query = page.request.query_params
    return page.render(
        templates, "users.html", status_code,
        accounts=accounts.users, requests=accounts.requests.items, draft=draft or {},
        errors=errors or {}, ministries=ministries, unit_codes=unit_codes,
        roles=("case_worker", "supervisor", "auditor", "admin"),
        created=query.get("created"), updated=query.get("updated"),
        pending=query.get("pending"), decided=query.get("decided"), reset=query.get("reset"),
    )  # fmt: skip
