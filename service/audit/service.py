"""Auditor use cases: verify the log, prove an event's inclusion, search, export.

Verifying and exporting read one consistent snapshot of their own (`Database.snapshot`), so a
long read neither blocks writers nor sees a case row ahead of its events. Events carry no
victim identity, so nothing here needs to hide any.
"""

from __future__ import annotations

import bisect
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
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
from service.audit import checkpoints, identity_access, verify_pool, witness
from service.audit import repository as repo
from service.audit.filters import EventFilter, IdentityAccessFilter
from service.audit.integrity import access_seal, case_streams, grants, signing
from service.audit.integrity.export_format import csv_lines, event_record, export_lines
from service.audit.integrity.merkle import inclusion_path, leaf_of
from service.audit.integrity.slices import SliceResult, check_slice
from service.audit.integrity.verifier import (
    GRANTS,
    HEADS,
    SEAL,
    Broken,
    Record,
    Verdict,
    Verifier,
    interleave,
    last_seq_of,
)
from service.audit.log import append_stream_event
from service.kit.context import AppContext
from service.kit.errors import Conflict, NotFound
from service.kit.paging import Paging, scope_of
from service.kit.principal import Principal
from service.models import CaseEvent

ExportFormat = Literal["jsonl", "csv"]
logger = logging.getLogger(__name__)
AUDIT_STREAM = "audit"
SLICE_EVENTS = 50_000  # events per slice: a worker holds one slice's streams at a time
PARALLEL_FROM = 200_000  # a shorter log is checked here: starting processes costs more


def verify(
    context: AppContext,
    trusted: Iterable[Record] = (),
    workers: int | None = None,
    slice_events: int = SLICE_EVENTS,
) -> Verdict:
    """Check the whole log against itself, its checkpoints, the case rows, and every
    checkpoint the witness directory holds (listed first: a checkpoint sealed meanwhile is in
    the snapshot).

    The events are checked a slice at a time (integrity/slices.py): on PostgreSQL, in
    `workers` processes (default: one per CPU, for a log of PARALLEL_FROM events or more)
    reading the parent's snapshot, which then also replay the cases' grants by ranges of case
    id; on SQLite, or with one worker, here. `workers=0` walks the
    log event by event (the reference the slices are tested against). A log holding a
    malformed row (SQLite only) is walked event by event, so it is reported as before; if the
    worker processes fail (a connection refused, a snapshot that cannot be imported), the
    slices are checked here instead.
    """
    trusted = list(trusted)
    if workers == 0:
        return _verify_walk(context, trusted)
    try:
        return _verify_sliced(context, trusted, workers, slice_events)
    except verify_pool.WorkersFailed as exc:
        logger.warning("audit verify: %s; checking the slices in this process", exc)
        return _verify_sliced(context, trusted, 1, slice_events)


def _verify_sliced(
    context: AppContext, trusted: list[Record], workers: int | None, slice_events: int
) -> Verdict:
    witnessed, unreadable = _witnessed(context)
    verifier = Verifier(public_keys(context), trusted, witnessed)
    if unreadable is not None:
        verifier.problem(Broken("witness_unreadable", unreadable))
    with context.database.snapshot() as session, ExitStack() as stack:
        bounds = repo.seq_bounds(session)
        count = _worker_count(session, workers, bounds)
        pool = None
        if count > 1:
            pool = stack.enter_context(
                verify_pool.Workers(
                    _reader(session, context), count, _cases_reader(session, context)
                )
            )
        for result, placed in _checked_slices(session, pool, slice_events, bounds):
            if result.irregular:
                stack.close()
                return _verify_walk(context, trusted)
            verifier.slice(result, placed)
        if pool is not None:
            cases = pool.cases()
        else:
            cases = iter([repo.case_checks(session, lead_ministry(context))])
        if not _cases_checked(verifier, cases):
            stack.close()
            return _verify_walk(context, trusted)
        verifier.place = (HEADS, 1)
        for head in repo.stream_heads(session):
            verifier.head(head)
        _check_the_seal(session, verifier)
    return verifier.finish()


def _cases_checked(verifier: Verifier, results: Iterable[case_streams.CasesResult]) -> bool:
    """Each case's problems, found on its own (its links, head and grants), given their place
    in the walk's order; the grants of a case whose events fail their hash (a slice found it)
    are left out, as the walk leaves them. False: a range was irregular (walk the log)."""
    hashes_fail = set(verifier.broken_streams)  # the slices' findings, before the cases'
    for result in results:
        if result.irregular:
            return False
        verifier.add_streams(result.streams)
        for place, problem in result.problems:
            if place[0] != GRANTS or problem.stream not in hashes_fail:
                verifier.problem(problem, place)
    return True


def _verify_walk(context: AppContext, trusted: Iterable[Record]) -> Verdict:
    """The log event by event, in one pass (the verifier's reference behaviour)."""
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
        _check_the_rest(session, context, verifier)
    return verifier.finish()


def _check_the_rest(session: Session, context: AppContext, verifier: Verifier) -> None:
    """Heads, grants and the identity-access seal, after the events."""
    for head in repo.heads(session):
        verifier.head(head)
    for problem in check_grants(session, context, set(verifier.broken_streams)):
        verifier.problem(problem)
    _check_the_seal(session, verifier)


def _check_the_seal(session: Session, verifier: Verifier) -> None:
    """The identity-access rows against the checkpoints that seal them."""
    verifier.place = (SEAL,)
    sealed = access_seal.check(
        repo.identity_access_records(session), repo.checkpoint_records(session)
    )
    for problem in sealed.problems:
        verifier.problem(problem)


def _worker_count(
    session: Session, workers: int | None, bounds: tuple[int | None, int | None]
) -> int:
    """How many worker processes check the log: none (1) on SQLite or for a short log."""
    if session.get_bind().dialect.name != "postgresql":
        return 1
    if workers is None:
        low, high = bounds
        if high is None or low is None or high - low + 1 < PARALLEL_FROM:
            return 1
        return os.cpu_count() or 1
    return workers


def _checked_slices(
    session: Session,
    pool: verify_pool.Workers | None,
    slice_events: int,
    bounds: tuple[int | None, int | None],
) -> Iterator[tuple[SliceResult, list[tuple[int, Record]]]]:
    """Each slice's result with the checkpoints placed in it (position, record), in order."""
    placed = placements(list(repo.checkpoint_records(session)))
    positions = sorted({position for position, _c in placed})
    low, high = bounds
    slices = plan_slices(positions, low, high, slice_events,
                         lambda after: repo.seq_after(session, after, slice_events))  # fmt: skip
    results: Iterator[SliceResult]
    if pool is not None:
        results = pool.checked(slices)
    else:
        postgres = session.get_bind().dialect.name == "postgresql"
        case_text = None if postgres else repo.uuid_text
        results = (
            _slice_here(session, after, upto, cuts, case_text) for after, upto, cuts in slices
        )
    index = 0
    for result in results:
        taken = index
        while index < len(placed) and placed[index][0] <= result.upto:
            index += 1
        yield result, placed[taken:index]


def _slice_here(
    session: Session, after: int, upto: int, cuts: list[int], case_text: Any
) -> SliceResult:
    """A slice checked in this process (its rows' cursor closed, even if it is irregular)."""
    with repo.slice_rows(session, after, upto) as rows:
        return check_slice(after, upto, cuts, rows, case_text)


def _reader(session: Session, context: AppContext) -> verify_pool.SliceReader:
    compiled = repo.slice_statement(postgres=True).compile(dialect=session.get_bind().dialect)
    url = context.database.engine.url.set(drivername="postgresql")
    return verify_pool.SliceReader(
        conninfo=url.render_as_string(hide_password=False),
        connect_args=context.database.limits.libpq_options(),
        snapshot=repo.export_snapshot(session),
        statement=str(compiled),
        params=dict(compiled.params),
    )


def _cases_reader(session: Session, context: AppContext) -> verify_pool.CasesReader:
    dialect = session.get_bind().dialect
    compiled = [statement.compile(dialect=dialect)
                for statement in repo.case_statements(postgres=True, case_range=True)]  # fmt: skip
    return verify_pool.CasesReader(
        statements=tuple(str(c) for c in compiled),  # type: ignore[arg-type]
        params=tuple(dict(c.params) for c in compiled),  # type: ignore[arg-type]
        leads=grants.lead_table(context.registry.definitions()),
    )


def placements(checkpoints: list[Record]) -> list[tuple[int, Record]]:
    """Where each checkpoint goes in the log (as `interleave` places it): after the event its
    range ends with, and never before the checkpoint it follows."""
    placed: list[tuple[int, Record]] = []
    position: int | None = None
    for checkpoint in checkpoints:
        last = last_seq_of(checkpoint)
        position = last if position is None else max(position, last)
        placed.append((position, checkpoint))
    return placed


def plan_slices(
    positions: list[int],
    low: int | None,
    high: int | None,
    size: int,
    seq_after: Callable[[int], int | None],
) -> Iterator[tuple[int, int, list[int]]]:
    """Slices (after, upto, positions in it) of about `size` events, covering every event and
    every checkpoint position, each ending at a checkpoint position (so that no Merkle tree
    spans two) except after the last one; `seq_after(after)` is the seq of the `size`-th
    event after `after`."""
    after = min([0, *([] if low is None else [low]), *positions[:1]]) - 1
    end = max([0, *([] if high is None else [high]), *positions[-1:]])
    while after < end:
        boundary = seq_after(after)
        upto = end if boundary is None else boundary
        nearest = bisect.bisect_left(positions, upto)
        if nearest < len(positions):
            upto = positions[nearest]
        inside = positions[bisect.bisect_right(positions, after) : nearest + 1]
        yield after, upto, inside
        after = upto


def check_grants(session: Session, context: AppContext, skip: set[str]) -> Iterator[Broken]:
    """Each case's `case_ministry` and `case_unit` rows against what its events say (a second
    read of the case events, by case: memory stays one case's worth); a case whose stream is
    already reported broken (`skip`) is not reported again."""
    return grants.check_cases(
        repo.case_events_by_case(session), repo.case_ministry_rows(session),
        repo.case_unit_rows(session), lead_ministry(context), skip,
    )  # fmt: skip


def lead_ministry(context: AppContext) -> grants.LeadMinistry:
    return grants.lead_from(grants.lead_table(context.registry.definitions()))


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
