"""The referral form: its choices, and the intake body read back from its fields.

Inputs are named after the intake's own fields (`victim.full_name`, `referral.channel`), so a
refusal from `CaseCreate` lands beside the input it is about. Lists typed as text are split on
commas; empty inputs are left out, so that the schema's defaults and rules apply.
"""

from __future__ import annotations

import gettext
from functools import cache
from typing import Any, get_args

import pycountry

from schemas.common import PROVINCES
from schemas.referral import Channel, ExploitationType, MeansOfControl, RecruitmentMethod
from schemas.victim import Sex
from service.web.forms import Getter, ListGetter

INTAKE_CHOICES: dict[str, tuple[str, ...]] = {
    "sex": get_args(Sex.__value__),
    "channel": get_args(Channel.__value__),
    "exploitation_types": get_args(ExploitationType.__value__),
    "recruitment_method": get_args(RecruitmentMethod.__value__),
    "means_of_control": get_args(MeansOfControl.__value__),
    "document_kind": ("nik", "passport", "other"),
    "provinces": PROVINCES,
}
_LISTS = {"victim.other_names", "victim.languages", "referral.places_of_exploitation"}
_CHECKED = {"referral.exploitation_types", "referral.means_of_control"}
_TEXT = (
    "victim.full_name", "victim.sex", "victim.birth_date", "victim.age_estimate",
    "victim.nationality", "victim.province_of_origin", "victim.district_of_origin",
    "victim.identity_document.kind", "victim.identity_document.number",
    "victim.identity_document.issuing_country", "victim.contact.phone", "victim.contact.address",
    "victim.contact.safe_contact_person", "referral.channel", "referral.referring_organisation",
    "referral.referral_date", "referral.country_of_exploitation", "referral.labour_industry",
    "referral.recruitment_method", "referral.recruitment_place",
    "referral.exploitation_started_on", "referral.exploitation_ended_on",
)  # fmt: skip


def read_intake(value: Getter, values: ListGetter) -> dict[str, Any]:
    body: dict[str, Any] = {"victim": {}, "referral": {}}
    for name in _TEXT:
        if raw := value(name):
            _put(body, name, raw)
    for name in _LISTS:
        items = [part.strip() for part in value(name).split(",") if part.strip()]
        if items:
            _put(body, name, items)
    for name in _CHECKED:
        if chosen := values(name):
            _put(body, name, chosen)
    if value("victim.presumed_child") == "true":
        _put(body, "victim.presumed_child", True)
    if value("victim.has_disability") in ("true", "false"):
        _put(body, "victim.has_disability", value("victim.has_disability") == "true")
    return body


def _put(body: dict[str, Any], name: str, item: Any) -> None:
    *path, last = name.split(".")
    node = body
    for part in path:
        node = node.setdefault(part, {})
    node[last] = item


@cache
def countries(language: str) -> list[tuple[str, str]]:
    """(ISO code, name in `language`), sorted by name: pycountry ships the translations."""
    translate = gettext.translation(
        "iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True
    ).gettext
    named = [(c.alpha_2, translate(c.name)) for c in pycountry.countries]
    return sorted(named, key=lambda pair: pair[1])
