"""Small shared pieces: strict input models, country codes, provinces, errors."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import pycountry
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    WithJsonSchema,
    model_validator,
)
from typing_extensions import TypeAliasType

WIB = ZoneInfo("Asia/Jakarta")

# The 38 provinces of Indonesia (Kemendagri, since the 2022 Papua expansion).
PROVINCES = (
    "Aceh", "Sumatera Utara", "Sumatera Barat", "Riau", "Kepulauan Riau", "Jambi", "Bengkulu",
    "Sumatera Selatan", "Kepulauan Bangka Belitung", "Lampung", "DKI Jakarta", "Jawa Barat",
    "Banten", "Jawa Tengah", "DI Yogyakarta", "Jawa Timur", "Bali", "Nusa Tenggara Barat",
    "Nusa Tenggara Timur", "Kalimantan Barat", "Kalimantan Tengah", "Kalimantan Selatan",
    "Kalimantan Timur", "Kalimantan Utara", "Sulawesi Utara", "Gorontalo", "Sulawesi Tengah",
    "Sulawesi Barat", "Sulawesi Selatan", "Sulawesi Tenggara", "Maluku", "Maluku Utara",
    "Papua", "Papua Barat", "Papua Barat Daya", "Papua Tengah", "Papua Pegunungan",
    "Papua Selatan",
)  # fmt: skip
_PROVINCE_BY_KEY = {p.casefold(): p for p in PROVINCES}


def examples(*values: dict[str, Any]) -> ConfigDict:
    """A request model's examples, for /docs and for clients (and fuzzers) to start from."""
    return ConfigDict(json_schema_extra={"examples": list(values)})


class StrictModel(BaseModel):
    """Input that refuses what it does not know: a misspelt or server-owned field is a 422.

    No text anywhere in it, free-form payloads and keys included, may hold the NUL character
    (PostgreSQL stores none in text; a 422 here instead of a 500 there)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        where = _nul_at(data, ())
        if where is not None:
            raise ValueError(f"{'.'.join(where) or 'text'}: text may not contain the NUL character")
        return data


def _nul_at(value: Any, path: tuple[str, ...]) -> tuple[str, ...] | None:
    """The path to the first text holding NUL, as field names and list indexes."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    items: Any = ()
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    for key, item in items:
        step = (*path, str(key).replace("\x00", "\\0"))
        if isinstance(key, str) and "\x00" in key:
            return step
        found = _nul_at(item, step)
        if found is not None:
            return found
    return None


def _not_a_number(value: Any) -> Any:
    """A date or instant is written as ISO 8601: pydantic would also read a number as seconds
    since 1970 (`until=0.5`), which is never what a person meant."""
    text = value if isinstance(value, str) else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = str(value)
    if text is not None:
        try:
            float(text)
        except ValueError:
            return value
        raise ValueError("give an ISO 8601 date or date and time, not a number")
    return value


# Query parameters and fields that are a day, or an instant (the API checks its time zone).
Day = Annotated[date, BeforeValidator(_not_a_number)]
Instant = Annotated[datetime, BeforeValidator(_not_a_number)]


def _country(value: str) -> str:
    code = value.upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def _province(value: str) -> str:
    province = _PROVINCE_BY_KEY.get(value.casefold())
    if province is None:
        raise ValueError(f"{value!r} is not one of Indonesia's 38 provinces")
    return province


def _not_future(value: date) -> date:
    if value > datetime.now(WIB).date():
        raise ValueError("must not be in the future")
    return value


def today_wib() -> date:
    return datetime.now(WIB).date()


COUNTRY_CODES = tuple(sorted(country.alpha_2 for country in pycountry.countries))
# The server also takes a code or province in another case, and trims spaces: the schema names
# the canonical spelling, which is what it answers with.
CountryCode = TypeAliasType(
    "CountryCode",
    Annotated[
    str,
    AfterValidator(_country),
    WithJsonSchema(
        {"type": "string", "enum": list(COUNTRY_CODES), "title": "CountryCode",
         "description": "ISO 3166-1 alpha-2"}
    ),
    ],
)  # fmt: skip
Province = TypeAliasType(
    "Province",
    Annotated[
    str,
    AfterValidator(_province),
    WithJsonSchema(
        {"type": "string", "enum": list(PROVINCES), "title": "Province",
         "description": "one of Indonesia's 38 provinces"}
    ),
    ],
)  # fmt: skip
PastDate = Annotated[date, AfterValidator(_not_future)]


class ErrorRead(BaseModel):
    """Every error: a stable `code` and a `detail` (FastAPI's field list for a 422)."""

    detail: str | list[dict[str, Any]]
    code: str


class LabelRead(BaseModel):
    id: str
    en: str
