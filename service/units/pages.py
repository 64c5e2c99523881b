"""Units in the browser (admins): the list, opening a unit, renaming and closing one.

The same use cases as the API's (`units.service`): each change is an event on the `units`
stream; closing a unit with open cases is refused, and the page says how many.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Query
from pydantic import ValidationError
from starlette.responses import Response

from schemas.unit import RegionRead, UnitCreate, UnitLevel, UnitPage, UnitUpdate
from service.kit.errors import DomainError
from service.units import service as units
from service.web.errors import page_router
from service.web.forms import domain_message, translated_errors
from service.web.session import Page, page_as
from service.web.templating import Templates

router = page_router()
templates = Templates(Path(__file__).parent / "templates")
AdminPage = Annotated[Page, Depends(page_as("admin"))]
PAGE_SIZE = 100
_FIELDS = ("code", "name", "ministry", "level", "region_code", "country")


@dataclass(frozen=True)
class Province:
    region: RegionRead
    regencies: list[RegionRead]


@router.get("/admin/units")
async def list_units(
    page: AdminPage, cursor: Annotated[str | None, Query(max_length=512)] = None
) -> Response:
    listed = await page.read(
        lambda session, context, _me: units.list_units(session, context, None, cursor, PAGE_SIZE)
    )
    return _units_page(page, listed)


@router.post("/admin/units")
async def create_unit(page: AdminPage) -> Response:
    draft = {name: page.field(name) or None for name in _FIELDS}
    try:
        data = UnitCreate.model_validate(draft)
        code = await page(
            lambda session, context, me: units.create_unit(session, context, me, data).code
        )
    except ValidationError as exc:
        await page.ensure()
        return await _units_again(page, draft, translated_errors(page.t, exc.errors()))
    except DomainError as exc:
        if exc.status_code not in (409, 422):
            raise
        return await _units_again(page, draft, {_field_of(exc): domain_message(page.t, exc)})
    return page.redirect(f"/admin/units?created={code}")


@router.post("/admin/units/{code}")
async def update_unit(code: str, page: AdminPage) -> Response:
    """Rename (`name`) or close (`active=false`) a unit."""
    closing = page.field("active") == "false"
    changes: dict[str, object] = {"is_active": False} if closing else {"name": page.field("name")}
    try:
        data = UnitUpdate.model_validate(changes)
        await page(
            lambda session, context, me: units.update_unit(session, context, me, code, data).code
        )
    except ValidationError as exc:
        await page.ensure()
        message = next(iter(translated_errors(page.t, exc.errors()).values()))
        return await _units_again(page, {}, {}, {code: message})
    except DomainError as exc:
        if exc.status_code not in (409, 422):
            raise
        message = domain_message(page.t, exc)
        if closing and exc.status_code == 409 and _field_of(exc) == "is_active":
            count = await page.read(lambda session, _c, _me: units.open_case_count(session, code))
            if count:
                message = page.t("units.close_refused", code=code, count=page.t.number(count))
        return await _units_again(page, {}, {}, {code: message})
    done = "closed" if closing else "renamed"
    return page.redirect(f"/admin/units?{done}={code}#unit-{code}")


def _field_of(exc: DomainError) -> str:
    """The form field a refusal names ("region_code: ..."), else the whole form ("_")."""
    detail = exc.detail if isinstance(exc.detail, str) else ""
    name = detail.split(":", 1)[0]
    return name if ":" in detail and name in (*_FIELDS, "is_active") else "_"


async def _units_again(
    page: Page,
    draft: dict[str, str | None],
    errors: dict[str, str],
    row_errors: dict[str, str] | None = None,
) -> Response:
    listed = await page.read(
        lambda session, context, _me: units.list_units(session, context, None, None, PAGE_SIZE)
    )
    return _units_page(page, listed, draft, errors, row_errors or {}, 422)


def _units_page(
    page: Page,
    listed: UnitPage,
    draft: dict[str, str | None] | None = None,
    errors: dict[str, str] | None = None,
    row_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    provinces = [Province(p, units.regions(p.code)) for p in units.regions(None)]
    query = page.request.query_params
    done = next(
        ((key, query[key]) for key in ("created", "renamed", "closed") if query.get(key)), None
    )
    return page.render(
        templates, "units.html", status_code,
        listed=listed, draft=draft or {}, errors=errors or {}, row_errors=row_errors or {},
        ministries=sorted(page.context.registry.ministries()), levels=list(UnitLevel),
        provinces=provinces, done=done,
    )  # fmt: skip
