"""The demo's arrival: six returnees from Myawaddy received at Soekarno-Hatta, imported from
a manifest (the repository's filled example and three more rows), screened abroad by one group
transition and identified by one group approval of the KEMLU supervisor."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from typing import Any

from schemas.arrival import ArrivalCreate, GroupTransitionRequest
from service.arrivals import intake
from service.arrivals import service as arrivals
from service.arrivals.template import TARGET
from service.groups import service as groups
from service.kit.principal import Principal

MORE = (
    "Fransiskus Nahak,,laki-laki,,19,,ID,Nusa Tenggara Timur,Belu,,,,,,,,embassy,KBRI Yangon,,MM,"
    "KK Park,forced_criminality,job_offer,,restricted_movement,online scam\r\n"
    "Lalu Hakim,,laki-laki,2001-07-09,,,ID,Nusa Tenggara Barat,Lombok Tengah,,,,,,,,embassy,"
    "KBRI Yangon,,MM,Myawaddy,forced_criminality,family_or_friend,,withheld_documents,\r\n"
    "Intan Sari,,perempuan,,,ya,ID,Jawa Barat,Indramayu,,,,,,,,embassy,KBRI Yangon,,MM,"
    "Shwe Kokko,forced_criminality,online_advertisement,,threats,online scam\r\n"
)  # fmt: skip


def arrival_from_myawaddy(demo: Any, start: datetime) -> None:
    """`demo` is service.demo.service.Demo (users by name, a clock that only moves forward)."""

    def runner(who: str, when: datetime) -> Any:
        def run(use_case: Any) -> Any:
            with demo.context.database.transaction() as session:
                principal: Principal = demo.user(who)
                return use_case(session, demo.at(when), principal)

        return run

    data = ArrivalCreate(
        arrival_date=date.fromisoformat(start.date().isoformat()),
        place="Bandara Soekarno-Hatta", source_country="MM",
        operation_name="Pemulangan WNI dari Myawaddy (demo)",
    )  # fmt: skip
    made = runner("kemlu.worker", start)(lambda s, c, p: arrivals.create_arrival(s, c, p, data))
    content = (TARGET / "manifest-example.csv").read_bytes() + MORE.encode()
    intake.import_manifest(
        runner("kemlu.worker", start + timedelta(minutes=30)), made.id, io.BytesIO(content),
        len(content), max_bytes=len(content), endpoint="nrm demo",
    )  # fmt: skip
    screening = GroupTransitionRequest(
        arrival_id=made.id, trigger="begin_screening_abroad", payload={"mission": "KBRI Yangon"}
    )
    groups.fire_group(runner("kemlu.worker", start + timedelta(hours=2)), screening, "nrm demo")
    identify = GroupTransitionRequest(
        arrival_id=made.id, trigger="identify",
        payload={"indicators": ["deceptive_recruitment", "restricted_movement"]},
    )  # fmt: skip
    asked = groups.fire_group(runner("kemlu.worker", start + timedelta(hours=5)), identify, "")
    groups.decide_group(
        runner("kemlu.supervisor", start + timedelta(hours=6)), asked.id, True,
        "screening records of the whole arrival checked", "nrm demo",
    )  # fmt: skip
