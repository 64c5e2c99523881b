"""10,000 generated referrals of Indonesians, some of them the same person referred twice.

Base people: a sex, one to three name parts drawn from lists of common Indonesian given names
and second/family names below (Javanese, Sundanese, Malay, Batak, NTT and Arabic-derived;
"Siti", "Sri", "Dewi" as first parts of women's names, Muhammad as the first part of 15 % of
men's), a mononym for 20 %; a birth date between 1965 and 2010; a province of origin weighted
towards the provinces most migrant workers leave from (NTT, NTB, the three Javas, Lampung,
North Sumatra, West Kalimantan); a NIK for 60 %, a passport for 20 %, no document for 20 %.

A second referral (DUPLICATE_RATE of the records) copies an earlier person and changes, each
independently at the rate given in VARIANTS: names in the old spelling (u->oe, j->dj, c->tj,
y->j, kh->ch) or doubled letters; one typing error (a letter dropped, doubled, swapped or
replaced); the parts reordered; Muhammad written M., Moh., Mochammad or Muhamad; only one part
kept (a mononym) or "bin"/"binti" and a father's name added; the birth date replaced by an age
estimate or moved a year; the province missing or another; the document dropped, or a NIK
mistyped. Namesakes arise by themselves: the lists are short, as real name pools are.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, replace
from datetime import date, timedelta

from schemas.common import PROVINCES

WOMEN = (
    "Siti", "Sri", "Dewi", "Ani", "Yuni", "Rina", "Wati", "Nur", "Eka", "Fitri", "Ayu", "Lestari",
    "Rahayu", "Wulan", "Indah", "Putri", "Maria", "Yohana", "Agustina", "Novita", "Susanti",
    "Suryani", "Kartini", "Aminah", "Fatimah", "Khadijah", "Aisyah", "Nurhayati", "Yulianti",
    "Sulastri", "Sutarmi", "Juwita", "Cahyani", "Yanti", "Hartini", "Rukmini", "Endang",
)  # fmt: skip
MEN = (
    "Budi", "Agus", "Joko", "Bambang", "Slamet", "Eko", "Dedi", "Hendra", "Yusuf", "Rizki",
    "Ahmad", "Abdul", "Rahmat", "Hidayat", "Wahyu", "Yohanes", "Petrus", "Markus", "Fransiskus",
    "Suparman", "Sutrisno", "Sugiarto", "Cahyo", "Yanto", "Kurniawan", "Purnomo", "Santoso",
    "Setiawan", "Nugroho", "Saputra", "Firmansyah", "Hasan", "Husein", "Khairul", "Syarif",
)  # fmt: skip
FAMILY = (
    "Simanjuntak", "Siregar", "Nainggolan", "Hutapea", "Sitompul", "Lubis", "Nasution", "Tanjung",
    "Manafe", "Benu", "Nenobais", "Tefa", "Ndun", "Lake", "Pah", "Laiskodat", "Kolo", "Seran",
    "Wijaya", "Kusuma", "Pratama", "Hakim", "Syahputra", "Harahap", "Daulay", "Lumban Gaol",
)  # fmt: skip
SENDING = (
    "Nusa Tenggara Timur", "Nusa Tenggara Barat", "Jawa Timur", "Jawa Tengah", "Jawa Barat",
    "Lampung", "Sumatera Utara", "Kalimantan Barat",
)  # fmt: skip
MUHAMMAD_FORMS = ("M.", "Moh.", "Mochammad", "Muhamad", "Mohammad", "Muh.")
OLD_SPELLING = (("u", "oe"), ("j", "dj"), ("c", "tj"), ("y", "j"), ("kh", "ch"), ("sy", "sj"))

DUPLICATE_RATE = 0.15
VARIANTS = {
    "old_spelling": 0.35, "typo": 0.20, "reorder": 0.15, "muhammad_form": 0.80, "mononym": 0.08,
    "bin": 0.10, "age_estimate": 0.20, "year_moved": 0.08, "province_missing": 0.05,
    "province_other": 0.03, "document_dropped": 0.40, "nik_mistyped": 0.05,
}  # fmt: skip


@dataclass(frozen=True)
class Record:
    person: int  # the same number: the same person
    full_name: str
    sex: str
    birth_date: date | None
    age_estimate: int | None
    province: str | None
    document: tuple[str, str] | None  # (kind, number)

    def intake(self) -> dict[str, object]:
        victim: dict[str, object] = {"full_name": self.full_name, "sex": self.sex,
                                     "nationality": "ID"}  # fmt: skip
        if self.birth_date:
            victim["birth_date"] = self.birth_date.isoformat()
        if self.age_estimate is not None:
            victim["age_estimate"] = self.age_estimate
        if self.province:
            victim["province_of_origin"] = self.province
        if self.document:
            victim["identity_document"] = {"kind": self.document[0], "number": self.document[1]}
        return {"victim": victim, "referral": {"channel": "embassy", "country_of_exploitation":
                "MM", "exploitation_types": ["forced_criminality"]}}  # fmt: skip


def generate(count: int, seed: int = 13, today: date = date(2026, 11, 30)) -> list[Record]:
    rng = random.Random(seed)
    records: list[Record] = []
    for _ in range(count):
        if records and rng.random() < DUPLICATE_RATE:
            records.append(_variant(rng, rng.choice(records), today))
        else:
            records.append(_base(rng, len(records)))
    return records


def _base(rng: random.Random, number: int) -> Record:
    sex = rng.choice(("female", "male"))
    pool = WOMEN if sex == "female" else MEN
    parts = rng.choices((1, 2, 3), weights=(20, 55, 25))[0]
    names = [rng.choice(pool) for _ in range(parts)]
    if parts > 1 and rng.random() < 0.4:
        names[-1] = rng.choice(FAMILY)
    if sex == "male" and parts > 1 and rng.random() < 0.15:
        names[0] = "Muhammad"
    born = date(1965, 1, 1) + timedelta(days=rng.randrange(45 * 365))
    province = rng.choice(SENDING) if rng.random() < 0.7 else rng.choice(PROVINCES)
    kind = rng.choices(("nik", "passport", None), weights=(60, 20, 20))[0]
    document = None
    if kind == "nik":
        document = ("nik", "".join(rng.choice(string.digits) for _ in range(16)))
    elif kind == "passport":
        document = (
            "passport",
            rng.choice("ABCX") + "".join(rng.choice(string.digits) for _ in range(7)),
        )
    return Record(number, " ".join(_dedupe(names)), sex, born, None, province, document)


def _variant(rng: random.Random, original: Record, today: date) -> Record:
    on = {name: rng.random() < rate for name, rate in VARIANTS.items()}
    parts = original.full_name.split()
    if parts[0] == "Muhammad" and on["muhammad_form"]:
        parts[0] = rng.choice(MUHAMMAD_FORMS)
    if on["old_spelling"]:
        parts = [_old_spelling(rng, part) for part in parts]
    if on["typo"]:
        i = rng.randrange(len(parts))
        parts[i] = _typo(rng, parts[i])
    if on["reorder"] and len(parts) > 1:
        rng.shuffle(parts)
    if on["mononym"] and len(parts) > 1:
        parts = [max(parts, key=len)]
    if on["bin"]:
        parts += ["binti" if original.sex == "female" else "bin", rng.choice(MEN)]
    born, estimate = original.birth_date, original.age_estimate
    if born and on["age_estimate"]:
        born, estimate = None, (today - born).days // 365 + rng.choice((-1, 0, 0, 1))
    elif born and on["year_moved"]:
        born = born.replace(year=born.year + rng.choice((-1, 1)), day=min(born.day, 28))
    province = original.province
    if on["province_missing"]:
        province = None
    elif on["province_other"]:
        province = rng.choice(PROVINCES)
    document = original.document
    if document and on["document_dropped"]:
        document = None
    elif document and document[0] == "nik" and on["nik_mistyped"]:
        i = rng.randrange(16)
        document = ("nik", document[1][:i] + rng.choice(string.digits) + document[1][i + 1 :])
    return replace(original, full_name=" ".join(parts), birth_date=born, age_estimate=estimate,
                   province=province, document=document)  # fmt: skip


def _old_spelling(rng: random.Random, part: str) -> str:
    lower = part.lower()
    for new, old in rng.sample(OLD_SPELLING, len(OLD_SPELLING)):
        if new in lower and rng.random() < 0.7:
            lower = lower.replace(new, old, 1)
    if rng.random() < 0.2 and len(lower) > 3:
        i = rng.randrange(1, len(lower))
        lower = lower[:i] + lower[i] + lower[i:]  # a doubled letter
    return lower.capitalize()


def _typo(rng: random.Random, part: str) -> str:
    if len(part) < 4:
        return part
    i = rng.randrange(1, len(part) - 1)
    kind = rng.choice(("drop", "double", "swap", "replace"))
    if kind == "drop":
        return part[:i] + part[i + 1 :]
    if kind == "double":
        return part[:i] + part[i] + part[i:]
    if kind == "swap":
        return part[: i - 1] + part[i] + part[i - 1] + part[i + 1 :]
    return part[:i] + rng.choice(string.ascii_lowercase) + part[i + 1 :]


def _dedupe(names: list[str]) -> list[str]:
    seen: list[str] = []
    for name in names:
        if name not in seen:
            seen.append(name)
    return seen
