"""Keyed hashes (HMAC-SHA256 under NRM_INDEX_KEY) that let the database find equal values
without holding them: a victim's identity document, and the coarse blocks of the fuzzy search.

Without the key a hash cannot be computed from a guessed NIK (16 digits are few enough to try
them all), so a copy of the database alone does not reveal who is in it. Changing the key
changes every hash: `nrm keys reindex` computes them again (docs/operations.md).
"""

from __future__ import annotations

import hashlib
import hmac
import re

from service.cases.duplicates.matching import blocking_tokens

_NOT_ALNUM = re.compile(r"[^0-9A-Z]+")
_BLOCK_HEX = 32  # 128 bits: no two blocks collide by chance


def normalised_document(kind: str, number: str) -> str | None:
    """`kind:number` as compared: a NIK's 16 digits; a passport's (or another document's)
    upper-case letters and digits without spaces or dashes. None when nothing is left."""
    if kind == "nik":
        digits = re.sub(r"\D+", "", number)
        return f"nik:{digits}" if len(digits) == 16 else None
    cleaned = _NOT_ALNUM.sub("", number.upper())
    return f"{kind}:{cleaned}" if cleaned else None


def document_index(key: bytes, kind: str, number: str) -> str | None:
    normalised = normalised_document(kind, number)
    if normalised is None:
        return None
    return _mac(key, "document/v1", normalised)


def blocks(key: bytes, names: list[str], birth_year: int | None, province: str | None) -> set[str]:
    """What a victim is filed under: each name token with the birth year, and with the province."""
    out: set[str] = set()
    for token in {t for name in names for t in blocking_tokens(name)}:
        if birth_year is not None:
            out.add(_block(key, "year", token, str(birth_year)))
        if province:
            out.add(_block(key, "province", token, province))
    return out


def search_blocks(
    key: bytes, names: list[str], birth_year: int | None, province: str | None
) -> set[str]:
    """The blocks to look in: as `blocks`, with the years either side (a year misremembered,
    or an age estimate)."""
    years = [birth_year - 1, birth_year, birth_year + 1] if birth_year is not None else [None]
    out: set[str] = set()
    for year in years:
        out |= blocks(key, names, year, province)
    return out


def _block(key: bytes, kind: str, token: str, value: str) -> str:
    return _mac(key, f"block/v1/{kind}", f"{token}|{value}")[:_BLOCK_HEX]


def _mac(key: bytes, label: str, value: str) -> str:
    return hmac.new(key, f"{label}\x00{value}".encode(), hashlib.sha256).hexdigest()
