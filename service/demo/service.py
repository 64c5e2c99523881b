"""Demonstration data: a user per ministry and role, and cases at every stage of the pathway.

Cases are made through the same use cases as the API, on a simulated clock, so their history,
deadlines and hash chains are real. The names are invented.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from schemas.case import CaseCreate, TransitionRequest
from schemas.queue import AssignRequest
from schemas.service_request import (
    ServiceAction,
    ServiceRequestChange,
    ServiceRequestCreate,
)
from schemas.unit import UnitCreate, UnitLevel
from service.approvals import service as approvals
from service.assignments import service as assignments
from service.auth.security import hash_password, verify_password
from service.cases import firing as transitions
from service.cases import service as cases
from service.cases import transfers
from service.cases.idempotency import Answer
from service.demo.arrival import arrival_from_myawaddy
from service.demo.legal import scam_compound_criminal_case
from service.kit.context import AppContext
from service.kit.principal import Principal
from service.models import UserAccount, utcnow
from service.service_requests import service as service_requests
from service.sla.sweep import sweep
from service.units import service as units
from service.users.service import seed_account
from workflows.registry import Registry

DEMO_PASSWORD = "nrm-demo-2026"
ENDPOINT = "nrm demo"
DAY = timedelta(days=1)
V2 = 2  # the last version whose pathway the older stories walk
_GIVEN = [
    "Siti",
    "Rina",
    "Ayu",
    "Dewi",
    "Nur",
    "Putri",
    "Wahyu",
    "Budi",
    "Agus",
    "Yohanes",
    "Maria",
    "Fransiska",
    "Andi",
    "Rizky",
    "Eka",
    "Lestari",
    "Made",
    "Ketut",
    "Yuliana",
    "Dian",
]
_FAMILY = [
    "Rahayu",
    "Wulandari",
    "Santoso",
    "Hidayat",
    "Saragih",
    "Tefa",
    "Bria",
    "Nahak",
    "Pardede",
    "Sinaga",
    "Lumban",
    "Manek",
    "Seran",
    "Kusuma",
    "Pratama",
    "Setiawan",
]
_PROVINCES = [
    "Nusa Tenggara Timur",
    "Nusa Tenggara Barat",
    "Jawa Barat",
    "Jawa Timur",
    "Sumatera Utara",
    "Kalimantan Barat",
    "Sulawesi Selatan",
    "Jawa Tengah",
]


def consent(by: str = "victim", recipients: list[str] | None = None) -> dict[str, Any]:
    return {
        "consent": {
            "by": by,
            "purposes": ["services", "data_sharing", "repatriation", "reintegration"],
            "recipients": recipients
            or ["KEMENPPPA", "KEMENSOS", "KEMENKES", "KEMLU", "POLRI", "LPSK", "PEMDA", "KEMNAKER"],
            "given_on": utcnow().date().isoformat(),
        }
    }


class Demo:
    """Loads the demo on a simulated clock that only moves forward."""

    def __init__(self, context: AppContext) -> None:
        self.context = context
        self.users: dict[str, Principal] = {}
        self.rng = random.Random(2025)
        # The stories written for version 2's pathway stay on it, as running cases do; the
        # stories of version 3 (services beside the pathway) take the latest.
        self.until_v2 = Registry(
            engines={key: e for key, e in context.registry.engines.items() if key[1] <= V2}
        )

    def user(self, name: str) -> Principal:
        return self.users[name]

    def at(self, when: datetime) -> AppContext:
        return replace(self.context, clock=lambda: when)

    def intake(
        self, who: str, when: datetime, body: dict[str, Any], latest: bool = False
    ) -> dict[str, Any]:
        at = self.at(when) if latest else replace(self.at(when), registry=self.until_v2)
        with self.context.database.transaction() as session:
            answer = cases.register_case(
                session,
                at,
                self.user(who),
                CaseCreate.model_validate(body),
                endpoint=ENDPOINT,
            )
        return answer.body

    def fire(
        self,
        case: dict[str, Any],
        who: str,
        when: datetime,
        trigger: str,
        payload: dict[str, Any] | None = None,
        override: str | None = None,
        to_unit: str | None = None,
    ) -> dict[str, Any]:
        """Fire as `who`; a sensitive step is approved an hour later by their supervisor. A
        hand-over to a ministry's national unit is accepted by its case worker an hour after
        that (the regional stories accept, decline and re-route by hand)."""
        answer = self.request(case, who, when, trigger, payload, override, to_unit)
        moved = answer.body
        if answer.status_code == 202:
            supervisor = who.replace(".worker", ".supervisor")
            when += timedelta(hours=1)
            with self.context.database.transaction() as session:
                read = approvals.approve(
                    session,
                    self.at(when),
                    self.user(supervisor),
                    answer.body["approval"]["id"],
                    "checked against the case file",
                    ENDPOINT,
                )
            moved = read.model_dump(mode="json")
        receiver = moved.get("transfer_to") or ""
        if receiver.endswith("-NASIONAL"):
            worker = receiver.removesuffix("-NASIONAL").lower() + ".worker"
            return self.accept(moved, worker, when + timedelta(hours=1))
        return moved

    def request(
        self,
        case: dict[str, Any],
        who: str,
        when: datetime,
        trigger: str,
        payload: dict[str, Any] | None = None,
        override: str | None = None,
        to_unit: str | None = None,
    ) -> Answer:
        request = TransitionRequest(
            trigger=trigger,
            expected_version=case["version"],
            payload=payload or {},
            consent_override_reason=override,
            to_unit=to_unit,
        )
        with self.context.database.transaction() as session:
            return transitions.fire_transition(
                session, self.at(when), self.user(who), case["id"], request, endpoint=ENDPOINT
            )

    def accept(self, case: dict[str, Any], who: str, when: datetime) -> dict[str, Any]:
        with self.context.database.transaction() as session:
            read = transfers.accept_transfer(
                session, self.at(when), self.user(who), case["id"], ENDPOINT
            )
        return read.model_dump(mode="json")

    def decline(self, case: dict[str, Any], who: str, when: datetime, reason: str) -> None:
        with self.context.database.transaction() as session:
            transfers.decline_transfer(
                session, self.at(when), self.user(who), case["id"], reason, ENDPOINT
            )

    def reroute(self, case: dict[str, Any], who: str, when: datetime, unit: str) -> None:
        with self.context.database.transaction() as session:
            transfers.reroute_transfer(
                session, self.at(when), self.user(who), case["id"], unit, ENDPOINT
            )

    def reject(self, approval_id: str, who: str, when: datetime, reason: str) -> None:
        with self.context.database.transaction() as session:
            approvals.reject(session, self.at(when), self.user(who), approval_id, reason)

    def assign(self, case: dict[str, Any], supervisor: str, worker: str, when: datetime) -> None:
        with self.context.database.transaction() as session:
            assignments.assign(
                session, self.at(when), self.user(supervisor), case["id"],
                AssignRequest(assignee=worker),
            )  # fmt: skip

    def claim(self, case: dict[str, Any], worker: str, when: datetime) -> None:
        with self.context.database.transaction() as session:
            assignments.claim(session, self.at(when), self.user(worker), case["id"])

    def ask(
        self, case: dict[str, Any], who: str, when: datetime, kind: str, **body: Any
    ) -> dict[str, Any]:
        with self.context.database.transaction() as session:
            read = service_requests.request_service(
                session, self.at(when), self.user(who), case["id"],
                ServiceRequestCreate(kind=kind, **body),
            )  # fmt: skip
        return read.model_dump(mode="json")

    def act(self, request: dict[str, Any], who: str, when: datetime, action: ServiceAction) -> None:
        with self.context.database.transaction() as session:
            service_requests.change_service(
                session, self.at(when), self.user(who), request["case_id"], request["id"],
                action, ServiceRequestChange(expected_version=request["version"]),
            )  # fmt: skip

    def walk(
        self,
        case: dict[str, Any],
        start: datetime,
        steps: list[tuple[str, str, dict[str, Any]]],
        gap: timedelta = DAY,
    ) -> dict[str, Any]:
        when = start
        for who, trigger, payload in steps:
            when += gap
            case = self.fire(case, who, when, trigger, payload)
        return case


def load_demo(context: AppContext) -> str:
    with context.database.transaction() as session:
        if session.exec(select(UserAccount).where(col(UserAccount.username) == "admin")).first():
            return "demo data is already loaded\n" + _how_to_log_in()
    demo = Demo(context)
    _make_users(demo)
    _make_units(demo)
    now = context.clock()
    _siti_comes_home(demo, now - 60 * DAY)
    _child_in_batam(demo, now - 20 * DAY)
    _fisherman_goes_home(demo, now - 40 * DAY)
    _not_identified(demo, now - 10 * DAY)
    _contact_lost(demo, now - 25 * DAY)
    _consent_withdrawn(demo, now - 15 * DAY)
    _shelter_deadline_near(demo, now - 6 * DAY)
    _emergency_care_overdue(demo, now - 8 * DAY)
    _mass_intake_from_myanmar(demo, now - 9 * DAY)
    scam_compound_criminal_case(demo, now - 9 * DAY, _body)
    _kepri_to_ntt(demo, now - 30 * DAY)
    _up_the_ladder_in_kupang(demo, now - 16 * DAY)
    _waiting_in_batam(demo, now - timedelta(hours=3))
    _services_at_once_in_batam(demo, now - 4 * DAY)
    arrival_from_myawaddy(demo, now - 5 * DAY)
    report = sweep(context)  # on the real clock: the warnings and escalations of the above
    return f"demo data loaded (SLA sweep: {report})\n" + _how_to_log_in()


def _make_users(demo: Demo) -> None:
    password = hash_password(DEMO_PASSWORD)
    accounts: list[tuple[str, str, str | None]] = [
        ("admin", "admin", None),
        ("auditor", "auditor", None),
    ]
    for code in sorted(demo.context.registry.ministries()):
        accounts.append((f"{code.lower()}.worker", "case_worker", code))
        accounts.append((f"{code.lower()}.supervisor", "supervisor", code))
    with demo.context.database.transaction() as session:
        for username, role, ministry in accounts:
            demo.users[username] = seed_account(session, username, password, role, ministry)


UNITS = (  # code, name, ministry, level, region or country; and the demo users of each
    ("PEMDA-21", "UPTD PPA Provinsi Kepulauan Riau", "PEMDA", "province", "21", "pemda.kepri"),
    ("PEMDA-21.71", "UPTD PPA Kota Batam", "PEMDA", "district", "21.71", "pemda.batam"),
    ("KEMENSOS-21", "RPTC Kepulauan Riau", "KEMENSOS", "province", "21", "kemensos.kepri"),
    ("PEMDA-53", "UPTD PPA Provinsi Nusa Tenggara Timur", "PEMDA", "province", "53", "pemda.ntt"),
    ("PEMDA-53.71", "UPTD PPA Kota Kupang", "PEMDA", "district", "53.71", "pemda.kotakupang"),
    ("PEMDA-53.01", "UPTD PPA Kabupaten Kupang", "PEMDA", "district", "53.01", "pemda.kabkupang"),
    ("KEMLU-MY", "KBRI Kuala Lumpur", "KEMLU", "mission", "MY", "kemlu.kl"),
    ("GUGUS_TUGAS-21", "Gugus Tugas PPTPPO Provinsi Kepulauan Riau", "GUGUS_TUGAS", "province",
     "21", "gugus.kepri"),
    ("GUGUS_TUGAS-53", "Gugus Tugas PPTPPO Provinsi Nusa Tenggara Timur", "GUGUS_TUGAS",
     "province", "53", "gugus.ntt"),
    ("GUGUS_TUGAS-53.71", "Gugus Tugas PPTPPO Kota Kupang", "GUGUS_TUGAS", "district", "53.71",
     "gugus.kotakupang"),
)  # fmt: skip


def _make_units(demo: Demo) -> None:
    """Regional units along the way from Kepulauan Riau home to Nusa Tenggara Timur, and a
    mission abroad, each with a case worker and a supervisor."""
    password = hash_password(DEMO_PASSWORD)
    admin = demo.user("admin")
    with demo.context.database.transaction() as session:
        for code, name, ministry, level, place, users in UNITS:
            abroad = level == "mission"
            units.create_unit(
                session, demo.context, admin,
                UnitCreate(code=code, name=name, ministry=ministry, level=UnitLevel(level),
                           region_code=None if abroad else place,
                           country=place if abroad else None),
            )  # fmt: skip
            for role in ("worker", "supervisor"):
                username = f"{users}.{role}"
                kind = "case_worker" if role == "worker" else "supervisor"
                demo.users[username] = seed_account(session, username, password, kind, None, code)


def _kepri_to_ntt(demo: Demo, start: datetime) -> None:
    """Exploited in Batam, home to Kupang: the case crosses units of three ministries and two
    provinces, each hand-over accepted by the receiving unit (one declined and sent on), and a
    case worker of another district of NTT sees only the pseudonym."""
    case = demo.intake(
        "pemda.batam.worker",
        start,
        _body("Yuliana Mbaru", birth="2001-09-30", channel="police", country="ID",
              types=["sexual"], referring_organisation="Polresta Barelang"),
    )  # fmt: skip
    when = start + timedelta(hours=4)
    case = demo.fire(case, "kemenpppa.worker", when, "begin_screening", {}, to_unit="PEMDA-21.71")
    case = demo.accept(case, "pemda.batam.worker", when + timedelta(hours=2))
    indicators = {"indicators": ["deceptive_recruitment", "restricted_movement", "exploitation"]}
    case = demo.fire(case, "pemda.batam.worker", start + DAY, "identify", indicators)
    case = demo.fire(case, "pemda.batam.worker", start + 2 * DAY, "record_consent", consent())
    case = demo.fire(case, "kemenkes.worker", start + 3 * DAY, "admit_to_shelter",
                     {"shelter": "RPTC Tanjung Pinang"}, to_unit="KEMENSOS-21")  # fmt: skip
    case = demo.accept(case, "kemensos.kepri.worker", start + 3 * DAY + timedelta(hours=3))
    case = demo.walk(case, start + 3 * DAY, [
        ("kemensos.kepri.worker", "begin_social_rehabilitation", {"programme": "counselling"}),
        ("kemensos.kepri.worker", "depart", {"travel_date": (start + 11 * DAY).date().isoformat()}),
        ("kemensos.kepri.worker", "hand_to_province", {"province": "Nusa Tenggara Timur"}),
    ], gap=4 * DAY)  # fmt: skip
    later = start + 16 * DAY
    case = demo.accept(case, "pemda.ntt.worker", later)  # the provincial leg: NTT's unit
    case = demo.fire(case, "pemda.ntt.worker", later + DAY, "hand_to_district",
                     {"district": "Kabupaten Kupang"})  # fmt: skip
    demo.decline(case, "pemda.kabkupang.worker", later + DAY + timedelta(hours=5),
                 "her family lives in Kota Kupang, not in the regency")  # fmt: skip
    demo.reroute(case, "pemda.ntt.worker", later + 2 * DAY, "PEMDA-53.71")
    case = demo.accept(case, "pemda.kotakupang.worker", later + 2 * DAY + timedelta(hours=2))
    demo.fire(case, "pemda.kotakupang.worker", later + 4 * DAY, "reunite_with_family",
              {"placement": "family"})  # fmt: skip


def _up_the_ladder_in_kupang(demo: Demo, start: datetime) -> None:
    """A screening in Kota Kupang left undone: overdue, it went to the city's Task Force, then
    to the province's (the national one comes next), each seeing it without the name."""
    case = demo.intake(
        "pemda.kotakupang.worker",
        start,
        _body("Fransiska Seran", birth="1998-02-14", channel="hotline_sapa_129", country="MY",
              types=["domestic_servitude"]),
    )  # fmt: skip
    when = start + timedelta(hours=3)
    case = demo.fire(case, "kemenpppa.worker", when, "begin_screening", {}, to_unit="PEMDA-53.71")
    demo.accept(case, "pemda.kotakupang.worker", when + timedelta(hours=4))


def _waiting_in_batam(demo: Demo, start: datetime) -> None:
    """Brought back from Malaysia through Batam this morning: the hand-over to the city's unit
    waits in its incoming list."""
    case = demo.intake(
        "kemlu.kl.worker",
        start,
        _body("Dian Nahak", birth="2000-11-03", country="MY", types=["forced_labour"],
              referring_organisation="KBRI Kuala Lumpur"),
    )  # fmt: skip
    demo.fire(case, "kemenpppa.worker", start + timedelta(hours=1), "begin_screening", {},
              to_unit="PEMDA-21.71")  # fmt: skip


def _services_at_once_in_batam(demo: Demo, start: datetime) -> None:
    """Version 3: found injured in Batam, in emergency care before she could consent (her vital
    interest), then in a shelter, in treatment, in counselling and with an LPSK protection
    request at once, each service with its own start clock and owner; the stay has a care plan
    reviewed monthly, not a due date."""
    case = demo.intake(
        "pemda.batam.worker",
        start,
        _body("Maria Lede", birth="2002-03-08", channel="police", country="ID",
              types=["sexual"], referring_organisation="Polresta Barelang"),
        latest=True,
    )  # fmt: skip
    when = start + timedelta(hours=2)
    case = demo.fire(case, "kemenpppa.worker", when, "begin_screening", {}, to_unit="PEMDA-21.71")
    case = demo.accept(case, "pemda.batam.worker", when + timedelta(hours=1))
    indicators = {"indicators": ["deceptive_recruitment", "coercion_or_threats", "exploitation"]}
    case = demo.fire(case, "pemda.batam.worker", when + timedelta(hours=3), "identify", indicators)
    report = {
        "report_number": "LP/B/311/VII/2026/Polresta Barelang",
        "filed_on": start.date().isoformat(),
    }
    case = demo.fire(
        case, "polri.worker", when + timedelta(hours=6), "record_police_report", report
    )
    grounds = {"grounds": "injuries from the raid; she cannot be asked to consent tonight"}
    when = start + timedelta(hours=10)
    case = demo.fire(case, "pemda.batam.worker", when, "begin_emergency_care", grounds,
                     to_unit="KEMENSOS-21")  # fmt: skip
    case = demo.accept(case, "kemensos.kepri.worker", when + timedelta(hours=1))
    when += timedelta(hours=2)
    health = demo.ask(case, "kemensos.kepri.worker", when, "health", emergency=True,
                      lawful_basis="vital_interest", note="RSUD Embung Fatimah")  # fmt: skip
    shelter = demo.ask(case, "kemensos.kepri.worker", when + timedelta(minutes=30), "shelter",
                       lawful_basis="vital_interest", note="RPTC Tanjung Pinang")  # fmt: skip
    demo.act(health, "kemenkes.worker", when + timedelta(hours=3), "start")
    demo.act(shelter, "kemensos.kepri.worker", when + timedelta(hours=5), "start")
    when = start + 2 * DAY
    case = demo.fire(case, "kemensos.kepri.worker", when, "update_consent", consent())
    counselling = demo.ask(case, "kemensos.kepri.worker", when, "psychosocial")
    demo.act(counselling, "pemda.kepri.worker", start + 3 * DAY, "start")
    demo.ask(case, "kemensos.kepri.worker", when + timedelta(hours=1), "lpsk_protection",
             note="she may testify against the recruiter")  # fmt: skip


def _body(
    name: str,
    *,
    sex: str = "female",
    birth: str = "1999-05-01",
    nationality: str = "ID",
    province: str | None = "Nusa Tenggara Timur",
    channel: str = "embassy",
    country: str | None = "MM",
    types: list[str] | None = None,
    **referral: Any,
) -> dict[str, Any]:
    victim: dict[str, Any] = {
        "full_name": name,
        "sex": sex,
        "birth_date": birth,
        "nationality": nationality,
    }
    if province:
        victim["province_of_origin"] = province
    return {
        "victim": victim,
        "referral": {
            "channel": channel,
            "country_of_exploitation": country,
            "exploitation_types": types or ["forced_criminality"],
            **referral,
        },
    }


def _siti_comes_home(demo: Demo, start: datetime) -> None:
    """The contract's example, walked through all four phases to closure."""
    case = demo.intake(
        "kemlu.worker",
        start,
        _body(
            "Siti Rahayu",
            birth="2003-04-12",
            referring_organisation="KBRI Yangon",
            recruitment_method="online_advertisement",
        ),
    )
    demo.walk(
        case,
        start,
        [
            ("kemlu.worker", "begin_screening_abroad", {"mission": "KBRI Yangon"}),
            (
                "kemlu.worker",
                "identify",
                {
                    "indicators": ["deceptive_recruitment", "restricted_movement", "exploitation"],
                    "recognised_foreign_identification": {
                        "country": "TH",
                        "authority": "Thai NRM, Mae Sot",
                    },
                },
            ),
            ("kemlu.worker", "record_consent", consent()),
            (
                "polri.worker",
                "record_police_report",
                {
                    "report_number": "LP/B/45/III/2025/Bareskrim",
                    "filed_on": start.date().isoformat(),
                },
            ),
            (
                "kemlu.worker",
                "depart",
                {"travel_date": start.date().isoformat(), "travel_document": "splp"},
            ),
            (
                "kemlu.worker",
                "hand_over_at_arrival",
                {"arrival_point": "Bandara Soekarno-Hatta", "arrived_on": start.date().isoformat()},
            ),
            ("kemensos.worker", "admit_to_shelter", {"shelter": "RPTC Bambu Apus"}),
            ("kemensos.worker", "begin_social_rehabilitation", {"programme": "trauma counselling"}),
            ("kemensos.worker", "depart", {"travel_date": start.date().isoformat()}),
            ("kemensos.worker", "hand_to_province", {"province": "Nusa Tenggara Timur"}),
            ("pemda.worker", "hand_to_district", {"district": "Kabupaten Kupang"}),
            ("pemda.worker", "reunite_with_family", {"placement": "family"}),
            (
                "pemda.worker",
                "complete_reintegration",
                {"services": ["economic_empowerment", "identity_documents"]},
            ),
            (
                "pemda.worker",
                "close",
                {"reason": "reintegrated", "summary": "back with her family in Kupang"},
            ),
        ],
        gap=4 * DAY,
    )


def _child_in_batam(demo: Demo, start: datetime) -> None:
    """A child: consent from a parent, and a supervisor's recorded override to reach a shelter."""
    body = _body(
        "Dewi Lestari",
        birth="2011-09-30",
        province="Jawa Barat",
        channel="police",
        country="ID",
        types=["sexual"],
        places_of_exploitation=["Batam"],
    )
    case = demo.intake("polri.worker", start, body)
    report = {"report_number": "LP/B/301/XI/2026/Polda Kepri", "filed_on": start.date().isoformat()}
    parents_only = ["PEMDA", "KEMENKES", "POLRI", "LPSK"]  # they never agreed to KEMENSOS
    case = demo.walk(
        case,
        start,
        [
            ("kemenpppa.worker", "begin_screening", {"screening_unit": "UPTD PPA Kepulauan Riau"}),
            ("pemda.worker", "identify", {"indicators": ["child_in_exploitation"]}),
            ("pemda.worker", "record_consent", consent(by="parent", recipients=parents_only)),
            ("polri.worker", "record_police_report", report),
        ],
        gap=2 * DAY,
    )
    case = demo.fire(
        case,
        "kemenkes.supervisor",
        start + 9 * DAY,
        "admit_to_shelter",
        {"shelter": "RPTC Batam"},
        override="the hospital must discharge her and the recruiter knows where she is",
    )
    case = demo.fire(case, "kemensos.worker", start + 11 * DAY, "begin_social_rehabilitation", {})
    demo.assign(case, "kemensos.supervisor", "kemensos.worker", start + 13 * DAY)


def _fisherman_goes_home(demo: Demo, start: datetime) -> None:
    body = _body(
        "Aung Ko Ko",
        sex="male",
        birth="1994-02-11",
        nationality="MM",
        province=None,
        channel="ngo",
        country="ID",
        types=["forced_labour"],
        labour_industry="fishing",
        means_of_control=["withheld_documents", "debt_bondage"],
    )
    case = demo.intake("polri.worker", start, body)
    demo.walk(
        case,
        start,
        [
            ("kemenpppa.worker", "begin_screening", {"screening_unit": "UPTD PPA Maluku"}),
            ("pemda.worker", "identify", {"indicators": ["withheld_documents", "debt_bondage"]}),
            (
                "pemda.worker",
                "record_consent",
                consent(recipients=["KEMENKES", "KEMENSOS", "KEMLU", "IMIGRASI", "POLRI"]),
            ),
            ("kemenkes.worker", "admit_to_shelter", {"shelter": "RPTC Ambon"}),
            ("kemensos.worker", "begin_social_rehabilitation", {}),
            (
                "kemensos.worker",
                "prepare_foreign_return",
                {"embassy": "Embassy of Myanmar, Jakarta"},
            ),
        ],
        gap=5 * DAY,
    )


def _not_identified(demo: Demo, start: datetime) -> None:
    """A first decision sent back by the supervisor, a second one approved."""
    body = _body(
        "Wahyu Santoso",
        sex="male",
        birth="1990-01-20",
        province="Jawa Timur",
        channel="labour_office",
        country="MY",
        types=["forced_labour"],
    )
    case = demo.intake("kp2mi.worker", start, body)
    case = demo.fire(case, "kemenpppa.worker", start + DAY, "begin_screening", {})
    grounds = {"grounds": "a labour dispute over wages; no indicators of trafficking found"}
    first = demo.request(case, "pemda.worker", start + 2 * DAY, "decide_not_identified", grounds)
    demo.reject(
        first.body["approval"]["id"],
        "pemda.supervisor",
        start + 2 * DAY + timedelta(hours=2),
        "ask the employer for the contract and the passport first",
    )
    demo.fire(case, "pemda.worker", start + 4 * DAY, "decide_not_identified", grounds)


def _contact_lost(demo: Demo, start: datetime) -> None:
    case = demo.intake(
        "pemda.worker",
        start,
        _body(
            "Yuliana Bria",
            birth="2000-12-02",
            channel="hotline_sapa_129",
            country="MY",
            types=["domestic_servitude"],
        ),
    )
    demo.walk(
        case,
        start,
        [
            ("kemenpppa.worker", "begin_screening", {}),
            ("pemda.worker", "identify", {"indicators": ["withheld_documents", "exploitation"]}),
            ("pemda.worker", "record_consent", consent()),
            (
                "kemenkes.worker",
                "lose_contact",
                {
                    "last_seen_on": start.date().isoformat(),
                    "circumstances": "left the hospital at night",
                },
            ),
        ],
        gap=2 * DAY,
    )


def _consent_withdrawn(demo: Demo, start: datetime) -> None:
    """She wants to go home on her own: the withdrawal is an event; a case conference closes."""
    body = _body("Maria Seran", birth="1997-06-14", channel="ngo", country="SA",
                 types=["domestic_servitude"], means_of_control=["withheld_wages"])  # fmt: skip
    case = demo.intake("kp2mi.worker", start, body)
    demo.walk(
        case,
        start,
        [
            ("kemenpppa.worker", "begin_screening", {}),
            ("pemda.worker", "identify", {"indicators": ["withheld_documents", "exploitation"]}),
            ("pemda.worker", "record_consent", consent()),
            ("kemenkes.worker", "admit_to_shelter", {"shelter": "RPTC Bambu Apus"}),
            (
                "kemensos.worker",
                "withdraw_consent",
                {
                    "by": "victim",
                    "withdrawn_on": start.date().isoformat(),
                    "wishes": "to travel home to her family alone",
                },
            ),
        ],
        gap=2 * DAY,
    )


def _mass_intake_from_myanmar(demo: Demo, start: datetime) -> None:
    """A mass arrival like March 2025: many referrals in one day, some already late."""
    for index in range(24):
        name = f"{demo.rng.choice(_GIVEN)} {demo.rng.choice(_FAMILY)}"
        body = _body(
            name,
            sex=demo.rng.choice(["female", "male"]),
            birth=_random_birth_date(demo.rng),
            province=demo.rng.choice(_PROVINCES),
            referring_organisation="KBRI Yangon",
        )
        when = start + timedelta(minutes=7 * index)
        case = demo.intake("kemlu.worker", when, body)
        if index == 0:  # screened, identified, waiting for the KEMLU supervisor's approval
            mission = {"mission": "KBRI Yangon"}
            later = when + timedelta(hours=3)
            case = demo.fire(case, "kemlu.worker", later, "begin_screening_abroad", mission)
            indicators = {"indicators": ["deceptive_recruitment", "restricted_movement"]}
            demo.request(case, "kemlu.worker", when + DAY, "identify", indicators)
        elif index % 3 == 0:
            case = demo.fire(
                case,
                "kemlu.worker",
                when + timedelta(hours=3),
                "begin_screening_abroad",
                {"mission": "KBRI Yangon"},
            )
            if index % 2 == 0:
                demo.claim(case, "kemlu.worker", when + timedelta(hours=4))
        elif index % 4 == 1:
            demo.assign(case, "kemenpppa.supervisor", "kemenpppa.worker", when + DAY)


def _to_emergency_care(demo: Demo, name: str, start: datetime, gap: timedelta) -> dict[str, Any]:
    body = _body(name, birth="2001-03-14", province="Jawa Barat", channel="police", country="MY",
                 types=["domestic_servitude"])  # fmt: skip
    case = demo.intake("polri.worker", start, body)
    return demo.walk(
        case,
        start,
        [
            ("kemenpppa.worker", "begin_screening", {"screening_unit": "UPTD PPA Jawa Barat"}),
            ("pemda.worker", "identify", {"indicators": ["withheld_documents", "exploitation"]}),
            ("pemda.worker", "record_consent", consent()),
        ],
        gap=gap,
    )


def _shelter_deadline_near(demo: Demo, entered_shelter: datetime) -> None:
    """Six days into a seven-day shelter step: past 75%, so the sweep warns KEMENSOS."""
    start = entered_shelter - 4 * timedelta(hours=6)
    case = _to_emergency_care(demo, "Rina Wulandari", start, timedelta(hours=6))
    case = demo.fire(case, "kemenkes.worker", entered_shelter, "admit_to_shelter",
                     {"shelter": "RPTC Bambu Apus"})  # fmt: skip
    demo.claim(case, "kemensos.worker", entered_shelter + timedelta(hours=2))


def _emergency_care_overdue(demo: Demo, entered_care: datetime) -> None:
    """Eight days in emergency care (due in seven): breached, with KEMENKES's supervisors."""
    _to_emergency_care(demo, "Ayu Saragih", entered_care - 3 * timedelta(hours=5),
                       timedelta(hours=5))  # fmt: skip


def _random_birth_date(rng: random.Random) -> str:
    return date(rng.randint(1985, 2006), rng.randint(1, 12), rng.randint(1, 28)).isoformat()


def _how_to_log_in() -> str:
    return (
        "Open http://127.0.0.1:8000/ in a browser (the API: /docs) and log in as one of:\n"
        "  kemlu.worker, kemensos.worker, kemenkes.worker, pemda.worker, kemenpppa.worker,\n"
        "  polri.worker (and <ministry>.supervisor for each), auditor, admin\n"
        "  and the regional units' users: pemda.batam, pemda.kepri, kemensos.kepri, pemda.ntt,\n"
        "  pemda.kotakupang, pemda.kabkupang, kemlu.kl, gugus.kepri, gugus.ntt, gugus.kotakupang\n"
        "  (each .worker and .supervisor)\n"
        f"Password for every demo user: {DEMO_PASSWORD}\n"
    )


_DEMO_CHECKED: dict[str, bool] = {}


def demo_logins(session: Session) -> tuple[str, list[str]] | None:
    """The demo's password and usernames, for the login page, while that password still opens
    them (checked once per process against the admin's hash: argon2 is slow on purpose)."""
    admin = session.exec(select(UserAccount).where(col(UserAccount.username) == "admin")).first()
    if admin is None:
        return None
    if admin.password_hash not in _DEMO_CHECKED:
        _DEMO_CHECKED[admin.password_hash] = verify_password(admin.password_hash, DEMO_PASSWORD)
    if not _DEMO_CHECKED[admin.password_hash]:
        return None
    users = session.exec(
        select(UserAccount.username)
        .where(col(UserAccount.is_active).is_(True))
        .order_by(col(UserAccount.id))
        .limit(100)
    ).all()
    return DEMO_PASSWORD, list(users)
