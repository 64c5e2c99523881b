"""Duplicate victims: found at intake, reviewed later. Each use case is one unit of work.

At intake the newcomer's blind index and blocks are filed, the victims sharing the document or
a block (a small set) are decrypted and scored, and each score at or above THRESHOLD becomes an
open match in the review list. The intake's answer names only the matched cases the caller may
see: nobody learns from a warning that a case they may not see exists.

Who reviews: a supervisor who may see both cases (cases/visibility.py). KEMENPPPA leads the
initial state of the national mechanism, so its supervisors see every case and every match;
another ministry's supervisors see the matches between cases their ministry handled.
Linking records one person with two referrals; both link and dismissal are an event on both
cases' streams, in the same transaction, and name only the match (never the other case).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from schemas.auth import Role
from schemas.duplicate import (
    DuplicateMatchPage,
    DuplicateMatchRead,
    IntakeWarning,
    LinkedCaseRead,
    LinkedCasesRead,
    MatchedCase,
    MatchStatus,
)
from schemas.victim import VictimCreate
from service.audit.log import append_case_event
from service.cases import repository as cases_repo
from service.cases.duplicates import blind_index, matching
from service.cases.duplicates import repository as repo
from service.cases.duplicates.repository import Candidate
from service.kit.context import AppContext
from service.kit.errors import Forbidden, MatchDecided, NotFound
from service.kit.paging import Paging, scope_of
from service.kit.principal import Principal
from service.models import CaseFile, DuplicateMatch, Victim

# The best F1 on 10,000 generated people with realistic variants (bench/people.py, seed 13),
# checked on another 10,000 (seed 2026): `python -m bench.duplicates`, bench/RESULTS.md.
THRESHOLD = 82
MAX_CANDIDATES = 200  # victims decrypted per intake at most, those sharing most blocks first
# matches recorded per intake at most, the best scores first (then the newest earlier case): a
# newcomer like hundreds of earlier victims (a placeholder document number, one person entered
# again and again) would otherwise write a row per earlier case on every intake, and a reviewer
# learns nothing from the 21st identical pair that the first 20 did not show
MAX_MATCHES = 20
REVIEW_PAGE_MAX = 100


def on_intake(
    session: Session,
    context: AppContext,
    principal: Principal,
    case: CaseFile,
    row: Victim,
    victim: VictimCreate,
) -> list[IntakeWarning]:
    """File the new victim's index and blocks; record each likely duplicate as an open match;
    warn of those the caller may see. Never refuses: the intake goes on whatever is found."""
    key = context.settings.keys.index_key
    names = [victim.full_name, *victim.other_names]
    year = _birth_year(victim.birth_date, victim.age_estimate, case.created_at)
    document = victim.identity_document
    index = blind_index.document_index(key, document.kind, document.number) if document else None
    row.document_index = index
    repo.add_blocks(session, case.id, blind_index.blocks(key, names, year, case.province_of_origin))
    search = blind_index.search_blocks(key, names, year, case.province_of_origin)
    same_document, found = repo.candidates(session, case.id, index, search, MAX_CANDIDATES)
    newcomer = matching.person(
        victim.full_name, victim.other_names, victim.birth_date, year,
        case.province_of_origin, victim.sex,
    )  # fmt: skip
    scored: list[tuple[int, str, Candidate]] = []
    for candidate in found:
        if candidate.case_id in same_document:
            score, basis = 100, "document"
        else:
            try:
                earlier = _person(context, candidate)
            except ValueError:  # sealed under a key no longer held: no reason to refuse intake
                continue
            score, basis = matching.score(newcomer, earlier), "name"
        if score >= THRESHOLD:
            scored.append((score, basis, candidate))
    if not scored:
        return []
    scored.sort(key=lambda found: (-found[0], -found[2].created_at.timestamp()))
    matches = [
        (DuplicateMatch(case_id=case.id, other_case_id=candidate.case_id, score=score,
                        basis=basis, found_at=case.created_at), candidate.reference)
        for score, basis, candidate in scored[:MAX_MATCHES]
    ]  # fmt: skip
    repo.add_matches(session, [match for match, _ in matches])
    others = [match.other_case_id for match, _ in matches]
    seen = repo.visible_ids(session, principal, context.registry, others)
    return [
        IntakeWarning(case_id=str(m.other_case_id), reference=reference, score=m.score,
                      basis=m.basis)
        for m, reference in matches
        if m.other_case_id in seen
    ]  # fmt: skip


def review_list(
    session: Session,
    context: AppContext,
    principal: Principal,
    status: MatchStatus | None = None,
    cursor: str | None = None,
    limit: int | None = None,
    case_id: uuid.UUID | None = None,
) -> DuplicateMatchPage:
    """The matches the caller may review (both cases visible to them), oldest first; `status`
    filters (default: open), `case_id` keeps the matches of one case."""
    _reviewer(principal)
    chosen = status or "open"
    paging = Paging.of(
        context.settings.keys.secret_key,
        scope_of(list="duplicates", user=principal.user_id, status=chosen,
                 case=case_id.hex if case_id else ""),
        cursor, limit or REVIEW_PAGE_MAX, REVIEW_PAGE_MAX,
    )  # fmt: skip
    rows = repo.review_page(
        session,
        principal,
        context.registry,
        [chosen],
        paging.after_number(),
        paging.fetch,
        case_id,
    )
    page, next_cursor = paging.page(rows, lambda row: [row.match.id or 0])
    return DuplicateMatchPage(items=[_read(row) for row in page], next_cursor=next_cursor)


def link(
    session: Session, context: AppContext, principal: Principal, match_id: int, endpoint: str
) -> DuplicateMatchRead:
    """Same person: one victim, two referrals."""
    return _decide(session, context, principal, match_id, "linked")


def dismiss(
    session: Session, context: AppContext, principal: Principal, match_id: int, endpoint: str
) -> DuplicateMatchRead:
    """Two people: the match leaves the review list."""
    return _decide(session, context, principal, match_id, "dismissed")


def linked_cases(
    session: Session, context: AppContext, principal: Principal, case_id: str
) -> LinkedCasesRead:
    """The case's other referrals of the same person, those the caller may see."""
    case = _readable(session, context, principal, case_id)
    links = repo.linked(session, case.id)
    others = {m.id: (m.other_case_id if m.case_id == case.id else m.case_id) for m in links}
    seen = repo.visible_ids(session, principal, context.registry, others.values())
    names = repo.references(session, seen)
    return LinkedCasesRead(
        items=[
            LinkedCaseRead(match_id=m.id or 0, case_id=str(others[m.id]),
                           reference=names[others[m.id]], linked_at=m.decided_at)
            for m in links
            if others[m.id] in seen
        ]
    )  # fmt: skip


@dataclass
class Reindexed:
    examined: int = 0
    erased: int = 0


def reindex(context: AppContext, batch: int = 500) -> Reindexed:
    """Every victim's blind index and blocks computed again under the current index key (after
    NRM_INDEX_KEY changed, or the data key it is derived from; and for cases registered before
    the index existed). Batches of `batch` cases, each a short transaction; safe to run again."""
    report = Reindexed()
    key = context.settings.keys.index_key
    after: uuid.UUID | None = None
    while True:
        with context.database.transaction() as session:
            rows = repo.victims_after(session, after, batch)
            for case, sealed in rows:
                report.examined += 1
                if sealed is None:
                    report.erased += 1
                    repo.file_victim(session, case.id, None, ())
                    continue
                identity = context.cipher.decrypt(sealed, case.id.bytes)
                names = [identity.get("full_name") or "", *(identity.get("other_names") or [])]
                year = _identity_person(identity, case.age_at_intake, case.created_at,
                                        case.province_of_origin, case.sex).birth_year  # fmt: skip
                document = identity.get("identity_document") or None
                index = (
                    blind_index.document_index(key, document["kind"], document["number"])
                    if document
                    else None
                )
                blocks = blind_index.blocks(key, names, year, case.province_of_origin)
                repo.file_victim(session, case.id, index, blocks)
        if len(rows) < batch:
            return report
        after = rows[-1][0].id


MAX_MATCH_ID = 2**31 - 1  # duplicate_match.id is an INTEGER


def _decide(
    session: Session, context: AppContext, principal: Principal, match_id: int, status: str
) -> DuplicateMatchRead:
    _reviewer(principal)
    assert principal.user_id is not None
    # an id past the column's range (a page's path is not bounded like the API's) is no match
    match = repo.match(session, match_id) if 1 <= match_id <= MAX_MATCH_ID else None
    if match is None:
        raise NotFound("match not found")
    # 404 unless the caller may see both cases: a match is no oracle of a case's existence
    new = _readable(session, context, principal, str(match.case_id), "match not found")
    earlier = _readable(session, context, principal, str(match.other_case_id), "match not found")
    now = context.clock()
    if match.status != "open" or not repo.decide(session, match_id, status, principal.user_id, now):
        raise MatchDecided("match_id: this match was already linked or dismissed")
    kind = "duplicate_linked" if status == "linked" else "duplicate_dismissed"
    for case in (new, earlier):
        append_case_event(
            session, case, actor=principal, at=now, kind=kind, to_state=None,
            payload={"match": match_id, "score": match.score, "basis": match.basis},
        )  # fmt: skip
    session.flush()
    session.refresh(match)
    return _read(repo.MatchRow(match, new, earlier, principal.username))


def _readable(
    session: Session,
    context: AppContext,
    principal: Principal,
    case_id: str,
    message: str = "case not found",
) -> CaseFile:
    loaded = cases_repo.load_readable(
        session, principal, context.registry, case_id, context.clock()
    )
    if loaded is None:
        raise NotFound(message)
    return loaded.case


def _reviewer(principal: Principal) -> None:
    if principal.role != Role.SUPERVISOR or not principal.works_cases:
        raise Forbidden("only supervisors review possible duplicates")


def _read(row: repo.MatchRow) -> DuplicateMatchRead:
    m = row.match
    return DuplicateMatchRead(
        id=m.id or 0, score=m.score, basis=m.basis, status=m.status,
        found_at=m.found_at, new_case=_side(row.new_case), earlier_case=_side(row.earlier_case),
        decided_by=row.decided_by, decided_at=m.decided_at,
    )  # fmt: skip


def _side(case: CaseFile) -> MatchedCase:
    return MatchedCase(
        id=str(case.id), reference=case.reference, state=case.state, ministry=case.ministry,
        province_of_origin=case.province_of_origin,
    )  # fmt: skip


def _person(context: AppContext, candidate: repo.Candidate) -> matching.Person:
    identity = context.cipher.decrypt(candidate.identity, candidate.case_id.bytes)
    return _identity_person(
        identity, candidate.age_at_intake, candidate.created_at,
        candidate.province_of_origin, candidate.sex,
    )  # fmt: skip


def _identity_person(
    identity: dict[str, Any],
    age_at_intake: int | None,
    created_at: datetime,
    province: str | None,
    sex: str,
) -> matching.Person:
    raw = identity.get("birth_date")
    birth = date.fromisoformat(raw) if raw else None
    year = birth.year if birth else _year_from_age(age_at_intake, created_at)
    return matching.person(
        identity.get("full_name") or "", identity.get("other_names"), birth, year, province, sex
    )


def _birth_year(birth: date | None, age_estimate: int | None, at: datetime) -> int | None:
    if birth is not None:
        return birth.year
    return _year_from_age(age_estimate, at)


def _year_from_age(age: int | None, at: datetime) -> int | None:
    return at.year - age if age is not None else None
