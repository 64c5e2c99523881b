"""What a report may be broken down by, and each case's value for it.

Every value comes from the intake facts (kept in clear on the case row and in the referral's
coded context; never from the encrypted identity) or from where the history says the case stood
as of the report's end. A case has one value per dimension, so a table's lines add up to its
total: several exploitation types are `multiple`, none is `unknown`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from schemas.common import WIB
from service.cases.presenters import age_band
from service.reports.repository import CaseFact

UNKNOWN = "unknown"


@dataclass(frozen=True)
class CaseView:
    """A case as a report sees it: its intake facts, where it stood as of the report's end,
    and when it was first identified as a victim (None: not by then)."""

    fact: CaseFact
    state: str
    phase: str
    ministry: str
    terminal: bool
    unit: str
    identified_at: datetime | None


def exploitation_type(types: object) -> str:
    if not isinstance(types, list) or not types:
        return UNKNOWN
    return str(types[0]) if len(set(types)) == 1 else "multiple"


def _coded(view: CaseView, key: str) -> str:
    value = view.fact.trafficking.get(key)
    return str(value) if value else UNKNOWN


DIMENSIONS: dict[str, Callable[[CaseView], str]] = {
    "phase": lambda v: v.phase,
    "state": lambda v: v.state,
    "ministry": lambda v: v.ministry,
    "unit": lambda v: v.unit or UNKNOWN,
    "province": lambda v: v.fact.province or UNKNOWN,
    "country_of_exploitation": lambda v: v.fact.country or UNKNOWN,
    "exploitation_type": lambda v: exploitation_type(v.fact.trafficking.get("exploitation_types")),
    "recruitment_method": lambda v: _coded(v, "recruitment_method"),
    "sex": lambda v: v.fact.sex,
    "age_band": lambda v: age_band(v.fact.age),
    "child": lambda v: "child" if v.fact.is_child else "adult",
    "nationality": lambda v: v.fact.nationality,
    "referral_channel": lambda v: v.fact.channel,
    "year": lambda v: str(v.fact.registered_at.astimezone(WIB).year),
}
# What published tables may be broken down by: the quasi-identifiers and coded context, never
# where a case stands in the workflow (a rare state would single a victim out over time).
PUBLISHABLE = (
    "sex", "age_band", "child", "nationality", "province", "country_of_exploitation",
    "exploitation_type", "recruitment_method", "year",
)  # fmt: skip
MAX_DIMENSIONS = 2
