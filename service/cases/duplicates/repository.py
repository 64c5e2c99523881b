"""Every query of the duplicate search and its review list; visibility from cases/visibility."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, true, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from service.cases.visibility import visibility
from service.kit.principal import Principal
from service.models import CaseFile, DuplicateMatch, UserAccount, Victim, VictimBlock
from workflows.registry import Registry


@dataclass(frozen=True)
class Candidate:
    """What scoring needs of an earlier case: a few columns, not the whole row."""

    case_id: uuid.UUID
    reference: str
    province_of_origin: str | None
    sex: str
    age_at_intake: int | None
    created_at: datetime
    identity: bytes


def file_victim(
    session: Session, case_id: uuid.UUID, document_index: str | None, blocks: Iterable[str]
) -> None:
    """The victim's blind index and blocks, replacing any it had (intake, and `reindex`)."""
    session.execute(
        update(Victim).where(col(Victim.case_id) == case_id).values(document_index=document_index)
    )
    session.execute(delete(VictimBlock).where(col(VictimBlock.case_id) == case_id))
    session.add_all(VictimBlock(case_id=case_id, block=block) for block in sorted(set(blocks)))


def add_blocks(session: Session, case_id: uuid.UUID, blocks: Iterable[str]) -> None:
    session.add_all(VictimBlock(case_id=case_id, block=block) for block in sorted(set(blocks)))


def drop_blocks(session: Session, case_id: uuid.UUID) -> None:
    session.execute(delete(VictimBlock).where(col(VictimBlock.case_id) == case_id))


def candidates(
    session: Session,
    case_id: uuid.UUID,
    document_index: str | None,
    blocks: Iterable[str],
    limit: int,
) -> tuple[set[uuid.UUID], list[Candidate]]:
    """(ids whose document index equals, every candidate with its sealed identity): victims
    sharing the document (at most `limit`, the newest first) or a block (at most `limit` of
    those found by block alone, the most blocks shared first). Erased victims are no
    candidates."""
    same_document: set[uuid.UUID] = set()
    if document_index is not None:
        same_document = set(
            session.exec(
                select(Victim.case_id)
                .join(CaseFile, col(CaseFile.id) == col(Victim.case_id))
                .where(col(Victim.document_index) == document_index, col(Victim.case_id) != case_id)
                .order_by(col(CaseFile.created_at).desc())
                .limit(limit)
            ).all()
        )
    wanted = sorted(set(blocks))
    by_block: list[uuid.UUID] = []
    if wanted:
        shared = func.count()
        by_block = list(
            session.exec(
                select(VictimBlock.case_id)
                .where(col(VictimBlock.block).in_(wanted), col(VictimBlock.case_id) != case_id)
                .group_by(col(VictimBlock.case_id))
                .order_by(shared.desc(), col(VictimBlock.case_id))
                .limit(limit)
            ).all()
        )
    ids = same_document | set(by_block)
    if not ids:
        return same_document, []
    rows = session.execute(
        sa_select(
            col(CaseFile.id), col(CaseFile.reference), col(CaseFile.province_of_origin),
            col(CaseFile.sex), col(CaseFile.age_at_intake), col(CaseFile.created_at),
            col(Victim.identity_ciphertext),
        )
        .join(Victim, col(Victim.case_id) == CaseFile.id)
        .where(col(CaseFile.id).in_(sorted(ids)), col(Victim.identity_ciphertext).is_not(None))
    ).all()  # fmt: skip
    return same_document, [Candidate(*row) for row in rows]


def visible_ids(
    session: Session, principal: Principal, registry: Registry, ids: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    query = select(CaseFile.id).where(col(CaseFile.id).in_(wanted), visibility(principal, registry))
    return set(session.exec(query).all())


def add_matches(session: Session, matches: Iterable[DuplicateMatch]) -> None:
    session.add_all(matches)


REVIEW_BATCH = 200


@dataclass(frozen=True)
class MatchRow:
    match: DuplicateMatch
    new_case: CaseFile
    earlier_case: CaseFile
    decided_by: str | None


def review_page(
    session: Session,
    principal: Principal,
    registry: Registry,
    statuses: Sequence[str],
    after: int,
    fetch: int,
    case_id: uuid.UUID | None = None,
) -> list[MatchRow]:
    """Matches whose two cases the caller may both see (of one case, if given), by id. The
    matches are read in id order a batch at a time and the visibility of just their cases is
    asked in one query per batch (a `case_id IN (every visible case)` filter made PostgreSQL
    scan the whole case table for each page)."""
    rows: list[MatchRow] = []
    new, earlier = aliased(CaseFile), aliased(CaseFile)
    while len(rows) < fetch:
        batch = session.exec(
            select(DuplicateMatch, new, earlier, UserAccount.username)
            .join(new, col(new.id) == DuplicateMatch.case_id)
            .join(earlier, col(earlier.id) == DuplicateMatch.other_case_id)
            .outerjoin(UserAccount, col(UserAccount.id) == DuplicateMatch.decided_by_id)
            .where(
                col(DuplicateMatch.status).in_(list(statuses)),
                col(DuplicateMatch.id) > after,
                or_(
                    col(DuplicateMatch.case_id) == case_id,
                    col(DuplicateMatch.other_case_id) == case_id,
                )
                if case_id is not None
                else true(),
            )
            .order_by(col(DuplicateMatch.id))
            .limit(REVIEW_BATCH)
        ).all()
        if not batch:
            break
        ids = {row[1].id for row in batch} | {row[2].id for row in batch}
        visible = set(
            session.exec(
                select(CaseFile.id).where(
                    col(CaseFile.id).in_(list(ids)), visibility(principal, registry)
                )
            ).all()
        )
        for row in batch:
            if row[1].id in visible and row[2].id in visible:
                rows.append(MatchRow(*row))
        after = batch[-1][0].id or after
        if len(batch) < REVIEW_BATCH:
            break
    return rows[:fetch]


def match(session: Session, match_id: int) -> DuplicateMatch | None:
    return session.get(DuplicateMatch, match_id)


def decide(session: Session, match_id: int, status: str, user_id: int, at: datetime) -> bool:
    """Compare-and-set from `open`: false if another reviewer decided it first."""
    done = session.execute(
        update(DuplicateMatch)
        .where(col(DuplicateMatch.id) == match_id, col(DuplicateMatch.status) == "open")
        .values(status=status, decided_by_id=user_id, decided_at=at)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(done, "rowcount", 0) == 1)


def linked(session: Session, case_id: uuid.UUID) -> list[DuplicateMatch]:
    query = (
        select(DuplicateMatch)
        .where(
            col(DuplicateMatch.status) == "linked",
            or_(
                col(DuplicateMatch.case_id) == case_id, col(DuplicateMatch.other_case_id) == case_id
            ),
        )
        .order_by(col(DuplicateMatch.id))
    )
    return list(session.exec(query).all())


def references(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.exec(
        select(CaseFile.id, CaseFile.reference).where(col(CaseFile.id).in_(wanted))
    ).all()
    return dict(rows)


def victims_after(
    session: Session, after: uuid.UUID | None, limit: int
) -> list[tuple[CaseFile, bytes | None]]:
    """The next `limit` cases by id with their sealed identities (for `reindex`)."""
    query = select(CaseFile, Victim.identity_ciphertext).join(
        Victim, col(Victim.case_id) == CaseFile.id
    )
    if after is not None:
        query = query.where(col(CaseFile.id) > after)
    return [
        (case, sealed)
        for case, sealed in session.exec(query.order_by(col(CaseFile.id)).limit(limit)).all()
    ]
