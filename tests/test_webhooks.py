"""The outbox and webhooks: written with the event, delivered at least once, in order per case,
signed (Standard Webhooks v1), retried with backoff, dead-lettered, never carrying identity.

The receiver is a real HTTP server on loopback (tests/webhook_receiver.py); the worker's clock
is moved by hand so that backoff is tested without waiting.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import multiprocessing
import os
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlmodel import Session, col, select

from schemas.case import CaseCreate, TransitionRequest
from schemas.webhook import EVENT_KINDS, SubscriptionCreate
from service.cases.firing import fire_transition
from service.cases.service import register_case
from service.kit.context import AppContext
from service.kit.encryption import IdentityCipher
from service.models import CaseEvent, WebhookOutbox, WebhookSubscription, utcnow
from service.users.service import seed_account
from service.webhooks import delivery
from service.webhooks.service import create_subscription, reseal_secrets
from tests.factories import Actors, fire, intake_body, password_hash, register
from tests.web import get, post, visible_text, web_login
from tests.webhook_receiver import Receiver

SUBSCRIPTIONS = "/api/v1/webhooks/subscriptions"
NAME = "Rahasia Webhook Korban"
NOTE = "catatan rahasia: rumah aman di Kupang"
REPORT_NUMBER = "LP/RAHASIA/77"
DATA_KEYS = {
    "event_id", "case_id", "seq", "workflow", "workflow_version", "kind", "trigger",
    "from_state", "to_state", "state", "phase", "ministry", "unit", "region_code", "at",
}  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def worker(context: AppContext, clock: Clock) -> AppContext:
    """The delivery worker's context: short timeouts, few attempts, a clock moved by hand."""
    settings = context.settings.model_copy(
        update={
            "webhook_connect_timeout_seconds": 0.5,
            "webhook_read_timeout_seconds": 0.5,
            "webhook_max_attempts": 4,
            "webhook_backoff_seconds": 10.0,
            "webhook_backoff_max_seconds": 60.0,
            "webhook_concurrency": 4,
        }
    )
    return replace(context, settings=settings, clock=clock)


def subscribe(client: TestClient, actors: Actors, url: str, **extra: Any) -> dict[str, Any]:
    response = client.post(
        SUBSCRIPTIONS, json={"url": url, **extra}, headers=actors.admin().headers
    )
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


def new_case(client: TestClient, actors: Actors, *, police_report: bool = True) -> dict[str, Any]:
    """A case with three events or more: created, begin_screening, a police report (with a
    note and a report number: free text that must never leave)."""
    registered = register(client, actors.worker("KEMLU"), intake_body(full_name=NAME))
    moved = fire(client, actors.worker("KEMENPPPA"), registered, "begin_screening", {})
    assert moved.status_code == 200, moved.text
    case: dict[str, Any] = moved.json()
    if police_report:
        payload = {"report_number": REPORT_NUMBER, "filed_on": "2026-01-02"}
        reported = fire(client, actors.worker("POLRI"), case, "record_police_report", payload,
                        note=NOTE)  # fmt: skip
        assert reported.status_code == 200, reported.text
        case = reported.json()
    return case


def events_of(session: Session, cases: list[dict[str, Any]]) -> dict[str, list[int]]:
    """Every event of each case, by seq: what the receiver must end up with."""
    wanted: dict[str, list[int]] = {}
    for case in cases:
        case_id = uuid.UUID(case["id"])
        rows = session.exec(
            select(CaseEvent.stream_seq)
            .where(col(CaseEvent.stream) == case_id.hex)
            .order_by(col(CaseEvent.stream_seq))
        ).all()
        wanted[case["id"]] = list(rows)
    return wanted


def drain(worker: AppContext, clock: Clock, rounds: int = 20) -> None:
    """Deliver until nothing waits, moving the clock past every backoff."""
    for _ in range(rounds):
        delivery.deliver(worker)
        with worker.database.snapshot() as session:
            outbox, waiting, _dead = delivery.backlog(session)
        if outbox == 0 and waiting == 0:
            return
        clock.advance(120)
    raise AssertionError("deliveries still wait after every retry")


def arrivals(receiver: Receiver) -> dict[str, list[int]]:
    """Per case, the seqs in the order the receiver accepted them (repeats included)."""
    seen: dict[str, list[int]] = {}
    for received in receiver.accepted:
        data = received.message["data"]
        seen.setdefault(data["case_id"], []).append(data["seq"])
    return seen


def first_arrivals(receiver: Receiver) -> dict[str, list[int]]:
    """What a receiver that deduplicates on `webhook-id` keeps, in order."""
    kept: dict[str, list[int]] = {}
    ids: set[str] = set()
    for received in receiver.accepted:
        if received.headers["webhook-id"] in ids:
            continue
        ids.add(received.headers["webhook-id"])
        data = received.message["data"]
        kept.setdefault(data["case_id"], []).append(data["seq"])
    return kept


# --- the outbox --------------------------------------------------------------------------------


def test_every_case_event_writes_an_outbox_row_in_its_transaction(
    client: TestClient, actors: Actors, session: Session
) -> None:
    case = new_case(client, actors, police_report=False)
    rows = session.exec(
        select(WebhookOutbox).where(col(WebhookOutbox.case_id) == uuid.UUID(case["id"]))
    ).all()
    assert sorted(row.stream_seq for row in rows) == events_of(session, [case])[case["id"]]
    assert rows[-1].state == "screening" and rows[-1].phase == case["phase"]


def test_a_refused_transition_writes_no_outbox_row(
    client: TestClient, actors: Actors, session: Session
) -> None:
    case = new_case(client, actors, police_report=False)
    before = len(session.exec(select(WebhookOutbox)).all())
    stale = fire(client, actors.worker("KEMENPPPA"), case, "begin_screening", {}, version=1)
    assert stale.status_code == 409
    assert len(session.exec(select(WebhookOutbox)).all()) == before


def test_a_transition_never_waits_for_a_receiver(
    client: TestClient, actors: Actors, receiver: Receiver, session: Session
) -> None:
    """Delivery is the worker's, never the request's: a receiver that would hang for a minute
    is not even called while the case moves; the event waits in the outbox."""
    receiver.mode, receiver.slow_seconds = "slow", 60.0
    subscribe(client, actors, receiver.url)
    case = new_case(client, actors)
    assert receiver.hits == 0
    waiting = session.exec(
        select(WebhookOutbox).where(col(WebhookOutbox.case_id) == uuid.UUID(case["id"]))
    ).all()
    assert sorted(row.stream_seq for row in waiting) == events_of(session, [case])[case["id"]]


# --- delivery ------------------------------------------------------------------------------------


def test_deliveries_are_signed_by_the_standard_webhooks_scheme(
    client: TestClient, actors: Actors, receiver: Receiver, worker: AppContext, clock: Clock
) -> None:
    secret = subscribe(client, actors, receiver.url)["secret"]
    assert secret.startswith("whsec_")
    new_case(client, actors)
    drain(worker, clock)
    assert receiver.accepted
    key = base64.b64decode(secret.removeprefix("whsec_"))
    for received in receiver.accepted:
        ident, stamp = received.headers["webhook-id"], received.headers["webhook-timestamp"]
        signed = f"{ident}.{stamp}.".encode() + received.body
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        assert received.headers["webhook-signature"] == f"v1,{expected}"
        assert ident == f"msg_nrm_{received.message['data']['event_id']}"
    wrong = hmac.new(b"another key", signed, hashlib.sha256).digest()
    assert received.headers["webhook-signature"] != "v1," + base64.b64encode(wrong).decode()


def test_no_identity_and_no_free_text_ever_leaves(
    client: TestClient, actors: Actors, receiver: Receiver, worker: AppContext, clock: Clock,
    session: Session,
) -> None:  # fmt: skip
    subscribe(client, actors, receiver.url)
    case = new_case(client, actors)
    drain(worker, clock)
    bodies = [r.body.decode() for r in receiver.accepted]
    assert len(bodies) == len(events_of(session, [case])[case["id"]])
    for body in bodies:
        for secret in (NAME, "Rahasia", NOTE, REPORT_NUMBER, "2003-04-12", "Nusa Tenggara"):
            assert secret not in body
    for received in receiver.accepted:
        message = received.message
        assert set(message) == {"type", "timestamp", "data"}
        assert set(message["data"]) == DATA_KEYS
    kinds = {r.message["data"]["kind"] for r in receiver.accepted}
    assert {"created", "transition"} <= kinds
    report = [
        r for r in receiver.accepted if r.message["data"]["trigger"] == "record_police_report"
    ]
    assert report and report[0].message["data"]["ministry"] == case["ministry"]


def test_a_receiver_that_fails_times_out_refuses_and_comes_back_loses_nothing(
    client: TestClient, actors: Actors, receiver: Receiver, worker: AppContext, clock: Clock,
    session: Session,
) -> None:  # fmt: skip
    subscribe(client, actors, receiver.url)
    cases = [new_case(client, actors) for _ in range(3)]
    wanted = events_of(session, cases)

    receiver.mode = "fail"  # 500 to everything
    report = delivery.deliver(worker)
    assert report.delivered == 0 and report.failed == len(cases)  # only each case's head
    clock.advance(120)
    receiver.mode, receiver.slow_seconds = "slow", 1.5  # past the 0.5 s read timeout
    report = delivery.deliver(worker)
    assert report.failed == len(cases)
    clock.advance(120)
    receiver.stop()  # connections refused
    report = delivery.deliver(worker)
    assert report.failed + report.dead == len(cases) and report.delivered == 0
    receiver.mode = "ok"
    receiver.start()  # back, on the same port: the fourth and last attempt succeeds
    drain(worker, clock)

    assert first_arrivals(receiver) == wanted  # nothing lost, in order per case
    for seqs in arrivals(receiver).values():  # repeats (a slow answer timed out), never a skip
        assert all(seq <= max([0, *seqs[:i]]) + 1 for i, seq in enumerate(seqs))
    assert sum(map(len, arrivals(receiver).values())) > sum(map(len, wanted.values()))


def test_a_failing_case_is_dead_lettered_and_holds_back_only_itself(
    client: TestClient, actors: Actors, receiver: Receiver, worker: AppContext, clock: Clock,
    session: Session,
) -> None:  # fmt: skip
    sub = subscribe(client, actors, receiver.url)
    bad, good = new_case(client, actors), new_case(client, actors)
    receiver.fails_for = lambda message: message["data"]["case_id"] == bad["id"]
    for _ in range(worker.settings.webhook_max_attempts):
        delivery.deliver(worker)
        clock.advance(120)

    wanted = events_of(session, [bad, good])
    assert first_arrivals(receiver) == {good["id"]: wanted[good["id"]]}
    admin = actors.admin().headers
    dead = client.get("/api/v1/webhooks/dead-letters", headers=admin).json()["items"]
    assert [(d["case_id"], d["seq"], d["attempts"]) for d in dead] == [
        (bad["id"], 1, worker.settings.webhook_max_attempts)
    ]
    assert dead[0]["message_id"].startswith("msg_nrm_") and dead[0]["kind"] == "created"
    listed = client.get(f"{SUBSCRIPTIONS}/{sub['id']}", headers=admin).json()
    assert listed["dead_letters"] == 1 and listed["backlog"] == len(wanted[bad["id"]])

    receiver.fails_for = None
    requeued = client.post(f"/api/v1/webhooks/dead-letters/{dead[0]['id']}/requeue", headers=admin)
    assert requeued.status_code == 200 and requeued.json() == {"requeued": 1}
    drain(worker, clock)
    assert first_arrivals(receiver)[bad["id"]] == wanted[bad["id"]]
    assert client.get("/api/v1/webhooks/dead-letters", headers=admin).json()["items"] == []


def test_a_paused_subscription_queues_and_delivers_when_resumed(
    client: TestClient, actors: Actors, receiver: Receiver, worker: AppContext, clock: Clock,
    session: Session,
) -> None:  # fmt: skip
    sub = subscribe(client, actors, receiver.url)
    admin = actors.admin().headers
    paused = client.patch(f"{SUBSCRIPTIONS}/{sub['id']}", json={"is_active": False}, headers=admin)
    assert paused.status_code == 200 and paused.json()["is_active"] is False
    case = new_case(client, actors)
    delivery.deliver(worker)
    assert receiver.hits == 0
    client.patch(f"{SUBSCRIPTIONS}/{sub['id']}", json={"is_active": True}, headers=admin)
    drain(worker, clock)
    assert first_arrivals(receiver) == events_of(session, [case])


def test_filters_choose_kinds_and_ministry(
    client: TestClient, actors: Actors, receiver: Receiver, worker: AppContext, clock: Clock
) -> None:
    subscribe(client, actors, receiver.url, event_kinds=["created"])
    subscribe(client, actors, receiver.url, ministry="POLRI")  # no case is led by POLRI
    new_case(client, actors)
    drain(worker, clock)
    assert [r.message["data"]["kind"] for r in receiver.accepted] == ["created"]


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    low = [delivery.backoff(2.0, 60.0, n, lambda: 0.0) for n in range(1, 9)]
    high = [delivery.backoff(2.0, 60.0, n, lambda: 1.0) for n in range(1, 9)]
    assert low == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert high == [2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]


# --- administration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://dashboard.example/in"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "https://user:pw@dashboard.example/in"}, "url"),
        ({"url": "https:///nohost"}, "url"),
        ({"url": "https://d.example/", "event_kinds": ["victim_named"]}, "event_kinds"),
        ({"url": "https://d.example/", "region_code": "Kupang"}, "region_code"),
        ({"url": "https://d.example/", "secret": "mine"}, "secret"),
    ],
)
def test_bad_subscriptions_are_refused_naming_the_field(
    client: TestClient, actors: Actors, body: dict[str, Any], field: str
) -> None:
    response = client.post(SUBSCRIPTIONS, json=body, headers=actors.admin().headers)
    assert response.status_code == 422, response.text
    assert response.json()["code"]
    assert field in response.text


def test_an_unknown_ministry_is_refused(client: TestClient, actors: Actors) -> None:
    body = {"url": "https://d.example/", "ministry": "NOPE"}
    response = client.post(SUBSCRIPTIONS, json=body, headers=actors.admin().headers)
    assert response.status_code == 422 and "ministry" in response.json()["detail"]


def test_subscriptions_are_audited_and_their_secret_is_shown_once(
    client: TestClient, actors: Actors, session: Session
) -> None:
    admin = actors.admin().headers
    made = subscribe(client, actors, "https://d.example/in?token=abc")
    url = f"{SUBSCRIPTIONS}/{made['id']}"
    assert "secret" not in client.get(url, headers=admin).json()
    assert all("secret" not in s for s in client.get(SUBSCRIPTIONS, headers=admin).json()["items"])
    client.patch(url, json={"description": "NTT dashboard"}, headers=admin)
    assert client.delete(url, headers=admin).status_code == 204
    assert client.get(url, headers=admin).status_code == 404
    events = session.exec(
        select(CaseEvent).where(col(CaseEvent.stream) == "webhooks").order_by(col(CaseEvent.seq))
    ).all()
    assert [e.kind for e in events][-3:] == [
        "webhook_subscription_created", "webhook_subscription_updated",
        "webhook_subscription_deleted",
    ]  # fmt: skip
    assert all(e.actor_role == "admin" for e in events[-3:])
    assert all(
        "token" not in str(e.payload) and made["secret"] not in str(e.payload) for e in events
    )


def test_an_empty_update_and_a_missing_subscription(client: TestClient, actors: Actors) -> None:
    admin = actors.admin().headers
    made = subscribe(client, actors, "https://d.example/in")
    empty = client.patch(f"{SUBSCRIPTIONS}/{made['id']}", json={}, headers=admin)
    assert empty.status_code == 422 and empty.json()["code"] == "invalid"
    assert (
        client.patch(
            f"{SUBSCRIPTIONS}/999999", json={"is_active": False}, headers=admin
        ).status_code
        == 404
    )
    assert (
        client.post("/api/v1/webhooks/dead-letters/999999/requeue", headers=admin).status_code
        == 404
    )


# --- workers side by side (real commits) ---------------------------------------------------------


def test_workers_side_by_side_send_each_event_once_and_in_order(
    committed_context: Callable[..., AppContext], receiver: Receiver
) -> None:
    """Every worker process runs the job: three at once share the work through the fan-out
    lock and the leases (SKIP LOCKED on PostgreSQL, the single writer on SQLite), and a
    receiver that answers at once gets each event exactly once, each case's in order."""
    context = committed_context(pool_size=6, webhook_concurrency=4, webhook_batch=7)
    cases = fill_outbox(context, receiver, cases=6, reports=4)
    with ThreadPoolExecutor(3) as pool:
        reports = list(pool.map(lambda _n: delivery.deliver(context), range(3)))
    delivery.deliver(context)  # whatever a worker left when it found nothing yet

    with context.database.snapshot() as session:
        wanted = events_of(session, cases)
        assert delivery.backlog(session) == (0, 0, 0)
    assert arrivals(receiver) == wanted  # once each: no repeats at all, in order
    assert sum(r.delivered for r in reports) <= sum(map(len, wanted.values()))


def test_two_worker_processes_lose_nothing_and_keep_each_cases_order(
    committed_context: Callable[..., AppContext], receiver: Receiver
) -> None:
    """Two worker processes (as two `nrm serve` workers) drain the same outbox at once, against
    a receiver that refuses a third of the events the first time: every event arrives exactly
    once, each case's in order, and the 2xx answers are exactly the deliveries the workers
    counted (none sent twice, none recorded for nothing)."""
    context = committed_context(
        pool_size=4, webhook_concurrency=4, webhook_batch=9, webhook_backoff_seconds=0.05,
        webhook_backoff_max_seconds=0.2,
    )  # fmt: skip
    refused: set[int] = set()

    def first_time_for_a_third(message: dict[str, Any]) -> bool:
        event_id: int = message["data"]["event_id"]
        if event_id % 3 or event_id in refused:
            return False
        refused.add(event_id)
        return True

    receiver.fails_for = first_time_for_a_third
    cases = fill_outbox(context, receiver, cases=8, reports=4)
    fork = multiprocessing.get_context("fork")
    results = fork.Queue()

    def work() -> None:
        context.database.engine.dispose(close=False)  # the parent's connections stay its own
        delivered, deadline = 0, time.monotonic() + 60
        while time.monotonic() < deadline:
            report = delivery.deliver(context)
            delivered += report.delivered
            with context.database.snapshot() as session:
                if delivery.backlog(session)[:2] == (0, 0):
                    break
            time.sleep(0.02)  # the other process's leases, or a backoff, still run
        results.put(delivered)

    workers = [fork.Process(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    counted = [results.get(timeout=90) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)

    with context.database.snapshot() as session:
        wanted = events_of(session, cases)
        assert delivery.backlog(session) == (0, 0, 0)
    assert arrivals(receiver) == wanted  # once each, in order: nothing lost, nothing repeated
    assert sum(counted) == len(receiver.accepted) == sum(map(len, wanted.values()))
    assert refused  # the retries did happen


def fill_outbox(
    context: AppContext, receiver: Receiver, *, cases: int, reports: int
) -> list[dict[str, Any]]:
    """A subscription to `receiver`, then `cases` cases each registered and given `reports`
    police reports, committed one by one."""
    with context.database.transaction() as session:
        kemlu = seed_account(session, "kemlu.hook", password_hash(), "case_worker", "KEMLU")
        police = seed_account(session, "polri.hook", password_hash(), "case_worker", "POLRI")
        admin = seed_account(session, "admin.hook", password_hash(), "admin", None)
    with context.database.transaction() as session:
        create_subscription(session, context, admin, SubscriptionCreate(url=receiver.url))
    made_cases = []
    intake = CaseCreate.model_validate(intake_body())
    report = {"report_number": "LP/1/26", "filed_on": "2026-01-02"}
    for _ in range(cases):
        with context.database.transaction() as session:
            made = register_case(session, context, kemlu, intake, endpoint="test").body
        for version in range(made["version"], made["version"] + reports):
            request = TransitionRequest(
                trigger="record_police_report", expected_version=version, payload=report
            )
            with context.database.transaction() as session:
                fire_transition(session, context, police, made["id"], request, endpoint="test")
        made_cases.append({"id": made["id"]})
    return made_cases


def test_the_admins_page_lists_receivers_and_sends_a_dead_letter_again(
    client: TestClient, actors: Actors, receiver: Receiver, worker: AppContext, clock: Clock,
    context: AppContext,
) -> None:  # fmt: skip
    subscribe(client, actors, receiver.url, description="NTT dashboard")
    case = new_case(client, actors, police_report=False)
    receiver.mode = "fail"
    once = replace(worker, settings=worker.settings.model_copy(update={"webhook_max_attempts": 1}))
    delivery.deliver(once)
    admin = web_login(context, actors.admin())
    page = get(client, admin, "/admin/webhooks")
    assert page.status_code == 200
    text = visible_text(page.text)
    assert "NTT dashboard" in text and case["id"] in text and "HTTP 500" in text
    assert NAME not in page.text
    dead = client.get("/api/v1/webhooks/dead-letters", headers=actors.admin().headers).json()
    sent = post(client, admin, f"/admin/webhooks/dead-letters/{dead['items'][0]['id']}/requeue")
    assert sent.status_code == 303
    receiver.mode = "ok"
    drain(worker, clock)
    assert [r.message["data"]["seq"] for r in receiver.accepted][:1] == [1]
    assert "HTTP 500" not in visible_text(get(client, admin, "/admin/webhooks").text)


def test_the_job_reports_the_backlog_to_the_metrics(
    client: TestClient, actors: Actors, receiver: Receiver, worker: AppContext
) -> None:
    subscribe(client, actors, receiver.url)
    new_case(client, actors)  # three events; the receiver refuses the first
    receiver.mode = "fail"
    report = delivery.run_job(worker)
    assert (report.fanned_out, report.delivered, report.failed) == (3, 0, 1)

    def gauge(state: str) -> float | None:
        return REGISTRY.get_sample_value("nrm_webhook_backlog", {"state": state})

    assert (gauge("outbox"), gauge("deliveries"), gauge("dead")) == (0.0, 3.0, 0.0)


def test_a_run_near_the_end_of_its_lease_stops_and_gives_the_rest_back(
    receiver: Receiver, worker: AppContext
) -> None:
    """A case's events are sent one after another under one lease; one that could not finish
    before the lease runs out is not started (another worker could take it meanwhile)."""
    rows = [SimpleNamespace(id=n, event_seq=n, payload={}, url=receiver.url) for n in (7, 8)]
    with delivery.Sender(worker) as sender:
        sent, unsent = delivery._post_in_order(sender, rows, time.monotonic() - 1)
    assert (sent, unsent, receiver.hits) == ([], [7, 8], 0)


def test_a_data_key_rotation_seals_the_secrets_again(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    secret = subscribe(client, actors, "https://d.example/in")["secret"]
    new_key = os.urandom(32)
    rotating = replace(context, cipher=IdentityCipher(new_key, (context.settings.keys.data_key,)))
    assert reseal_secrets(rotating) == 1
    assert reseal_secrets(rotating) == 0
    only_new = IdentityCipher(new_key)
    with context.database.snapshot() as session:
        sealed = session.exec(select(WebhookSubscription.secret_sealed)).all()
    assert [delivery.open_secret(only_new, s) for s in sealed] == [secret]


def test_every_kind_a_subscription_may_filter_on_has_a_label_in_both_languages() -> None:
    """The kinds a receiver may filter on are the case events the pages label: a kind added by
    a feature without a label (or without being offered to receivers) shows up here."""
    locales = Path(__file__).parent.parent / "service" / "web" / "locales"
    for language in ("en", "id"):
        labels = yaml.safe_load((locales / f"{language}.yaml").read_text("utf-8"))["kind"]
        missing = sorted(set(EVENT_KINDS) - set(labels))
        assert missing == [], f"{language}: no label for {missing}"
