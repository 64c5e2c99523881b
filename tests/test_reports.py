"""Reports from the history, against figures computed by hand on cases built through the API.

The story (times UTC; WIB is +7): on Monday 6 July 2026 at 01:00 a KEMLU worker registers
A (Indonesian, 23, from NTT), B (the same facts) and C (Vietnamese, 28). An hour later A and B
are screened; two days later A is identified and B is not, and four hours after that B is
closed as not a victim. On Monday 10 August at 01:00 C is screened, identified an hour later;
at 02:00 A goes on, an hour a step: consent, shelter, social rehabilitation, departure home,
the province, the district, then reunited with the family (reintegration) at 08:00.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlmodel import Session, col, select

from schemas.common import WIB
from service.kit.context import AppContext
from service.models import CaseMinistry, MinistryMove
from service.reports import service as reports
from service.reports.figures import MILESTONES, StateMap
from tests.bulk import Clock
from tests.factories import Actors, User, foreign_body, register, step_with_consent, walk_to
from tests.report_counts import counted_from_events, kept_moves, moves_of, rebuilt_and_kept
from tests.web import get, visible_text, web_login

MONDAY = datetime(2026, 7, 6, 1, 0, tzinfo=UTC)
JULY = {"from": "2026-07-01", "to": "2026-07-31"}
WEEK = {"from": "2026-07-01", "to": "2026-07-07"}
SUMMER = {"from": "2026-07-01", "to": "2026-08-31"}

# The story walks version 2's pathway (a shelter stay, then social rehabilitation as steps); the
# figures of version 3's services are tested apart (test_monthly_figures_of_other_features).
pytestmark = pytest.mark.workflow_version(2)
NO_OTHER = {"services_started_in_time": 0, "services_started_late": 0, "criminal_cases": 0,
            "criminal_case_victims": 0, "suspects": 0}  # fmt: skip


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY)


@pytest.fixture
def context(context: AppContext, clock: Clock) -> AppContext:
    return replace(context, clock=clock)


def _get(client: TestClient, user: User, path: str, **params: str) -> Any:
    return client.get(f"/api/v1/{path}", params=params, headers=user.headers)


class Story:
    def __init__(self, client: TestClient, actors: Actors, context: AppContext, clock: Clock):
        self.client, self.actors, self.clock = client, actors, clock
        self.definition = context.registry.latest("nrm-indonesia")
        assert self.definition is not None

    def walk(self, case: dict[str, Any], *triggers: str, hours: float = 0) -> dict[str, Any]:
        """Fire the triggers in turn from wherever the case is, the clock `hours` apart."""
        definition = self.definition.definition  # type: ignore[union-attr]
        for number, trigger in enumerate(triggers):
            if number:
                self.clock.advance(hours=hours)
            row = definition.transition(trigger, case["state"])
            assert row is not None, (trigger, case["state"])
            case = step_with_consent(self.client, self.actors, definition, case, row)
        return case


@pytest.fixture
def story(client: TestClient, actors: Actors, context: AppContext, clock: Clock) -> dict[str, Any]:
    told = Story(client, actors, context, clock)
    kemlu = actors.worker("KEMLU")
    a, b = register(client, kemlu), register(client, kemlu)
    c = register(client, kemlu, foreign_body())
    clock.advance(hours=1)
    a, b = told.walk(a, "begin_screening"), told.walk(b, "begin_screening")
    clock.advance(days=2)
    a = told.walk(a, "identify")
    b = told.walk(b, "decide_not_identified")
    clock.advance(hours=4)
    b = told.walk(b, "close_not_victim")
    first_week = _get(client, actors.auditor(), "reports/breakdown", dimension="state", **WEEK)
    clock.now = datetime(2026, 8, 10, 1, 0, tzinfo=UTC)
    c = told.walk(c, "begin_screening", "identify", hours=1)
    a = told.walk(
        a,
        "record_consent",
        "admit_to_shelter",
        "begin_social_rehabilitation",
        "depart",
        "hand_to_province",
        "hand_to_district",
        "reunite_with_family",
        hours=1,
    )
    clock.advance(hours=1)
    return {"a": a, "b": b, "c": c, "first_week": first_week.json()}


def test_milestones_per_month(client: TestClient, actors: Actors, story: dict[str, Any]) -> None:
    report = _get(client, actors.auditor(), "reports/monthly", **SUMMER)
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["scope"] == "national"
    assert [(m["month"], m["figures"]) for m in body["months"]] == [
        ("2026-07", {"referrals": 3, "identifications": 1, "repatriations": 0,
                     "reintegrations": 0, "closures": 1, **NO_OTHER}),
        ("2026-08", {"referrals": 0, "identifications": 1, "repatriations": 1,
                     "reintegrations": 1, "closures": 0, **NO_OTHER}),
    ]  # fmt: skip
    assert body["totals"]["referrals"] == 3 and body["totals"]["identifications"] == 2


def test_breakdown_by_state_is_what_the_history_said_at_the_end_of_the_range(
    client: TestClient, actors: Actors, story: dict[str, Any]
) -> None:
    july = _get(client, actors.auditor(), "reports/breakdown", dimension="state", **JULY).json()
    assert [(r["key"], r["referrals"], r["victims"], r["open"]) for r in july["rows"]] == [
        ({"state": "closed"}, 1, 0, 0),
        ({"state": "identified"}, 1, 1, 1),
        ({"state": "referred"}, 1, 0, 1),
    ]
    # the first week, asked on 8 July and again in August: the same answer
    week = _get(client, actors.auditor(), "reports/breakdown", dimension="state", **WEEK).json()
    assert week == story["first_week"]
    assert [(r["key"], r["referrals"], r["open"]) for r in week["rows"]] == [
        ({"state": "referred"}, 1, 1),
        ({"state": "screening"}, 2, 2),
    ]
    assert july["totals"] == {"key": {}, "referrals": 3, "victims": 1, "open": 2}


def test_breakdown_by_two_dimensions_and_the_phase_now(
    client: TestClient, actors: Actors, story: dict[str, Any]
) -> None:
    body = _get(client, actors.auditor(), "reports/breakdown",
                dimension="nationality,phase", **SUMMER).json()  # fmt: skip
    assert [(r["key"], r["referrals"], r["victims"], r["open"]) for r in body["rows"]] == [
        ({"nationality": "ID", "phase": "closure"}, 1, 0, 0),
        ({"nationality": "ID", "phase": "reintegration"}, 1, 1, 1),
        ({"nationality": "VN", "phase": "identification"}, 1, 1, 1),
    ]
    by_age = _get(client, actors.auditor(), "reports/breakdown", dimension="age_band", **SUMMER)
    assert [(r["key"]["age_band"], r["referrals"]) for r in by_age.json()["rows"]] == [("18-29", 3)]


def test_time_in_each_state_and_phase_and_the_deadlines_met(
    client: TestClient, actors: Actors, story: dict[str, Any]
) -> None:
    body = _get(client, actors.auditor(), "reports/durations", **SUMMER).json()
    states = {line["name"]: line for line in body["states"]}
    # A and B screened an hour after intake; C 35 days (840 h) later; 3 business days allowed
    assert states["referred"] == {"name": "referred", "completed": 3, "median_hours": 1.0,
                                  "p90_hours": 672.2, "with_deadline": 3, "on_time": 2}  # fmt: skip
    assert states["identified"]["completed"] == 1 and states["identified"]["on_time"] == 0
    phases = {line["name"]: line for line in body["phases"]}
    # identification: B 2 days 5 hours (53 h) to its closure, A 35 days 1 hour (841 h)
    assert phases["identification"]["completed"] == 2
    assert phases["identification"]["median_hours"] == 447.0
    assert phases["repatriation"]["completed"] == 1 and phases["repatriation"]["median_hours"] == 3
    assert body["deadlines_total"] == sum(line["with_deadline"] for line in body["states"])


def test_deadlines_met_per_ministry_are_the_ministry_figures(
    client: TestClient, actors: Actors, story: dict[str, Any]
) -> None:
    report = _get(client, actors.auditor(), "reports/durations", **SUMMER).json()
    for line in report["ministries"]:
        figures = _get(client, actors.auditor(), f"ministries/{line['name']}/stats", **SUMMER)
        stats = figures.json()
        assert (line["with_deadline"], line["on_time"]) == (
            stats["completed_steps"],
            stats["on_time_steps"],
        ), line["name"]


def test_a_supervisor_sees_the_cases_of_their_ministry(
    client: TestClient, actors: Actors, story: dict[str, Any]
) -> None:
    kemensos = _get(client, actors.supervisor("KEMENSOS"), "reports/breakdown",
                    dimension="sex", **SUMMER).json()  # fmt: skip
    assert kemensos["scope"] == "KEMENSOS"
    assert kemensos["totals"] == {"key": {}, "referrals": 1, "victims": 1, "open": 1}  # A only
    task_force = _get(client, actors.worker("GUGUS_TUGAS"), "reports/monthly", **SUMMER)
    assert task_force.json()["scope"] == "national"


def test_a_ministry_s_monthly_figures_are_its_cases_events_counted_one_by_one(
    client: TestClient,
    actors: Actors,
    context: AppContext,
    session: Session,
    clock: Clock,
    story: dict[str, Any],
) -> None:
    """The fast path (`ministry_move`, kept by triggers) against every event of the cases in
    the ministry's scope, read one by one. A is KEMLU's and KEMENSOS's (two ministries) and
    joined KEMENSOS's scope on 10 August, in the middle of the summer: its scope holds the
    whole case, so its July registration and identification count for KEMENSOS too."""
    ministries = sorted(set(session.exec(select(CaseMinistry.ministry)).all()))
    assert {"KEMLU", "KEMENSOS"} <= set(ministries)
    for ministry in ministries:
        for period in (SUMMER, JULY, WEEK, {"from": "2026-07-08", "to": "2026-08-10"}):
            report = _get(client, actors.supervisor(ministry), "reports/monthly", **period)
            assert report.status_code == 200, report.text
            got = {m["month"]: {name: m["figures"][name] for name in MILESTONES}
                   for m in report.json()["months"]}  # fmt: skip
            assert got == counted_from_events(session, context, ministry, period, clock.now), (
                ministry, period,
            )  # fmt: skip
    kemensos = _get(client, actors.supervisor("KEMENSOS"), "reports/monthly", **SUMMER).json()
    assert [(m["month"], m["figures"]["referrals"], m["figures"]["identifications"],
             m["figures"]["reintegrations"]) for m in kemensos["months"]] == [
        ("2026-07", 1, 1, 0), ("2026-08", 0, 0, 1),
    ]  # fmt: skip
    kemlu = _get(client, actors.supervisor("KEMLU"), "reports/monthly", **JULY).json()
    assert kemlu["totals"]["referrals"] == 3 and kemlu["totals"]["closures"] == 1


def test_the_ministry_moves_the_triggers_keep_are_those_rebuilt_from_the_events(
    session: Session, story: dict[str, Any]
) -> None:
    """`ministry_move` after the story, after a ministry joins a case late (as a workflow
    migration or a service request adds it), and after a scope row goes: each time what
    the rebuild recomputes from the events."""

    maintained = kept_moves(session)
    a_moves, c_moves = (moves_of(session, story[name]["id"]) for name in ("a", "c"))
    assert sum(1 for row in maintained if row[0] == "KEMENSOS") == a_moves > 5
    assert maintained == rebuilt_and_kept(session)
    c = uuid.UUID(story["c"]["id"])
    session.add(CaseMinistry(case_id=c, ministry="BP2MI", since=datetime.now(UTC)))
    session.flush()
    joined = kept_moves(session)
    added = sorted(set(joined) - set(maintained))
    assert len(added) == len(joined) - len(maintained) == c_moves > 1
    assert {row[0] for row in added} == {"BP2MI"} and added[0][2] == "created"
    assert joined == rebuilt_and_kept(session)
    session.execute(delete(CaseMinistry).where(
        col(CaseMinistry.case_id) == c, col(CaseMinistry.ministry) == "BP2MI"))  # fmt: skip
    session.flush()
    assert kept_moves(session) == maintained == rebuilt_and_kept(session)
    # the operators' rebuild (`nrm reports rebuild`) repairs a table whose triggers were off
    session.execute(delete(MinistryMove).where(col(MinistryMove.ministry) == "KEMENSOS"))
    assert reports.rebuild_ministry_moves(session) == (len(maintained), a_moves)
    assert kept_moves(session) == maintained


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (("supervisor", "KEMENSOS"), 200),
        (("case_worker", "GUGUS_TUGAS"), 200),
        (("auditor", None), 200),
        (("case_worker", "KEMENSOS"), 403),
        (("admin", None), 403),
    ],
)
def test_reports_are_for_supervisors_the_task_force_and_auditors(
    client: TestClient, actors: Actors, who: tuple[str, str | None], status: int
) -> None:
    assert _get(client, actors.get(*who), "reports/monthly").status_code == status


def test_downloads_carry_the_same_numbers(
    client: TestClient, actors: Actors, story: dict[str, Any]
) -> None:
    auditor = actors.auditor()
    csv = _get(client, auditor, "reports/monthly", format="csv", **SUMMER)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0] == (
        "month,referrals,identifications,repatriations,reintegrations,closures,"
        "services_started_in_time,services_started_late,criminal_cases,criminal_case_victims,"
        "suspects"
    )
    none = ",0,0,0,0,0"
    assert lines[1:] == [f"2026-07,3,1,0,0,1{none}", f"2026-08,0,1,1,1,0{none}",
                         f"total,3,2,1,1,1{none}"]  # fmt: skip
    xlsx = _get(client, auditor, "reports/breakdown", dimension="sex", format="xlsx", **SUMMER)
    assert xlsx.status_code == 200
    assert _xlsx_rows(xlsx.content) == [
        ["sex", "referrals", "victims", "open"],
        ["female", 3, 2, 2],
        ["total", 3, 2, 2],
    ]


def _xlsx_rows(content: bytes) -> list[list[Any]]:
    """The first sheet's values (shared strings resolved, numbers as ints): enough to read back
    what XlsxWriter wrote, without a second spreadsheet library."""
    ns = {"x": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        shared = [node.text or "" for node in ElementTree.fromstring(
            book.read("xl/sharedStrings.xml")).iterfind(".//x:si/x:t", ns)]  # fmt: skip
        sheet = ElementTree.fromstring(book.read("xl/worksheets/sheet1.xml"))
    rows = []
    for row in sheet.iterfind(".//x:row", ns):
        values: list[Any] = []
        for cell in row.iterfind("x:c", ns):
            text = cell.findtext("x:v", default="", namespaces=ns)
            values.append(shared[int(text)] if cell.get("t") == "s" else int(float(text)))
        rows.append(values)
    return rows


def test_an_empty_range_is_empty_and_bad_ranges_and_dimensions_are_422(
    client: TestClient, actors: Actors
) -> None:
    auditor = actors.auditor()
    empty = _get(client, auditor, "reports/breakdown", dimension="sex",
                 **{"from": "2020-01-01", "to": "2020-12-31"})  # fmt: skip
    assert empty.status_code == 200 and empty.json()["rows"] == []
    months = _get(client, auditor, "reports/monthly", **{"from": "2020-01-01", "to": "2020-03-31"})
    assert [m["figures"]["referrals"] for m in months.json()["months"]] == [0, 0, 0]
    too_long = _get(
        client, auditor, "reports/monthly", **{"from": "2015-01-01", "to": "2025-01-01"}
    )
    assert too_long.status_code == 422 and too_long.json()["code"] == "range_too_long"
    ten_years = _get(
        client, auditor, "reports/monthly", **{"from": "2016-01-01", "to": "2025-12-31"}
    )
    assert ten_years.status_code == 200 and len(ten_years.json()["months"]) == 120
    for dimension in ("colour", "sex,sex", "sex,state,phase", ""):
        bad = _get(client, auditor, "reports/breakdown", dimension=dimension)
        assert bad.status_code == 422 and bad.json()["code"] == "unknown_dimension", dimension
        assert "dimension" in bad.json()["detail"]
    state = _get(client, auditor, "publication/tables", dimension="state")
    assert state.status_code == 422 and state.json()["code"] == "unknown_dimension"


def test_every_published_version_gives_a_state_the_same_phase(context: AppContext) -> None:
    """The monthly milestones classify events by state name across versions (StateMap)."""
    states = StateMap.of(context.registry.definitions())
    for definition in context.registry.definitions():
        for spec in definition.states.values():
            assert states.phase[spec.name] == spec.phase, (definition.version, spec.name)
            assert (spec.name in states.terminal) == spec.terminal


def test_the_reports_page_shows_the_numbers_of_the_api(
    client: TestClient, actors: Actors, context: AppContext, story: dict[str, Any]
) -> None:
    auditor = web_login(context, actors.auditor())
    page = get(client, auditor, "/reports?dimension=state&from=2026-07-01&to=2026-07-31")
    assert page.status_code == 200, page.text
    text = visible_text(page.text)
    assert "<svg" in page.text and "reports." not in text  # every key translated
    monthly = _get(client, actors.auditor(), "reports/monthly", **JULY).json()
    assert f"2026-07 {' '.join(str(v) for v in monthly['months'][0]['figures'].values())}" in text
    download = get(client, auditor, "/reports/download?kind=breakdown&format=csv&dimension=sex")
    assert download.status_code == 200 and download.text.splitlines()[0] == (
        "\ufeffsex,referrals,victims,open"
    )
    bad = get(client, auditor, "/reports?dimension=colour")
    assert bad.status_code == 422 and "colour" in bad.text


@pytest.mark.workflow_version(3)
def test_monthly_figures_of_other_features(
    client: TestClient, actors: Actors, context: AppContext, clock: Clock
) -> None:
    """The monthly report carries the services started within their legal window (version 3)
    and the criminal cases, their victims and suspects by the month of the police report."""
    definition = context.registry.engine("nrm-indonesia", 3).definition
    case = walk_to(client, actors, definition, "in_services")
    police = actors.worker("POLRI")
    body = {"police_report_number": "LP/REPORT/1", "reported_on": "2025-03-20",
            "region_code": "53.71"}  # fmt: skip
    made = client.post("/api/v1/criminal-cases", json=body, headers=police.headers)
    assert made.status_code == 201, made.text
    cc = made.json()
    linked = client.post(f"/api/v1/criminal-cases/{cc['id']}/victims",
                         json={"case_id": case["id"]}, headers=police.headers)  # fmt: skip
    assert linked.status_code == 200, linked.text
    for name in ("Tersangka Satu", "Tersangka Dua"):
        added = client.post(
            f"/api/v1/criminal-cases/{cc['id']}/suspects",
            json={
                "identity": {"full_name": name},
                "sex": "male",
                "nationality": "ID",
                "role": "recruiter",
            },
            headers=police.headers,
        )
        assert added.status_code == 201, added.text
    march = _get(client, actors.auditor(), "reports/monthly", **{"from": "2025-03-01",
                                                                  "to": "2025-03-31"})  # fmt: skip
    assert march.status_code == 200, march.text
    [row] = march.json()["months"]
    assert (row["figures"]["criminal_cases"], row["figures"]["criminal_case_victims"],
            row["figures"]["suspects"]) == (1, 1, 2)  # fmt: skip
    services = f"/api/v1/cases/{case['id']}/services"
    asked = client.post(services, json={"kind": "health", "emergency": True,
                                        "lawful_basis": "vital_interest"},
                        headers=actors.worker(case["ministry"]).headers)  # fmt: skip
    assert asked.status_code == 201, asked.text
    begun = client.post(f"{services}/{asked.json()['id']}/start", json={"expected_version": 1},
                        headers=actors.worker("KEMENKES").headers)  # fmt: skip
    assert begun.status_code == 200, begun.text
    listed = client.get(services, headers=actors.auditor().headers)
    started = [s for s in listed.json()["items"] if s["started_at"]]
    assert len(started) >= 1
    clock.advance(hours=1)  # the report describes what happened before it is asked for
    today = datetime.fromisoformat(started[0]["started_at"]).astimezone(WIB).date().isoformat()
    now = _get(client, actors.auditor(), "reports/monthly", **{"from": today, "to": today})
    figures = now.json()["totals"]
    in_time = sum(1 for s in started if not s["late_start"])
    assert figures["services_started_in_time"] == in_time
    assert figures["services_started_late"] == len(started) - in_time
