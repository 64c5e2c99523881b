"""Victim records in the HTCDS as the CTDC publishes it: one flat row per victim, the CTDC
Global Dataset's column names and codes (docs/htcds-mapping.md: our field → their field, the
values, what has no equivalent, and which names are verified or inferred).

A record is built in two steps so that disclosure control works on plain values: `working`
holds the quasi-identifiers as single columns (`age` is a CTDC age band, then `Minor`/`Adult`,
then empty), and `to_htcds` spreads them into the CTDC columns. Every derived column (the
`is...` flags, `typeOfLabour...`, `majorityStatus`) is computed from the generalised working
value, so a column never shows what its quasi-identifier had to hide.
"""

from __future__ import annotations

from schemas.common import WIB
from service.reports.dimensions import CaseView
from service.reports.disclosure import Record, Rung

# CTDC ageBroad bands (their codes use a double hyphen).
AGE_BANDS = ((0, 8), (9, 17), (18, 20), (21, 23), (24, 26), (27, 29), (30, 38), (39, 47))
CHILD_BANDS = frozenset({"0--8", "9--17"})
GENDER = {"female": "Female", "male": "Male", "other": "Transgender/NonConforming",
          "unknown": "Unknown"}  # fmt: skip
# Our exploitation type → (CTDC type of exploitation flag, CTDC type of labour flag or None)
EXPLOITATION = {
    "sexual": ("isSexualExploit", None),
    "forced_labour": ("isForcedLabour", None),
    "forced_criminality": ("isForcedLabour", "typeOfLabourIllicitActivities"),
    "domestic_servitude": ("isForcedLabour", "typeOfLabourDomesticWork"),
    "forced_begging": ("isForcedLabour", "typeOfLabourBegging"),
    "forced_marriage": ("isForcedMarriage", None),
    "organ_removal": ("isOrganRemoval", None),
    "other": ("isOtherExploit", None),
}
EXPLOIT_LABELS = {"isSexualExploit": "Sexual exploitation", "isForcedLabour": "Forced labour",
                  "isForcedMarriage": "Forced marriage", "isOrganRemoval": "Organ removal",
                  "isOtherExploit": "Other"}  # fmt: skip
MEANS_OF_CONTROL = {
    "debt_bondage": "meansOfControlDebtBondage",
    "withheld_documents": "meansOfControlWithholdsDocuments",
    "threats": "meansOfControlThreats",
    "physical_violence": "meansOfControlPhysicalAbuse",
    "sexual_violence": "meansOfControlSexualAbuse",
    "restricted_movement": "meansOfControlRestrictsMovement",
    "withheld_wages": "meansOfControlTakesEarnings",
    "psychological_abuse": "meansOfControlPsychologicalAbuse",
    "substance_abuse": "meansOfControlPsychoactiveSubstances",
    "isolation": "meansOfControlOther",  # no CTDC equivalent
    "other": "meansOfControlOther",
}
# The working columns k-anonymity covers, and their HTCDS names.
QUASI = ("gender", "age", "citizenship", "province", "country", "exploitation", "year")
QUASI_HTCDS = [
    "gender", "ageBroad", "majorityStatus", "citizenship", "nrm_provinceOfOrigin",
    "CountryOfExploitation", "typeOfExploitConcatenated", "yearOfRegistration",
]  # fmt: skip
COLUMNS = [
    "yearOfRegistration", "Datasource", "gender", "ageBroad", "majorityStatus", "citizenship",
    "nrm_provinceOfOrigin", "CountryOfExploitation",
    *sorted(set(MEANS_OF_CONTROL.values())), "meansOfControlNotSpecified",
    "isForcedLabour", "isSexualExploit", "isOtherExploit", "isSexAndLabour", "isForcedMarriage",
    "isOrganRemoval", "typeOfExploitConcatenated", "typeOfLabourBegging",
    "typeOfLabourDomesticWork", "typeOfLabourIllicitActivities", "isAbduction",
    "nrm_recruitmentMethod",
]  # fmt: skip


def _age(value: str) -> str:
    if value in ("Minor", "Adult", ""):
        return ""
    return "Minor" if value in CHILD_BANDS else "Adult"


def _blank(_value: str) -> str:
    return ""


# The rarest detail goes first; sex and year last (docs/htcds-mapping.md says why).
LADDERS = (
    Rung("province", _blank), Rung("country", _blank), Rung("exploitation", _blank),
    Rung("citizenship", _blank), Rung("age", _age), Rung("age", _age), Rung("gender", _blank),
    Rung("year", _blank),
)  # fmt: skip


def age_broad(age: int | None, is_child: bool) -> str:
    if age is None:
        return "Minor" if is_child else ""
    for low, high in AGE_BANDS:
        if low <= age <= high:
            return f"{low}--{high}"
    return f"{AGE_BANDS[-1][1] + 1}+"


def working(view: CaseView) -> Record:
    """The victim's record before disclosure control: codes only, no date finer than a year."""
    fact = view.fact
    types = fact.trafficking.get("exploitation_types") or []
    means = fact.trafficking.get("means_of_control") or []
    return {
        "gender": GENDER.get(fact.sex, "Unknown"),
        "age": age_broad(fact.age, fact.is_child),
        "citizenship": fact.nationality,
        "province": fact.province or "",
        "country": fact.country or "",
        "exploitation": ";".join(sorted({str(t) for t in types if t in EXPLOITATION})),
        "year": str(fact.registered_at.astimezone(WIB).year),
        "means": ";".join(sorted({str(m) for m in means if m in MEANS_OF_CONTROL})),
        "recruitment": str(fact.trafficking.get("recruitment_method") or ""),
    }


def to_htcds(record: Record) -> dict[str, str | int | None]:
    row: dict[str, str | int | None] = dict.fromkeys(COLUMNS)
    age = record["age"]
    row.update({
        "yearOfRegistration": int(record["year"]) if record["year"] else None,
        "Datasource": "Case Management",
        "gender": record["gender"] or None,
        "ageBroad": age if age not in ("Minor", "Adult", "") else None,
        "majorityStatus": age if age in ("Minor", "Adult") else (_age(age) or None),
        "citizenship": record["citizenship"] or None,
        "nrm_provinceOfOrigin": record["province"] or None,
        "CountryOfExploitation": record["country"] or None,
        "nrm_recruitmentMethod": record["recruitment"] or None,
        "isAbduction": 1 if record["recruitment"] == "abduction" else None,
    })  # fmt: skip
    means = [m for m in record["means"].split(";") if m]
    for code in means:
        row[MEANS_OF_CONTROL[code]] = 1
    row["meansOfControlNotSpecified"] = None if means else 1
    flags = set()
    for code in filter(None, record["exploitation"].split(";")):
        flag, labour = EXPLOITATION[code]
        flags.add(flag)
        row[flag] = 1
        if labour:
            row[labour] = 1
    if {"isSexualExploit", "isForcedLabour"} <= flags:
        row["isSexAndLabour"] = 1
    row["typeOfExploitConcatenated"] = ";".join(sorted(EXPLOIT_LABELS[f] for f in flags)) or None
    return row
