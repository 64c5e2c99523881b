"""The region codes shipped with the service: every province and regency/city, well formed."""

from __future__ import annotations

import re

from schemas.common import PROVINCES
from workflows.regions import load_regions


def test_all_38_provinces_and_their_regencies_and_cities_are_there() -> None:
    regions = load_regions()
    provinces = regions.provinces()
    assert len(provinces) == 38
    assert sum(len(regions.regencies(p.code)) for p in provinces) == 514
    assert regions.get("53") is not None and regions.get("53.71") is not None
    assert regions.get("53.71").name == "Kota Kupang"  # type: ignore[union-attr]


def test_codes_are_kemendagri_codes_and_regencies_sit_in_their_province() -> None:
    for region in load_regions().by_code.values():
        if region.level == "province":
            assert re.fullmatch(r"\d{2}", region.code) and region.parent is None
        else:
            assert re.fullmatch(r"\d{2}\.\d{2}", region.code)
            assert region.parent == region.code[:2]


def test_every_province_of_the_intake_form_has_a_code() -> None:
    regions = load_regions()
    assert all(regions.province_named(name) is not None for name in PROVINCES)
    assert regions.province_named("nusa tenggara timur").code == "53"  # type: ignore[union-attr]


def test_regencies_are_found_by_their_bare_or_full_name() -> None:
    regions = load_regions()
    assert regions.regency_named("53", "Kota Kupang").code == "53.71"  # type: ignore[union-attr]
    assert regions.regency_named("53", "Kupang").code == "53.01"  # type: ignore[union-attr]
    assert regions.regency_named("53", "kabupaten belu").code == "53.04"  # type: ignore[union-attr]
    assert regions.regency_named("53", "Batam") is None
    assert regions.regency_named("21", "Batam").code == "21.71"  # type: ignore[union-attr]
