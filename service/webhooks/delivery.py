"""The delivery worker: fan the outbox out to subscriptions, POST what is due, record outcomes.

At least once: a delivery is deleted only after its receiver answered 2xx, and a worker that
dies mid-POST leaves a lease that runs out, so the event goes again under the same
`webhook-id`. In order per case: only the lowest waiting `stream_seq` of a (subscription, case)
is ever sent, so a failing event holds back its own case for that receiver and nothing else
(one bad case, or one slow path, never stalls a province's dashboard). Bounded: every POST has
connect and read timeouts, and runs in the worker's own thread pool, never in a transition.

Three short transactions per batch, none held across the network: lease what is due (one
`UPDATE ... RETURNING`, its heads taken `FOR UPDATE SKIP LOCKED` on PostgreSQL, the single
writer on SQLite), fan out the next outbox rows while that batch is POSTed (one worker at a
time, in outbox order), record what happened. Worker processes share the work through those
leases (every `nrm serve` worker runs the job; `bench.webhooks --processes N`).

The POSTs go through urllib3: one keep-alive connection pool per receiver for the whole run,
about a third of httpx's CPU per request (bench/RESULTS.md, "Webhooks"), and each
subscription's secret is opened once per run, not per POST. The body is the canonical JSON of
the stored message; the signature is made per attempt, because it covers `webhook-timestamp`,
which receivers check against their clock (a retry an hour later carries the hour's time).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import urllib3
from sqlmodel import Session

from service.kit import metrics
from service.kit.canonical_json import canonical_json
from service.kit.context import AppContext
from service.kit.encryption import IdentityCipher
from service.models import WebhookSubscription
from service.webhooks import repository as repo
from service.webhooks import signing

SECRET_BOUND_TO = b"nrm-webhook-secret/1"
FAN_OUT_BATCH = 1000
TIME_BUDGET_SECONDS = 10.0  # one job run stops claiming after this, and runs again soon


@dataclass
class DeliveryReport:
    fanned_out: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0


@dataclass(frozen=True)
class Outcome:
    delivery_id: int
    attempts: int
    error: str | None  # None: accepted


def run_job(context: AppContext) -> DeliveryReport:
    """The periodic job of `nrm serve`: deliver what is due, then refresh the backlog gauges."""
    report = deliver(context)
    refresh_metrics(context)
    return report


def deliver(context: AppContext, *, budget_seconds: float = TIME_BUDGET_SECONDS) -> DeliveryReport:
    """Fan out and deliver until nothing more is due now (or the time budget is spent)."""
    report = DeliveryReport()
    started = time.monotonic()
    settings = context.settings
    with (
        Sender(context) as sender,
        ThreadPoolExecutor(settings.webhook_concurrency, "nrm-webhook") as pool,
    ):
        while time.monotonic() - started < budget_seconds:
            lease = _lease_seconds(context)
            deadline = time.monotonic() + lease - _longest_post(context) - 5
            claimed = _claim(context, lease)
            runs = _runs(claimed)
            posting = pool.map(_post_in_order, [sender] * len(runs), runs, [deadline] * len(runs))
            fanned = fan_out(context)  # the next batch's, while this one's POSTs go
            report.fanned_out += fanned
            if not claimed and not fanned:
                break
            results = list(posting)
            outcomes = [outcome for sent, _unsent in results for outcome in sent]
            unsent = [row_id for _sent, rest in results for row_id in rest]
            _record(context, outcomes, unsent, report)
    return report


class Sender:
    """One run's HTTP side: a pool of keep-alive connections per receiver (urllib3, as many as
    the run has threads, so a thread never waits for one), every wait bounded by the
    connect and read timeouts, no retries and no redirects (a retry is the next attempt, with
    its backoff), and each subscription's secret opened once."""

    def __init__(self, context: AppContext) -> None:
        settings = context.settings
        self._cipher = context.cipher
        self._secrets: dict[bytes, str] = {}
        self._pools = urllib3.PoolManager(
            num_pools=64,
            maxsize=settings.webhook_concurrency,
            block=True,
            timeout=urllib3.Timeout(
                connect=settings.webhook_connect_timeout_seconds,
                read=settings.webhook_read_timeout_seconds,
            ),
            retries=False,
        )
        self._pool_timeout = settings.webhook_connect_timeout_seconds

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._pools.clear()

    def post(self, row: Any) -> Outcome:
        """One attempt: the message signed now, POSTed, its answer read."""
        body = canonical_json(row.payload)
        secret = self._secrets.get(row.secret_sealed)
        if secret is None:
            secret = self._secrets[row.secret_sealed] = open_secret(self._cipher, row.secret_sealed)
        headers = signing.headers(secret, message_id(row.event_seq), int(time.time()), body)
        attempts = row.attempts + 1
        try:
            response = self._pools.request(
                "POST", row.url, body=body, headers=headers, redirect=False,
                preload_content=True, pool_timeout=self._pool_timeout,
            )  # fmt: skip
        except urllib3.exceptions.NewConnectionError as exc:  # refused (a subclass of timeout)
            return Outcome(row.id, attempts, f"unreachable: {_cause(exc)}")
        except (urllib3.exceptions.TimeoutError, urllib3.exceptions.EmptyPoolError):
            return Outcome(row.id, attempts, "timeout")
        except urllib3.exceptions.HTTPError as exc:
            return Outcome(row.id, attempts, f"unreachable: {_cause(exc)}")
        if 200 <= response.status < 300:
            return Outcome(row.id, attempts, None)
        return Outcome(row.id, attempts, f"HTTP {response.status}")


def _cause(exc: Exception) -> str:
    """The name of what went wrong underneath urllib3's wrapper (ConnectionRefusedError,
    RemoteDisconnected, ...)."""
    inner = next((arg for arg in exc.args if isinstance(arg, Exception)), exc.__context__)
    return type(inner or exc).__name__


def fan_out(context: AppContext) -> int:
    """Copy the oldest outbox rows into one delivery per matching subscription; how many
    outbox rows were taken (0 if another worker is fanning out)."""
    with context.database.transaction() as session:
        if not repo.lock_fan_out(session):
            return 0
        batch = repo.outbox_batch(session, FAN_OUT_BATCH)
        if not batch:
            return 0
        subscriptions = repo.all_subscriptions(session)
        now = context.clock()
        deliveries: list[dict[str, Any]] = []
        for row in batch if subscriptions else ():
            if row.seq is None:  # cannot happen: the two are written together
                continue
            payload = message(row)
            deliveries.extend(
                {
                    "subscription_id": sub.id,
                    "case_id": row.case_id,
                    "stream_seq": row.stream_seq,
                    "event_seq": row.seq,
                    "payload": payload,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for sub in subscriptions
                if wants(sub, row.kind, row.ministry, row.region_code)
            )
        repo.add_deliveries(session, deliveries)
        repo.drop_outbox(session, [row.id for row in batch])
        return len(batch)


def message(row: Any) -> dict[str, Any]:
    """What leaves the service: the event's place in the workflow, never identity, never the
    payload or note of the event (free text), never who acted."""
    at = row.at.isoformat()
    return {
        "type": f"case.{row.kind}",
        "timestamp": at,
        "data": {
            "event_id": row.seq,
            "case_id": str(row.case_id),
            "seq": row.stream_seq,
            "workflow": row.workflow_name,
            "workflow_version": row.workflow_version,
            "kind": row.kind,
            "trigger": row.trigger,
            "from_state": row.from_state,
            "to_state": row.to_state,
            "state": row.state,
            "phase": row.phase,
            "ministry": row.ministry,
            "unit": row.code,
            "region_code": row.region_code,
            "at": at,
        },
    }


def wants(sub: WebhookSubscription, kind: str, ministry: str, region: str | None) -> bool:
    if sub.event_kinds and kind not in sub.event_kinds:
        return False
    if sub.ministry is not None and sub.ministry != ministry:
        return False
    if sub.region_code is not None:
        return region is not None and (
            region == sub.region_code or region.startswith(sub.region_code + ".")
        )
    return True


def message_id(event_seq: int) -> str:
    return f"msg_nrm_{event_seq}"


def seal_secret(cipher: IdentityCipher, secret: str) -> bytes:
    return cipher.encrypt({"secret": secret}, SECRET_BOUND_TO)


def open_secret(cipher: IdentityCipher, sealed: bytes) -> str:
    return str(cipher.decrypt(sealed, SECRET_BOUND_TO)["secret"])


def backoff(settings_base: float, cap: float, attempts: int, rand: Callable[[], float]) -> float:
    """Seconds before attempt `attempts + 1`: base * 2^(attempts-1), capped, with jitter that
    keeps it between half and all of that (so receivers coming back are not hit in step)."""
    delay: float = min(cap, settings_base * 2.0 ** min(attempts - 1, 30))
    return delay / 2 + rand() * delay / 2


def _longest_post(context: AppContext) -> float:
    """The longest one POST can take: waiting for a pooled connection, connecting, writing,
    reading (each bounded by its timeout)."""
    settings = context.settings
    return 2 * settings.webhook_connect_timeout_seconds + 2 * settings.webhook_read_timeout_seconds


def _lease_seconds(context: AppContext) -> float:
    """How long claimed deliveries are this worker's: every thread's share of a batch sent at
    the longest, and a margin. A run that would outlast it stops and gives the rest back
    (`_post_in_order`), so a lease never runs out while its worker still sends."""
    settings = context.settings
    rounds = -(-settings.webhook_batch // settings.webhook_concurrency)
    return rounds * _longest_post(context) + 30


def _claim(context: AppContext, lease: float) -> list[Any]:
    settings = context.settings
    with context.database.transaction() as session:
        now = context.clock()
        return repo.claim_due(session, now, now + timedelta(seconds=lease), settings.webhook_batch)


def _runs(claimed: list[Any]) -> list[list[Any]]:
    """The claimed rows by (subscription, case), each run in the case's order."""
    runs: dict[tuple[int, Any], list[Any]] = {}
    for row in claimed:
        runs.setdefault((row.subscription_id, row.case_id), []).append(row)
    return [sorted(run, key=lambda row: row.stream_seq) for run in runs.values()]


def _post_in_order(
    sender: Sender, run: list[Any], deadline: float
) -> tuple[list[Outcome], list[int]]:
    """Send a case's events one after another; the first failure stops the run, and so does
    the lease's end drawing near (what follows stays unsent, its lease given back)."""
    sent: list[Outcome] = []
    for index, row in enumerate(run):
        if time.monotonic() >= deadline:
            return sent, [later.id for later in run[index:]]
        outcome = sender.post(row)
        sent.append(outcome)
        if outcome.error is not None:
            return sent, [later.id for later in run[index + 1 :]]
    return sent, []


def _record(
    context: AppContext, outcomes: list[Outcome], unsent: list[int], report: DeliveryReport
) -> None:
    settings = context.settings
    now = context.clock()
    accepted = [o.delivery_id for o in outcomes if o.error is None]
    changes: list[dict[str, Any]] = []
    for o in outcomes:
        if o.error is None:
            continue
        dead = o.attempts >= settings.webhook_max_attempts
        wait = backoff(settings.webhook_backoff_seconds, settings.webhook_backoff_max_seconds,
                       o.attempts, random.random)  # fmt: skip
        changes.append({"id": o.delivery_id, "attempts": o.attempts, "last_error": o.error[:200],
                        "dead_at": now if dead else None,
                        "next_attempt_at": now + timedelta(seconds=wait)})  # fmt: skip
        report.dead += dead
        report.failed += not dead
    with context.database.transaction() as session:
        repo.delivered(session, accepted)
        repo.failed(session, changes)
        repo.release(session, unsent)
    report.delivered += len(accepted)


def refresh_metrics(context: AppContext) -> None:
    with context.database.snapshot() as session:
        outbox, waiting, dead = repo.backlog(session)
    metrics.WEBHOOK_BACKLOG.labels("outbox").set(outbox)
    metrics.WEBHOOK_BACKLOG.labels("deliveries").set(waiting)
    metrics.WEBHOOK_BACKLOG.labels("dead").set(dead)


def backlog(session: Session) -> tuple[int, int, int]:
    return repo.backlog(session)
