"""Ministry queues and watch lists: order, keyset paging, signed cursors, filters, access."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col

from service.kit.context import AppContext
from service.kit.paging import CursorCodec
from tests.bulk import insert_cases
from tests.factories import Actors, User, child_body, fire, fire_approved, foreign_body, register

# Queues over cases in version 1's states (kept by version 2).
pytestmark = pytest.mark.workflow_version(2)

QUEUE = "/api/v1/queues"


def _pages(client: TestClient, user: User, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a list, following `next_cursor` until it is null."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(1000):
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = client.get(path, params=query, headers=user.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= params.get("limit", 25)
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the cursor never ended")


def _ids(client: TestClient, user: User, ministry: str, **params: Any) -> list[str]:
    return [item["id"] for item in _pages(client, user, f"{QUEUE}/{ministry}", **params)]


def test_paging_a_queue_of_a_thousand_in_pages_of_seven_returns_each_once_in_order(
    client: TestClient, actors: Actors, context: AppContext, session: Session
) -> None:
    rng = random.Random(4)
    base = datetime(2026, 3, 1, tzinfo=UTC)
    # Few distinct instants, so that many cases share a due_at and the id breaks the tie.
    dues = [base + timedelta(hours=rng.randrange(200)) for _ in range(1000)]
    ids = insert_cases(context, session, [{"due_at": due} for due in dues])
    session.commit()
    expected = [
        str(i) for _, i in sorted(zip(dues, ids, strict=True), key=lambda p: (p[0], p[1].hex))
    ]

    items = _pages(client, actors.worker("KEMENSOS"), f"{QUEUE}/KEMENSOS", limit=7)

    assert [item["id"] for item in items] == expected
    assert len({item["id"] for item in items}) == 1000
    due_ats = [datetime.fromisoformat(item["due_at"]) for item in items]
    assert due_ats == sorted(due_ats)


def test_a_queue_lists_the_open_cases_its_ministry_leads_as_pseudonymous_summaries(
    client: TestClient, actors: Actors
) -> None:
    case = register(client, actors.worker("KEMLU"))
    worker = actors.worker("KEMENPPPA")
    page = client.get(f"{QUEUE}/KEMENPPPA", headers=worker.headers).json()
    item = next(i for i in page["items"] if i["id"] == case["id"])
    assert item["state"] == "referred" and item["ministry"] == "KEMENPPPA"
    assert item["version"] == 1 and item["due_at"] == case["due_at"]
    assert item["sla"] == "on_track" and item["overdue"] is False and item["assigned_to"] is None
    assert item["victim"] == {
        "pseudonym": case["reference"],
        "sex": "female",
        "age_band": case["victim"]["age_band"],
        "is_child": False,
        "nationality": "ID",
        "province_of_origin": "Nusa Tenggara Timur",
    }
    assert "Siti" not in str(page) and "2003-04-12" not in str(page)
    assert case["id"] not in _ids(client, actors.worker("PEMDA"), "PEMDA")


def test_a_case_that_changes_hands_leaves_one_queue_and_enters_the_other(
    client: TestClient, actors: Actors
) -> None:
    case = register(client, actors.worker("KEMLU"))
    kemenpppa, pemda = actors.worker("KEMENPPPA"), actors.worker("PEMDA")
    assert case["id"] in _ids(client, kemenpppa, "KEMENPPPA")
    assert fire(client, kemenpppa, case, "begin_screening", {}).status_code == 200
    assert case["id"] not in _ids(client, kemenpppa, "KEMENPPPA")
    assert case["id"] in _ids(client, pemda, "PEMDA")


def test_a_closed_case_is_in_no_queue(client: TestClient, actors: Actors) -> None:
    case = register(client, actors.worker("KEMLU"))
    kemenpppa, pemda = actors.worker("KEMENPPPA"), actors.worker("PEMDA")
    case = fire(client, kemenpppa, case, "begin_screening", {}).json()
    case = fire_approved(
        client, actors, pemda, case, "decide_not_identified", {"grounds": "none found"}
    ).json()
    closed = fire_approved(client, actors, actors.worker("KEMENPPPA"), case, "close_not_victim",
                  {"reason": "not_victim"})  # fmt: skip
    assert closed.status_code == 200, closed.text
    assert closed.json()["due_at"] is None
    auditor = actors.auditor()
    for ministry in ("KEMENPPPA", "PEMDA"):
        assert case["id"] not in _ids(client, auditor, ministry)


def test_the_watch_list_shows_cases_whose_current_state_the_ministry_supports(
    client: TestClient, actors: Actors
) -> None:
    case = register(client, actors.worker("KEMLU"))  # referred: led by KEMENPPPA, PEMDA supports
    pemda = actors.worker("PEMDA")
    watching = _pages(client, pemda, f"{QUEUE}/PEMDA/watching")
    assert case["id"] in [item["id"] for item in watching]
    assert case["id"] not in _ids(client, pemda, "PEMDA")
    kemensos = actors.worker("KEMENSOS")  # supports nothing in `referred`
    assert case["id"] not in [
        i["id"] for i in _pages(client, kemensos, f"{QUEUE}/KEMENSOS/watching")
    ]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (("case_worker", "KEMENSOS"), 200),
        (("supervisor", "KEMENSOS"), 200),
        (("auditor", None), 200),
        (("case_worker", "KEMLU"), 403),
        (("supervisor", "GUGUS_TUGAS"), 403),
        (("admin", None), 403),
    ],
)
def test_a_queue_is_for_its_ministry_and_auditors(
    client: TestClient, actors: Actors, who: tuple[str, str | None], status: int
) -> None:
    user = actors.get(*who)
    for path in (f"{QUEUE}/KEMENSOS", f"{QUEUE}/KEMENSOS/watching"):
        response = client.get(path, headers=user.headers)
        assert response.status_code == status, response.text
        if status == 403:
            assert response.json()["code"] == "forbidden"


def test_an_unknown_ministry_is_404_naming_the_known_codes(
    client: TestClient, actors: Actors
) -> None:
    response = client.get(f"{QUEUE}/ATLANTIS", headers=actors.auditor().headers)
    assert response.status_code == 404
    assert "ATLANTIS" in response.json()["detail"] and "KEMENSOS" in response.json()["detail"]


def test_a_queue_needs_a_token(client: TestClient) -> None:
    assert client.get(f"{QUEUE}/KEMENSOS").status_code == 401


def test_limit_is_capped_and_must_be_positive(
    client: TestClient, actors: Actors, context: AppContext, session: Session
) -> None:
    cap = context.settings.queue_page_max
    insert_cases(context, session, [{} for _ in range(cap + 5)])
    session.commit()
    worker = actors.worker("KEMENSOS")
    page = client.get(f"{QUEUE}/KEMENSOS", params={"limit": 10_000}, headers=worker.headers)
    assert page.status_code == 200 and len(page.json()["items"]) == cap
    assert page.json()["next_cursor"] is not None
    for bad in (0, -1, "many"):
        response = client.get(f"{QUEUE}/KEMENSOS", params={"limit": bad}, headers=worker.headers)
        assert response.status_code == 422 and response.json()["code"] == "validation_error"


def _first_cursor(client: TestClient, user: User, path: str, **params: Any) -> str:
    page = client.get(path, params={"limit": 1, **params}, headers=user.headers).json()
    assert page["next_cursor"], page
    cursor: str = page["next_cursor"]
    return cursor


def _flip(text: str, at: int) -> str:
    replacement = "A" if text[at] != "A" else "B"
    return text[:at] + replacement + text[at + 1 :]


def test_a_tampered_or_foreign_cursor_is_422_invalid_cursor_never_500(
    client: TestClient, actors: Actors, context: AppContext, session: Session
) -> None:
    insert_cases(context, session, [{}, {}, {"state": "screening"}, {"state": "screening"}])
    session.commit()
    auditor = actors.auditor()
    cursor = _first_cursor(client, auditor, f"{QUEUE}/KEMENSOS")
    payload, mac = cursor.split(".")
    other_server = CursorCodec("another service's secret, at least 32 characters long")
    forged = other_server.encode("anything", [datetime.now(UTC).isoformat(), uuid.uuid4().hex])
    bad = {
        "payload altered": _flip(payload, 5) + "." + mac,
        "mac altered": payload + "." + _flip(mac, 3),
        "truncated": cursor[:-4],
        "no mac": payload,
        "garbage": "not-a-cursor",
        "not base64": "***.***",
        "unicode": "é.é",
        "made by another server": forged,
        "another ministry's queue": _first_cursor(client, auditor, f"{QUEUE}/PEMDA"),
        "the watch list": _first_cursor(client, auditor, f"{QUEUE}/POLRI/watching"),
        "other filters": _first_cursor(client, auditor, f"{QUEUE}/KEMENSOS", child=False),
    }
    for reason, token in bad.items():
        response = client.get(
            f"{QUEUE}/KEMENSOS", params={"cursor": token}, headers=auditor.headers
        )
        assert response.status_code == 422, (reason, response.text)
        assert response.json()["code"] in {"invalid_cursor", "validation_error"}, reason
        if reason != "unicode":
            assert response.json()["code"] == "invalid_cursor", reason
    too_long = client.get(
        f"{QUEUE}/KEMENSOS", params={"cursor": "a" * 5000}, headers=auditor.headers
    )
    assert too_long.status_code == 422
    ok = client.get(f"{QUEUE}/KEMENSOS", params={"cursor": cursor}, headers=auditor.headers)
    assert ok.status_code == 200


def test_queue_filters(
    client: TestClient, actors: Actors, context: AppContext, session: Session
) -> None:
    now = datetime.now(UTC)
    worker = actors.worker("KEMENSOS")
    rows: dict[str, dict[str, Any]] = {
        "plain": {},
        "overdue": {"due_at": now - timedelta(hours=1)},
        "child": {"is_child": True, "age_at_intake": 12},
        "foreign": {"nationality": "VN", "province_of_origin": None},
        "jabar": {"province_of_origin": "Jawa Barat"},
        "march": {"referral_date": date(2026, 3, 15)},
        "social": {"state": "social_rehabilitation", "phase": "rehabilitation"},
        "repatriating": {"state": "repatriation_national_leg"},
        "mine": {"assigned_to_id": worker.id},
    }
    ids = dict(zip(rows, insert_cases(context, session, rows.values()), strict=True))
    session.commit()
    names = {str(v): k for k, v in ids.items()}

    def listed(**params: Any) -> set[str]:
        return {names[i] for i in _ids(client, worker, "KEMENSOS", **params) if i in names}

    assert listed() == set(rows)
    assert listed(overdue=True) == {"overdue"}
    assert "overdue" not in listed(overdue=False)
    assert listed(child=True) == {"child"}
    assert listed(nationality="vn") == {"foreign"}
    assert listed(province="jawa barat") == {"jabar"}
    assert listed(referral_from="2026-03-01", referral_to="2026-03-31") == {"march"}
    assert listed(referral_to="2026-02-01") == set(rows) - {"march"}
    assert listed(state="social_rehabilitation") == {"social"}
    assert listed(phase="repatriation") == {"repatriating"}
    assert listed(assigned="me") == {"mine"}
    assert listed(assigned="unassigned") == set(rows) - {"mine"}
    assert listed(child=False, nationality="ID", phase="rehabilitation") == set(rows) - {
        "child", "foreign", "repatriating",
    }  # fmt: skip
    paged = _ids(client, worker, "KEMENSOS", assigned="unassigned", limit=2)
    assert {names[i] for i in paged if i in names} == set(rows) - {"mine"}


@pytest.mark.parametrize(
    "params",
    [
        {"nationality": "XX"},
        {"province": "Atlantis"},
        {"phase": "holiday"},
        {"assigned": "someone"},
        {"overdue": "perhaps"},
        {"referral_from": "2026-03-02", "referral_to": "2026-03-01"},
        {"referral_from": "yesterday"},
        {"state": "nowhere"},
        {"overdu": "true"},
    ],
)
def test_a_bad_filter_is_422_naming_it(
    client: TestClient, actors: Actors, params: dict[str, str]
) -> None:
    response = client.get(
        f"{QUEUE}/KEMENSOS", params=params, headers=actors.worker("KEMENSOS").headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] in {"validation_error", "invalid"}
    assert any(name.split("_")[0] in str(response.json()["detail"]) for name in params)


def test_child_and_foreign_intakes_show_in_filters_end_to_end(
    client: TestClient, actors: Actors
) -> None:
    child = register(client, actors.worker("KEMLU"), child_body())
    foreign = register(client, actors.worker("KEMLU"), foreign_body())
    auditor = actors.auditor()
    children = _ids(client, auditor, "KEMENPPPA", child=True)
    assert child["id"] in children and foreign["id"] not in children
    assert _ids(client, auditor, "KEMENPPPA", nationality="VN") == [foreign["id"]]


def test_every_list_shows_only_cases_its_reader_may_open(
    client: TestClient, actors: Actors, context: AppContext, session: Session
) -> None:
    """The lists do not repeat the visibility predicate; this is what lets them not."""
    from sqlalchemy import update

    from service.models import CaseFile
    from tests.factories import walk_to
    from workflows import SlaLevel

    engine = context.registry.latest("nrm-indonesia")
    assert engine is not None
    states = ["referred", "screening", "screening_abroad", "sheltered", "repatriation_national_leg"]
    made = [walk_to(client, actors, engine.definition, state) for state in states]
    assert (
        client.post(
            f"/api/v1/cases/{made[0]['id']}/claim", headers=actors.worker("KEMENPPPA").headers
        ).status_code
        == 200
    )
    for case, level in ((made[1], SlaLevel.BREACHED), (made[2], SlaLevel.ESCALATED)):
        session.execute(
            update(CaseFile)
            .where(col(CaseFile.id) == uuid.UUID(case["id"]))
            .values(sla_level=int(level))
        )
    session.commit()
    readers = [actors.auditor(), actors.worker("GUGUS_TUGAS"), actors.supervisor("GUGUS_TUGAS")]
    for ministry in ("KEMENPPPA", "PEMDA", "KEMLU", "KEMENSOS", "POLRI", "KP2MI"):
        readers += [actors.worker(ministry), actors.supervisor(ministry)]
    listed = 0
    for reader in readers:
        paths = ["/api/v1/me/cases", "/api/v1/escalations"]
        if reader.ministry:
            paths += [f"{QUEUE}/{reader.ministry}", f"{QUEUE}/{reader.ministry}/watching"]
        for path in paths:
            response = client.get(path, headers=reader.headers)
            if response.status_code == 403:
                continue
            for item in response.json()["items"]:
                listed += 1
                opened = client.get(f"/api/v1/cases/{item['id']}", headers=reader.headers)
                assert opened.status_code == 200, (reader.username, path, item["state"])
    assert listed > 10  # the lists were not empty: the check had something to check
