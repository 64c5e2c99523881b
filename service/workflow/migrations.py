"""Migrating running cases from one published version of a workflow to another.

`plan` is the dry run: in one read-only snapshot, every case pinned to the source version and
what the reviewed mapping would do with it. `apply` moves them case by case, each in its own
transaction with the compare-and-set on the case's version read at the start: a case changed
meanwhile is reported and skipped (run again), never half-moved. A case that stays (unmapped,
closed, held by a request or a hand-over the target cannot honour) is left as it is, and the
same mapping applied again moves nothing more. The apply needs the dry run's checksum, so what
moves is what was reviewed.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from functools import partial
from typing import Any

from sqlmodel import Session

from schemas.workflow import CaseMigrationRead, MigrationOutcome, MigrationRead
from service.cases import migration as cases
from service.kit.context import AppContext
from service.kit.errors import ChecksumMismatch, Conflict, InvalidMapping, NotFound
from service.kit.principal import Principal
from service.service_requests import service as service_requests
from workflows import Definition
from workflows.migration import Decision, MappingFile, MappingInvalid, check_mapping, parse_mapping


def prepare(
    context: AppContext, name: str, raw: Any, field: str = "mapping"
) -> tuple[MappingFile, Definition, Definition]:
    """The mapping parsed and checked against both published definitions; 422
    `invalid_mapping` naming the field (`mapping.states.sheltered`) otherwise."""
    try:
        mapping = parse_mapping(raw)
        if mapping.source.name != name:
            wrong = mapping.source.name
            raise MappingInvalid("from.name", f"this migrates {name!r}, not {wrong!r}")
        source = _published(context, mapping.source.name, mapping.source.version, "from")
        target = _published(context, mapping.to.name, mapping.to.version, "to")
        check_mapping(mapping, source, target)
    except MappingInvalid as exc:
        raise InvalidMapping(f"{field}.{exc}" if field else str(exc)) from exc
    return mapping, source, target


def plan(
    session: Session,
    context: AppContext,
    name: str,
    raw: Any,
    case_ids: Sequence[uuid.UUID] | None = None,
    field: str = "mapping",
) -> MigrationRead:
    """The dry run: what would move where, and what would stay and why. Writes nothing."""
    mapping, source, target = prepare(context, name, raw, field)
    items = [
        _item(c.id, c.reference, cases.decision_for(mapping, source, target, c), "would_move")
        for c in cases.candidates(session, source, case_ids)
    ]
    return _answer(mapping, items, dry_run=True)


def apply(
    context: AppContext,
    actor: Principal,
    name: str,
    raw: Any,
    checksum: str | None,
    case_ids: Sequence[uuid.UUID] | None = None,
    field: str = "mapping",
) -> MigrationRead:
    """Move the cases one transaction each; the answer says what became of each."""
    mapping, source, target = prepare(context, name, raw, field)
    if checksum != mapping.checksum:
        raise ChecksumMismatch(
            f"checksum: give the dry run's checksum to apply; this mapping's is {mapping.checksum}"
        )
    with context.database.snapshot() as session:
        listed = cases.candidates(session, source, case_ids)
    items = []
    for case in listed:
        try:
            with context.database.transaction() as session:
                moved = cases.migrate_case(
                    session,
                    context,
                    actor,
                    case.id,
                    case.version,
                    mapping,
                    source,
                    target,
                    open_services=partial(service_requests.open_migrated, session, context, actor),
                )
        except Conflict as exc:
            stays = Decision(case.state, None, refusal="changed", reason=str(exc.detail))
            items.append(_item(case.id, case.reference, stays, "skipped"))
            continue
        except NotFound as exc:
            stays = Decision(case.state, None, refusal="not_on_source", reason=str(exc.detail))
            items.append(_item(case.id, case.reference, stays, "skipped"))
            continue
        items.append(_item(case.id, case.reference, moved.decision, "moved", moved.event_seq))
    return _answer(mapping, items, dry_run=False)


def _published(context: AppContext, name: str, version: int, side: str) -> Definition:
    engine = context.registry.engines.get((name, version))
    if engine is None:
        raise MappingInvalid(f"{side}.version", f"{name} v{version} is not published")
    return engine.definition


def _item(
    case_id: uuid.UUID,
    reference: str,
    decision: Decision,
    outcome: MigrationOutcome,
    seq: int | None = None,
) -> CaseMigrationRead:
    """`outcome` is what became of a case that moves (or was skipped); one that the mapping
    leaves where it is is `refused`."""
    return CaseMigrationRead(
        case_id=str(case_id),
        reference=reference,
        from_state=decision.from_state,
        to_state=decision.to_state,
        outcome=outcome if decision.moves or outcome == "skipped" else "refused",
        code=decision.refusal,
        reason=decision.reason,
        services=list(decision.services),
        event_seq=seq,
    )


def _answer(mapping: MappingFile, items: list[CaseMigrationRead], dry_run: bool) -> MigrationRead:
    return MigrationRead(
        workflow=mapping.source.name,
        from_version=mapping.source.version,
        to_version=mapping.to.version,
        checksum=mapping.checksum,
        dry_run=dry_run,
        counts=dict(Counter(item.outcome for item in items)),
        cases=items,
    )
