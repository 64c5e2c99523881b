"""Pages about people: the language switch (anyone), and user administration (admins)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

from fastapi import Depends
from pydantic import ValidationError
from sqlmodel import Session
from starlette.responses import Response

from schemas.auth import UserCreate, UserPage, UserUpdate
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
        "password": page.field("password"),
    }
    try:
        data = UserCreate.model_validate(_ministry_of_unit(draft))
        created = await page(
            lambda session, context, me: users.create_user(session, context, me, data).username
        )
    except ValidationError as exc:
        await page.ensure()
        return await _users_again(page, draft, translated_errors(page.t, exc.errors()))
    except DomainError as exc:
        if exc.status_code not in (409, 422):
            raise
        return await _users_again(page, draft, {"_": domain_message(page.t, exc)})
    return page.redirect(f"/admin/users?created={created}")


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
        await page(
            lambda session, context, me: users.update_user(session, context, me, user_id, data).id
        )
    except ValidationError as exc:
        await page.ensure()
        return await _users_again(page, None, translated_errors(page.t, exc.errors()))
    except DomainError as exc:
        if exc.status_code not in (409, 422):
            raise
        return await _users_again(page, None, {"_": domain_message(page.t, exc)})
    return page.redirect(f"/admin/users?updated={user_id}#user-{user_id}")


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


def _accounts(session: Session, context: AppContext, cursor: str | None) -> UserPage:
    return users.list_users(session, context, cursor, PAGE_SIZE)


async def _users_again(
    page: Page, draft: Mapping[str, object] | None, errors: dict[str, str]
) -> Response:
    accounts = await page.read(lambda session, context, _me: _accounts(session, context, None))
    return await _users_page(page, accounts, draft, errors, 422)


async def _users_page(
    page: Page,
    accounts: UserPage,
    draft: Mapping[str, object] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    ministries = sorted(page.context.registry.ministries())
    unit_codes = await page.read(_unit_codes)
    query = page.request.query_params
    return page.render(
        templates, "users.html", status_code,
        accounts=accounts, draft=draft or {}, errors=errors or {}, ministries=ministries,
        unit_codes=unit_codes,
        roles=("case_worker", "supervisor", "auditor", "admin"),
        created=query.get("created"), updated=query.get("updated"),
    )  # fmt: skip
