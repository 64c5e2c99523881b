"""Indonesian names as the duplicate search compares them: canonical tokens, and a score.

Pure: no database, no keys. Spelling variants collapse to one canonical token before anything
is compared (the old Van Ophuijsen and Soewandi spellings, oe/u, dj/j, tj/c, j/y, ch/kh, sj/sy,
nj/ny, doubled letters, a final h, a final y/i), so `Djoko Soeparman` and `Joko Suparman` are
the same two tokens. The spellings and abbreviations of Muhammad (Moh., M., Mochammad, ...)
become one token that is compared but never blocked on (too common to narrow a search).
`bin`, `binti` and honorifics are left out. The score is rapidfuzz's token-set and token-sort
ratios over the canonical tokens: word order does not count, and a single name (mononym) found
within a longer name scores high, with birth year, province and sex to tell namesakes apart.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from rapidfuzz import fuzz

MUHAMMAD = "muhammad"
MONONYM_WEIGHT = 0.85
_YEARS_APART = {0: 60.0, 1: 40.0, 2: 15.0}  # same year, a date misremembered, an age estimate
_MUHAMMAD_FORMS = frozenset({
    "muhammad", "muhamad", "muhammed", "muhamed", "mohammad", "mohamad", "mohammed", "mohamed",
    "mochammad", "mochamad", "mokhammad", "mokhamad", "muchammad", "muchamad", "mukhammad",
    "mukhamad", "moh", "muh", "moch", "mohd", "mhd", "md", "m",
})  # fmt: skip
_LEFT_OUT = frozenset({
    "bin", "binti", "bte", "bt", "bn", "h", "hj", "haji", "hajjah", "hajah", "ir", "dr", "drs",
    "sh", "se", "spd", "ust", "ustadz",
})  # fmt: skip
# Old spellings and common variants, applied in this order (digraphs before single letters).
_SPELLING = (
    ("oe", "u"), ("dj", "j"), ("tj", "c"), ("sj", "sy"), ("nj", "ny"), ("ch", "kh"),
    ("kh", "h"), ("ph", "f"), ("th", "t"), ("dh", "d"), ("j", "y"), ("q", "k"), ("v", "f"),
    ("z", "s"), ("x", "ks"),
)  # fmt: skip
_BIN = re.compile(r"\s(?:bin|binti|bte|bt)\s", re.IGNORECASE)
_DOUBLED = re.compile(r"(.)\1+")
_NOT_LETTERS = re.compile(r"[^a-z]+")


def tokens(name: str) -> list[str]:
    """The canonical tokens of a name, in their order (Muhammad's forms as `muhammad`)."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    out: list[str] = []
    for word in _NOT_LETTERS.split(plain.replace("'", "")):
        if not word or word in _LEFT_OUT:
            continue
        out.append(MUHAMMAD if word in _MUHAMMAD_FORMS else canonical(word))
    return [token for token in out if token]


def canonical(word: str) -> str:
    for old, new in _SPELLING:
        word = word.replace(old, new)
    word = _DOUBLED.sub(r"\1", word)
    if len(word) > 3 and word.endswith("h"):
        word = word[:-1]  # Fatimah, Fatima
    return word[:-1] + "i" if len(word) > 2 and word.endswith("y") else word  # Rizky, Rizki


def blocking_tokens(name: str) -> set[str]:
    """The tokens a search may block on: not Muhammad, not one letter (initials)."""
    return {token for token in tokens(name) if token != MUHAMMAD and len(token) > 1}


@dataclass(frozen=True)
class Person:
    """What the score compares; read from a decrypted identity and the case row."""

    names: tuple[str, ...]  # full name and other names, canonical tokens joined by spaces
    birth_date: date | None
    birth_year: int | None  # from the birth date, or intake year minus the age estimate
    province: str | None
    sex: str | None


def person(
    full_name: str,
    other_names: list[str] | None,
    birth_date: date | None,
    birth_year: int | None,
    province: str | None,
    sex: str | None,
) -> Person:
    given = [full_name, *(other_names or [])]
    # "X bin Y": Y is the father's name, written by one referrer and left out by another
    given += [_BIN.split(n)[0] for n in given if _BIN.search(n)]
    names = tuple(dict.fromkeys(" ".join(tokens(n)) for n in given if tokens(n)))
    year = birth_date.year if birth_date else birth_year
    return Person(names, birth_date, year, province, sex)


def name_score(a: Person, b: Person) -> float:
    """0-100: the best pair among both people's names. Token sort ignores word order; token set
    finds a mononym within a longer name, discounted (a shared single name is weaker evidence)."""
    best = 0.0
    for x in a.names:
        for y in b.names:
            score = max(fuzz.token_sort_ratio(x, y), MONONYM_WEIGHT * fuzz.token_set_ratio(x, y))
            best = max(best, score)
    return best


def score(a: Person, b: Person) -> int:
    """0-100: name 60 %, birth 25 %, province 15 %; a different known sex costs 25 points.
    Weights and the threshold were chosen on generated data (bench/duplicates.py)."""
    total = 0.60 * name_score(a, b) + 0.25 * _birth(a, b) + 0.15 * _place(a, b)
    if a.sex in ("female", "male") and b.sex in ("female", "male") and a.sex != b.sex:
        total -= 25
    return max(0, round(total))


def _birth(a: Person, b: Person) -> float:
    if a.birth_date and b.birth_date and a.birth_date == b.birth_date:
        return 100
    if a.birth_year is None or b.birth_year is None:
        return 50
    return _YEARS_APART.get(abs(a.birth_year - b.birth_year), 0.0)


def _place(a: Person, b: Person) -> float:
    if a.province is None or b.province is None:
        return 50
    return 100 if a.province == b.province else 0
