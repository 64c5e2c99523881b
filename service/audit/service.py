"""Auditor use cases: verify the log, prove an event's inclusion, search, export.

Verifying and exporting read one consistent snapshot of their own (`Database.snapshot`), so a
long read neither blocks writers nor sees a case row ahead of its events. Events carry no
victim identity, so nothing here needs to hide any.
"""

from __future__ import annotations

import functools
import heapq
import itertools
from collections.abc import Iterable, Iterator
from typing import Any, Literal

from sqlmodel import Session

from schemas.audit import (
    AuditEventRead,
    EventPage,
    IdentityAccessPage,
    IdentityAccessRead,
    ProofRead,
    VerifyRead,
)
from service.audit import checkpoints, identity_access, witness
from service.audit import repository as repo
from service.audit.filters import EventFilter, IdentityAccessFilter
from service.audit.integrity import access_seal, grants, signing
from service.audit.integrity.export_format import csv_lines, event_record, export_lines
from service.audit.integrity.merkle import inclusion_path
from service.audit.integrity.verifier import (
    Broken,
    Record,
    Verdict,
    Verifier,
    interleave,
    leaf_of,
)
from service.audit.log import append_stream_event
from service.kit.context import AppContext
from service.kit.errors import Conflict, NotFound
from service.kit.paging import Paging, scope_of
from service.kit.principal import Principal
from service.models import CaseEvent

ExportFormat = Literal["jsonl", "csv"]
AUDIT_STREAM = "audit"


def verify(context: AppContext, trusted: Iterable[Record] = ()) -> Verdict:
    """Check the whole log against itself, its checkpoints, the case rows, and every
    checkpoint the witness directory holds (listed first: a checkpoint sealed meanwhile is in
    the snapshot)."""
    witnessed, unreadable = _witnessed(context)
    verifier = Verifier(public_keys(context), trusted, witnessed)
    if unreadable is not None:
        verifier.problem(Broken("witness_unreadable", unreadable))
    with context.database.snapshot() as session:
        log = interleave(repo.event_records(session), repo.checkpoint_records(session))
        for kind, record in log:
            if kind == "event":
                verifier.event(record)
            else:
                verifier.checkpoint(record)
        for head in repo.heads(session):
            verifier.head(head)
        for problem in check_grants(session, context, skip=set(verifier.broken_streams)):
            verifier.problem(problem)
        sealed = access_seal.check(
            repo.identity_access_records(session), repo.checkpoint_records(session)
        )
        for problem in sealed.problems:
            verifier.problem(problem)
    return verifier.finish()


def check_grants(session: Session, context: AppContext, skip: set[str]) -> Iterator[Broken]:
    """Each case's `case_ministry` and `case_unit` rows against what its events say (a second
    read of the case events, by case: memory stays one case's worth); a case whose stream is
    already reported broken (`skip`) is not reported again."""
    lead = _lead_ministry(context)
    tagged = heapq.merge(
        ((key, 0, event) for key, event in repo.case_events_by_case(session)),
        ((key, 1, ministry) for key, ministry in repo.case_ministry_rows(session)),
        ((key, 2, unit) for key, unit in repo.case_unit_rows(session)),
        key=lambda item: item[0],
    )
    for key, items in itertools.groupby(tagged, key=lambda item: item[0]):
        found: tuple[list[Any], list[Any], list[Any]] = ([], [], [])
        for _key, tag, value in items:
            found[tag].append(value)
        events, ministries, units = found
        if key in skip:
            continue
        want = grants.expected(events, lead)
        rows = {code: grants.UnitRow(referred, since, left, withdrawn)
                for code, referred, since, left, withdrawn in units}  # fmt: skip
        case_id = f"{key[:8]}-{key[8:12]}-{key[12:16]}-{key[16:20]}-{key[20:]}"
        yield from grants.compare(case_id, want, ministries, rows)


def _lead_ministry(context: AppContext) -> grants.LeadMinistry:
    def lead(workflow: str, version: int, state: str) -> str | None:
        try:
            return context.registry.engine(workflow, version).definition.state(state).ministry
        except (KeyError, TypeError):
            return None

    return functools.lru_cache(maxsize=1024)(lead)


def _witnessed(context: AppContext) -> tuple[Iterable[Record], str | None]:
    directory = context.settings.witness_dir
    if directory is None:
        return (), None
    try:
        return witness.witnessed(directory), None
    except witness.WitnessUnreadable as exc:
        return (), f"the witness directory: {exc}"


def present_verdict(verdict: Verdict) -> VerifyRead:
    broken = verdict.first_broken
    return VerifyRead.model_validate(
        {
            "ok": verdict.ok,
            "events_checked": verdict.events_checked,
            "first_broken": broken.as_dict() if broken else None,
            "checkpoints_checked": verdict.checkpoints_checked,
            "streams_checked": verdict.streams_checked,
            "unsealed_events": verdict.unsealed_events,
            "problem_count": verdict.problem_count,
            "problems": [p.as_dict() for p in verdict.problems],
        }
    )


def prove(session: Session, context: AppContext, seq: int) -> ProofRead:
    """An inclusion proof of event `seq`; an event not yet sealed is sealed first, as the
    periodic job would have done."""
    event = repo.event(session, seq)
    if event is None:
        raise NotFound(f"seq: there is no event {seq}")
    checkpoint = repo.checkpoint_covering(session, seq)
    while checkpoint is None:
        if checkpoints.checkpoint_pending(session, context) is None:
            raise Conflict(
                f"seq: event {seq} lies in no checkpoint's range although later ones are "
                "sealed: the log was tampered with; run the verification"
            )
        checkpoint = repo.checkpoint_covering(session, seq)
    pairs = repo.leaves_in(session, checkpoint.first_seq, checkpoint.last_seq)
    leaves = [leaf_of(s, digest) for s, digest in pairs]
    index = [s for s, _digest in pairs].index(seq)
    return ProofRead(
        event=present_event(event),
        leaf_index=index,
        tree_size=len(leaves),
        leaf_hash=leaves[index].hex(),
        audit_path=[node.hex() for node in inclusion_path(leaves, index)],
        checkpoint=checkpoints.present(checkpoint),
    )


def search(
    session: Session,
    context: AppContext,
    where: EventFilter,
    cursor: str | None,
    limit: int,
) -> EventPage:
    """Events matching every filter, oldest first, a page at a time."""
    scope = scope_of(list="audit_events", filters=where.scope())
    paging = Paging.of(
        context.settings.keys.secret_key, scope, cursor, limit, context.settings.audit_page_max
    )
    rows = repo.search(session, where, paging.after_number(), paging.fetch)
    page, next_cursor = paging.page(rows, lambda event: [event.seq or 0])
    return EventPage(items=[present_event(row) for row in page], next_cursor=next_cursor)


def record_export(
    session: Session, context: AppContext, principal: Principal, fmt: ExportFormat, via: str
) -> None:
    """The export is itself an event (on the "audit" stream), sealed with everything before it,
    so the file it produces is covered by checkpoints to its last line."""
    append_stream_event(
        session, AUDIT_STREAM, actor=principal, at=context.clock(), kind="audit_export",
        payload={"format": fmt, "via": via},
    )  # fmt: skip
    session.flush()
    while checkpoints.checkpoint_pending(session, context) is not None:
        pass


def export(context: AppContext, fmt: ExportFormat) -> Iterator[str]:
    """The log as JSON Lines (events, checkpoints, heads: verifiable offline) or CSV (events)."""
    with context.database.snapshot() as session:
        if fmt == "csv":
            yield from csv_lines(repo.event_records(session))
            return
        key = signing.key_id(signing.public_key_of(context.settings.keys.audit_signing_key))
        log = interleave(repo.event_records(session), repo.checkpoint_records(session))
        yield from export_lines(key, log, repo.heads(session))


def present_event(event: CaseEvent) -> AuditEventRead:
    record: dict[str, Any] = event_record(event.model_dump())
    del record["type"]
    return AuditEventRead.model_validate(record)


def public_keys(context: AppContext) -> dict[str, bytes]:
    """The current signing key's public key and the retired ones': each checkpoint names the
    key that signed it (`key_id`), so the checkpoints of a rotated key still verify."""
    raw = signing.public_key_of(context.settings.keys.audit_signing_key)
    retired = {signing.key_id(key): key for key in context.settings.retired_public_keys}
    return {**retired, signing.key_id(raw): raw}


def search_identity_access(
    session: Session,
    context: AppContext,
    where: IdentityAccessFilter,
    cursor: str | None,
    limit: int,
) -> IdentityAccessPage:
    """Who saw a victim's identity, when, on which case and through which endpoint."""
    scope = scope_of(list="identity_access", filters=where.scope())
    paging = Paging.of(
        context.settings.keys.secret_key, scope, cursor, limit, context.settings.audit_page_max
    )
    rows = identity_access.search(session, where, paging.after_number(), paging.fetch)
    page, next_cursor = paging.page(rows, lambda row: [row.id or 0])
    items = [
        IdentityAccessRead(
            id=row.id or 0,
            case_id=str(row.case_id),
            username=row.username,
            ministry=row.ministry,
            role=row.role,
            endpoint=row.endpoint,
            at=row.at,
        )
        for row in page
    ]
    return IdentityAccessPage(items=items, next_cursor=next_cursor)
