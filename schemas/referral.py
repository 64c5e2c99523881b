"""How the case reached the mechanism, and the trafficking context (HTCDS)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from typing_extensions import TypeAliasType

from schemas.common import CountryCode, PastDate, StrictModel

Channel = TypeAliasType(
    "Channel",
    Literal[
    "police", "immigration", "embassy", "ngo", "hotline_sapa_129", "health_facility",
    "labour_office", "community", "self_referral", "other",
],
)  # fmt: skip
ExploitationType = TypeAliasType(
    "ExploitationType",
    Literal[
    "sexual", "forced_labour", "forced_criminality", "domestic_servitude", "forced_marriage",
    "organ_removal", "forced_begging", "other",
],
)  # fmt: skip
RecruitmentMethod = TypeAliasType(
    "RecruitmentMethod",
    Literal[
    "job_offer", "online_advertisement", "family_or_friend", "broker_or_agency",
    "marriage_offer", "abduction", "other",
],
)  # fmt: skip
MeansOfControl = TypeAliasType(
    "MeansOfControl",
    Literal[
    "debt_bondage", "withheld_documents", "threats", "physical_violence", "sexual_violence",
    "restricted_movement", "withheld_wages", "psychological_abuse", "substance_abuse",
    "isolation", "other",
],
)  # fmt: skip


class ReferralCreate(StrictModel):
    channel: Channel
    referring_organisation: str | None = Field(default=None, max_length=200)
    referral_date: PastDate | None = Field(default=None, description="defaults to today (WIB)")
    country_of_exploitation: CountryCode | None = None
    places_of_exploitation: list[str] = Field(default_factory=list, max_length=10)
    exploitation_types: list[ExploitationType] = Field(default_factory=list, max_length=8)
    labour_industry: str | None = Field(default=None, max_length=100)
    recruitment_method: RecruitmentMethod | None = None
    recruitment_place: str | None = Field(default=None, max_length=200)
    means_of_control: list[MeansOfControl] = Field(default_factory=list, max_length=11)
    exploitation_started_on: PastDate | None = None
    exploitation_ended_on: PastDate | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> ReferralCreate:
        start, end = self.exploitation_started_on, self.exploitation_ended_on
        if start and end and end < start:
            raise ValueError("exploitation_ended_on is before exploitation_started_on")
        return self


class ReferralRead(ReferralCreate):
    pass
