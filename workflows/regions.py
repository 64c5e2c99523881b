"""Indonesia's provinces and regencies/cities, by their Kemendagri region code (kode wilayah).

The data is `workflows/data/regions-id.csv` (its header says where it comes from and how to
update it). A province's code has two digits ("53"); a regency's or city's has the province's,
a dot and two more ("53.71"). Pure: a file read once.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

DATA = Path(__file__).resolve().parent / "data" / "regions-id.csv"
RegionLevel = Literal["province", "regency"]
# The intake form names two provinces as people say them; the source has the statutory names.
_SHORT_NAMES = {
    "DKI Jakarta": "Daerah Khusus Ibukota Jakarta",
    "DI Yogyakarta": "Daerah Istimewa Yogyakarta",
}
_PREFIXES = ("kabupaten administrasi ", "kota administrasi ", "kabupaten ", "kota ", "kab. ")


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: RegionLevel
    parent: str | None  # a regency's province

    @property
    def province(self) -> str:
        return self.parent or self.code


@dataclass(frozen=True)
class Regions:
    by_code: Mapping[str, Region]

    def get(self, code: str) -> Region | None:
        return self.by_code.get(code)

    def province_named(self, name: str) -> Region | None:
        """The province called `name` (statutory or common name, any case)."""
        wanted = _SHORT_NAMES.get(name, name).casefold()
        return next(
            (
                r
                for r in self.by_code.values()
                if r.level == "province" and r.name.casefold() == wanted
            ),
            None,
        )

    def regency_named(self, province: str, name: str) -> Region | None:
        """The regency or city of `province` called `name`, with or without "Kabupaten"/"Kota".

        A bare name that is both a regency and a city ("Kupang") is the regency."""
        wanted = _bare(name)
        matches = [
            r
            for r in self.by_code.values()
            if r.parent == province
            and (_bare(r.name) == wanted or r.name.casefold() == name.casefold().strip())
        ]
        exact = [r for r in matches if r.name.casefold() == name.casefold().strip()]
        ranked = exact or sorted(matches, key=_code)
        return ranked[0] if ranked else None

    def provinces(self) -> list[Region]:
        return sorted((r for r in self.by_code.values() if r.level == "province"), key=_code)

    def regencies(self, province: str) -> list[Region]:
        return sorted((r for r in self.by_code.values() if r.parent == province), key=_code)


def _code(region: Region) -> str:
    return region.code


def _bare(name: str) -> str:
    folded = " ".join(name.casefold().split())
    for prefix in _PREFIXES:
        if folded.startswith(prefix):
            return folded[len(prefix) :]
    return folded


@cache
def load_regions(path: Path = DATA) -> Regions:
    lines = [
        line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")
    ]
    regions: dict[str, Region] = {}
    for row in csv.DictReader(lines):
        level: RegionLevel
        if row["level"] == "province":
            level = "province"
        elif row["level"] == "regency":
            level = "regency"
        else:
            raise ValueError(f"{path.name}: {row['code']}: unknown level {row['level']!r}")
        regions[row["code"]] = Region(
            code=row["code"], name=row["name"], level=level, parent=row["parent"] or None
        )
    return Regions(regions)
