"""Units: the offices that do the work, by ministry, level and region (or country abroad)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from schemas.common import CountryCode, StrictModel, examples

UNIT_CODE = r"^[A-Z0-9][A-Z0-9._-]{1,39}$"
REGION_CODE = r"^\d{2}(\.\d{2})?$"


class UnitLevel(StrEnum):
    NATIONAL = "national"
    PROVINCE = "province"
    DISTRICT = "district"  # a regency (kabupaten) or city (kota)
    MISSION = "mission"  # an embassy or consulate abroad


class UnitCreate(StrictModel):
    model_config = examples(
        {"code": "KEMENSOS-RPTC-21", "name": "RPTC Kupang", "ministry": "KEMENSOS",
         "level": "province", "region_code": "53"}
    )  # fmt: skip

    code: str = Field(pattern=UNIT_CODE, description="stable identifier, e.g. KEMENSOS-RPTC-21")
    name: str = Field(min_length=3, max_length=120)
    ministry: str = Field(max_length=20, description="a ministry code of the workflow")
    level: UnitLevel
    region_code: str | None = Field(
        default=None,
        pattern=REGION_CODE,
        description="Kemendagri code: a province (53) for province units, a regency or city "
        "(53.71) for district units; none otherwise",
    )
    country: CountryCode | None = Field(default=None, description="missions only")


class UnitUpdate(StrictModel):
    model_config = examples({"name": "RPTC Kupang (Oesapa)"}, {"is_active": False})

    name: str | None = Field(default=None, min_length=3, max_length=120)
    is_active: bool | None = None


class UnitRead(BaseModel):
    code: str
    name: str
    ministry: str
    level: UnitLevel
    region_code: str | None
    region_name: str | None
    country: str | None
    parent: str | None = Field(description="the code of the unit above, none for national")
    is_active: bool
    created_at: datetime


class UnitPage(BaseModel):
    items: list[UnitRead]
    next_cursor: str | None


class TransferDecision(StrictModel):
    model_config = examples({"reason": "our shelter is full this month"})

    reason: str = Field(min_length=3, max_length=500)


class TransferRequest(StrictModel):
    model_config = examples({"to_unit": "KEMENSOS-RPTC-21"})

    to_unit: str = Field(pattern=UNIT_CODE, description="the receiving unit's code")


class RegionRead(BaseModel):
    code: str = Field(description="Kemendagri code (kode wilayah)")
    name: str
    level: str = Field(description="province, or regency (a kabupaten or kota)")
