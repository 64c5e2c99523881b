"""The legal track's own vocabulary: its actors, the stages of a criminal case, a victim's
witness status, and the deadlines the law gives. Pure data, for lawyers to read.

The published workflow versions 1 and 2 know POLRI and LPSK but not the prosecution service
or the courts. The legal feature (service/legal) needs the prosecution service as a ministry
its users belong to, so it is declared here and added to the ministries a user may be given
(workflows/registry.py); a later workflow version that declares it too changes nothing.
Courts are not users: a court decision is recorded (by the prosecution service, which executes
it) with the court named, never by the police or LPSK.
"""

from __future__ import annotations

from datetime import date, timedelta

from workflows.model import Label

# Ministries of the legal track that no published workflow version declared (design choice:
# the prosecution service records prosecution, the court's decision it executes, restitution).
LEGAL_ACTORS: dict[str, Label] = {
    "KEJAKSAAN": Label(
        id="Kejaksaan Republik Indonesia", en="Prosecution Service of the Republic of Indonesia"
    ),
}
POLICE = "POLRI"
PROSECUTION = "KEJAKSAAN"
LPSK = "LPSK"

# A criminal case (perkara) moves through these stages; `closed` and `terminated` (SP3: the
# investigation stopped, KUHAP Art. 109(2)) end it. Design choice: any later stage may be
# recorded from an earlier one (files come back from the prosecutor; a trial may be skipped
# in this record when the prosecution is stopped), but an ended case stays ended.
STAGES = ("investigation", "prosecution", "trial", "verdict", "closed", "terminated")
ENDED_STAGES = frozenset({"closed", "terminated"})

# A victim as witness. Design choice: `summoned` means the investigator or prosecutor needs
# their testimony now; `released` that they are no longer needed.
WITNESS_STATUSES = ("not_needed", "summoned", "testified", "released")
RESTITUTION_STATUSES = ("ordered", "partially_paid", "paid", "not_paid")
LPSK_DECISIONS = ("protection_granted", "protection_refused")

# UU 13/2006 Art. 29 huruf c (checked: "Keputusan LPSK diberikan secara tertulis paling lambat
# 7 (tujuh) hari sejak permohonan perlindungan diajukan"); kept, as far as we could find, by the
# amendment in UU 31/2014 (Art. 29(2)), whose amended text we could not check. Calendar days.
LPSK_DECISION_DAYS = 7
LPSK_DECISION_BASIS = "UU 13/2006 Art. 29 huruf c (as amended by UU 31/2014, Art. 29(2))"


def lpsk_decision_due(applied_on: date) -> date:
    """The last day on which LPSK's written decision on protection is on time."""
    return applied_on + timedelta(days=LPSK_DECISION_DAYS)


def is_witness_held(witness_status: str | None, agreed_to_testify: bool) -> bool:
    """A victim is held back for testimony only while summoned AND having agreed to testify
    (ACTIP Art. 14(7)-(8): legal proceedings never hold up services; a victim who did not agree
    to testify is never held)."""
    return agreed_to_testify and witness_status == "summoned"
