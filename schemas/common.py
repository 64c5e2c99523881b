"""Small shared pieces: strict input models, country codes, provinces, errors."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict

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


class StrictModel(BaseModel):
    """Input that refuses what it does not know: a misspelt or server-owned field is a 422."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


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


CountryCode = Annotated[str, AfterValidator(_country)]
Province = Annotated[str, AfterValidator(_province)]
PastDate = Annotated[date, AfterValidator(_not_future)]


class ErrorRead(BaseModel):
    """Every error: a stable `code` and a `detail` (FastAPI's field list for a 422)."""

    detail: str | list[dict[str, Any]]
    code: str


class LabelRead(BaseModel):
    id: str
    en: str
