"""Sealing the log: a signed checkpoint every N events or T seconds, and on demand.

A checkpoint covers every event after the previous one's `last_seq`, and seals every
`identity_access` row after the previous seal (format /2, integrity/signing.py); when only such
rows wait, an `identity_access_sealed` event on the "audit" stream carries them.

Under concurrent writers sequences are handed out at insert, so events commit out of seq order:
before reading its range a checkpoint takes a lock that waits for every in-flight writer of
events and of `identity_access` and holds new ones back until it commits (PostgreSQL; SQLite
serialises writers already). No lower seq or row id can therefore commit into a sealed range.
Checkpointers queue on the same lock, and the unique `number` and `prev_hash` refuse a fork if
two ever raced anyway.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from schemas.audit import CheckpointMade, CheckpointPage, CheckpointRead, PublicKeyRead
from service.audit import repository as repo
from service.audit import witness
from service.audit.integrity import signing
from service.audit.integrity.merkle import TreeBuilder, leaf_of
from service.audit.log import append_stream_event
from service.kit.context import AppContext
from service.kit.errors import LogBusy
from service.kit.paging import Paging, scope_of
from service.kit.principal import SYSTEM
from service.models import AuditCheckpoint

AUDIT_STREAM = "audit"
POLL_SECONDS = 5.0
MAX_ROUNDS = 20


def checkpoint_pending(session: Session, context: AppContext) -> AuditCheckpoint | None:
    """Seal the events since the last checkpoint (at most `checkpoint_max_events`); None if
    there are none. Flushes; the caller's unit of work commits."""
    try:
        repo.lock_log(session)
    except OperationalError as exc:
        raise LogBusy("the log is busy with long-running writers; try again") from exc
    latest = repo.latest_checkpoint(session)
    after = latest.last_seq if latest else 0
    leaves = repo.leaves_after(session, after, context.settings.checkpoint_max_events)
    access_after = repo.latest_access_seal(session)
    access, access_count, access_last = TreeBuilder(), 0, access_after
    for row in repo.identity_access_records(session, access_after):
        access.add(signing.access_leaf(row))
        access_count, access_last = access_count + 1, row["id"]
    if not leaves and access_count:  # only looks to seal: an event to carry them
        append_stream_event(
            session, AUDIT_STREAM, actor=SYSTEM, at=context.clock(),
            kind="identity_access_sealed", payload={"rows": access_count},
        )  # fmt: skip
        session.flush()
        leaves = repo.leaves_after(session, after, context.settings.checkpoint_max_events)
    if not leaves:
        return None
    tree = TreeBuilder()
    for seq, digest in leaves:
        tree.add(leaf_of(seq, digest))
    private_key = context.settings.keys.audit_signing_key
    now = context.clock()
    checkpoint = AuditCheckpoint(
        number=latest.number + 1 if latest else 1,
        first_seq=after + 1,
        last_seq=leaves[-1][0],
        event_count=len(leaves),
        root=tree.root().hex(),
        prev_hash=latest.hash if latest else signing.GENESIS,
        created_at=now,
        key_id=signing.key_id(signing.public_key_of(private_key)),
        hash="",
        signature="",
        access_last_id=access_last,
        access_count=access_count,
        access_root=access.root().hex(),
    )
    fields = signing.record(checkpoint.model_dump())
    checkpoint.hash = signing.checkpoint_hash(fields)
    checkpoint.signature = signing.sign(private_key, fields)
    session.add(checkpoint)
    session.flush()
    return checkpoint


def checkpoint_if_due(session: Session, context: AppContext) -> AuditCheckpoint | None:
    """Seal when `checkpoint_every` events wait, or any wait and the last checkpoint is older
    than `checkpoint_seconds`. Decides without the lock, so an idle poll never blocks writers."""
    settings = context.settings
    latest = repo.latest_checkpoint(session)
    waiting = repo.count_after(session, latest.last_seq if latest else 0, settings.checkpoint_every)
    if waiting == 0 and not repo.access_waiting(session):
        return None
    age = context.clock() - latest.created_at if latest else None
    recent = age is not None and age < timedelta(seconds=settings.checkpoint_seconds)
    if waiting < settings.checkpoint_every and recent:
        return None
    return checkpoint_pending(session, context)


def checkpoint_now(session: Session, context: AppContext) -> CheckpointMade:
    """On demand: seal what is pending, or say that nothing was and give the latest."""
    made = checkpoint_pending(session, context)
    if made is not None:
        return CheckpointMade(created=True, checkpoint=present(made))
    latest = repo.latest_checkpoint(session)
    return CheckpointMade(created=False, checkpoint=present(latest) if latest else None)


def list_checkpoints(
    session: Session, context: AppContext, cursor: str | None, limit: int
) -> CheckpointPage:
    paging = Paging.of(
        context.settings.keys.secret_key, scope_of(list="audit_checkpoints"), cursor, limit,
        context.settings.audit_page_max,
    )  # fmt: skip
    rows = repo.checkpoints_page(session, paging.after_number(), paging.fetch)
    page, next_cursor = paging.page(rows, lambda checkpoint: [checkpoint.number])
    return CheckpointPage(
        public_key=public_key(context),
        items=[present(row) for row in page],
        next_cursor=next_cursor,
    )


def public_key(context: AppContext) -> PublicKeyRead:
    raw = signing.public_key_of(context.settings.keys.audit_signing_key)
    return PublicKeyRead(
        key_id=signing.key_id(raw),
        public_key=signing.encode_public_key(raw),
        pem=signing.public_key_pem(raw),
    )


def present(checkpoint: AuditCheckpoint) -> CheckpointRead:
    return CheckpointRead.model_validate(signing.record(checkpoint.model_dump()))


def run_job(context: AppContext) -> int:
    """The periodic job: seal while due, each checkpoint in its own transaction; then publish
    to the witnesses what they have not received (retrying what failed before)."""
    made = 0
    for _ in range(MAX_ROUNDS):
        with context.database.transaction() as session:
            checkpoint = checkpoint_if_due(session, context)
        if checkpoint is None:
            break
        made += 1
        if checkpoint.event_count < context.settings.checkpoint_max_events:
            break
    witness.publish(context)
    return made
