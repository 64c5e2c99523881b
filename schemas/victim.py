"""The person, after the Human Trafficking Case Data Standard (HTCDS) of IOM and CTDC."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from typing_extensions import TypeAliasType

from schemas.common import CountryCode, PastDate, Province, StrictModel

Sex = TypeAliasType("Sex", Literal["female", "male", "other", "unknown"])  # a named enum
DocumentKind = TypeAliasType("DocumentKind", Literal["nik", "passport", "other"])
_NIK = re.compile(r"^\d{16}$")


class IdentityDocument(StrictModel):
    kind: DocumentKind
    number: str = Field(min_length=3, max_length=40)
    issuing_country: CountryCode | None = None

    @model_validator(mode="after")
    def _nik_has_16_digits(self) -> IdentityDocument:
        if self.kind == "nik" and not _NIK.match(self.number):
            raise ValueError("a NIK has exactly 16 digits")
        return self


class Contact(StrictModel):
    phone: str | None = Field(default=None, max_length=40, pattern=r"^\+?[0-9 ()-]{6,40}$")
    address: str | None = Field(default=None, max_length=400)
    safe_contact_person: str | None = Field(default=None, max_length=200)


class VictimCreate(StrictModel):
    full_name: str = Field(min_length=1, max_length=200)
    other_names: list[str] = Field(default_factory=list, max_length=10)
    sex: Sex
    birth_date: PastDate | None = None
    age_estimate: int | None = Field(default=None, ge=0, le=120)
    presumed_child: bool = Field(
        default=False,
        description="age is uncertain and there are reasons to believe the victim is a child",
    )
    nationality: CountryCode
    identity_document: IdentityDocument | None = None
    province_of_origin: Province | None = Field(
        default=None, description="one of Indonesia's 38 provinces, for an Indonesian victim"
    )
    district_of_origin: str | None = Field(default=None, max_length=100)
    languages: list[str] = Field(default_factory=list, max_length=10)
    has_disability: bool | None = None
    contact: Contact | None = None

    @model_validator(mode="after")
    def _age_is_known_somehow(self) -> VictimCreate:
        if self.birth_date is None and self.age_estimate is None and not self.presumed_child:
            raise ValueError("give birth_date, age_estimate, or presumed_child")
        if self.province_of_origin and self.nationality != "ID":
            raise ValueError("province_of_origin is for Indonesian victims (nationality ID)")
        return self


class VictimSummary(BaseModel):
    """What anyone who may see the case sees of the victim: no name, birth date or document."""

    pseudonym: str = Field(description="the case reference; never the victim's name")
    sex: Sex
    age_band: str
    is_child: bool
    nationality: str
    province_of_origin: str | None


class VictimRead(VictimSummary):
    """Identity fields are null, and `identity_visible` false, for whoever may not see them."""

    languages: list[str]
    has_disability: bool | None
    identity_visible: bool
    full_name: str | None = None
    other_names: list[str] | None = None
    birth_date: str | None = None
    identity_document: IdentityDocument | None = None
    district_of_origin: str | None = None
    contact: Contact | None = None
