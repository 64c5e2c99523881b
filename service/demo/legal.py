"""The demo's criminal case: one investigation behind several victims of a scam compound."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

from schemas.legal import (
    CriminalCaseCreate,
    LegalRecordRequest,
    StageChange,
    SuspectCreate,
    VictimLink,
)
from service.kit.context import AppContext
from service.kit.principal import Principal
from service.legal import service as legal
from service.legal import track


class Demo(Protocol):
    """What this needs of the demo loader (service/demo/service.py), without importing it."""

    @property
    def context(self) -> AppContext: ...

    def user(self, name: str) -> Principal: ...

    def at(self, when: datetime) -> AppContext: ...

    def intake(self, who: str, when: datetime, body: dict[str, Any]) -> dict[str, Any]: ...


SUSPECTS = (  # name, sex, nationality, role
    ("Rudi Hartono", "male", "ID", "recruiter"),
    ("Yanti Marlina", "female", "ID", "broker"),
    ("Zhang Wei", "male", "CN", "employer"),
)
VICTIMS = ("Maria Goreti Lado", "Yohanes Bria", "Fransiska Seran")


def scam_compound_criminal_case(demo: Demo, start: datetime, body: Any) -> None:
    """Three returnees referred by the police, one criminal case in Kupang with three
    suspects, handed to the prosecution service; one victim is summoned and agreed to testify
    (her repatriation waits, where a workflow version attaches the hold)."""
    police = demo.user("polri.worker")
    victims = [
        demo.intake("polri.worker", start + timedelta(minutes=5 * i),
                    body(name, channel="police", province="Nusa Tenggara Timur"))
        for i, name in enumerate(VICTIMS)
    ]  # fmt: skip
    reported = (start - timedelta(days=30)).date()
    with demo.context.database.transaction() as session:
        context = demo.at(start + timedelta(hours=2))
        data = CriminalCaseCreate(
            police_report_number=f"LP/B/{reported.month:02d}/{reported.year}/SPKT/POLDA NTT",
            reported_on=reported, region_code="53.71",
            spdp_on=reported + timedelta(days=3),
        )  # fmt: skip
        record = legal.create_criminal_case(session, context, police, data)
        for name, sex, nationality, role in SUSPECTS:
            legal.add_suspect(session, context, police, record.id, SuspectCreate.model_validate(
                {"identity": {"full_name": name}, "sex": sex, "nationality": nationality,
                 "role": role}))  # fmt: skip
        for case in victims:
            legal.link_victim(session, context, police, record.id, VictimLink(case_id=case["id"]))
        witness = LegalRecordRequest.model_validate(
            {"record": {"kind": "witness", "witness_status": "summoned",
                        "agreed_to_testify": True}}
        )  # fmt: skip
        track.record_legal(session, context, police, victims[0]["id"], witness)
        handed_on = min(start.date(), reported + timedelta(days=20))
        handed = StageChange(stage="prosecution", on=handed_on, expected_version=record.version)
        legal.change_stage(session, context, police, record.id, handed)
