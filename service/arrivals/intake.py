"""Bulk intake: a manifest's rows become cases of an arrival, each through the single intake.

Every row is read like the referral form (`cases/intake_form.read_intake`), validated by
`CaseCreate` and registered by `cases.service.register_case`, the use case behind
`POST /api/v1/cases`: what single intake checks or warns about, bulk intake does too.

Transactions: rows are imported in batches of `BATCH_ROWS`, one transaction per batch (one
commit, one round of the caller's session check), each row inside its own savepoint. A row that
the intake refuses rolls back alone; a crash loses at most the batch in flight. Each imported
row's keyed hash is claimed (`insert_if_absent`) in the same savepoint as its case, so a second
upload of the file, whole or after a crash, finds the rows already taken (one query per batch)
and makes no second case; two uploads at once both make the case, and the second's claim, which
waits for the first's commit, finds it taken and rolls its own row back. The file is read as
a stream: memory does not grow with its length (see bench/).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any, TypeVar

from pydantic import ValidationError
from sqlmodel import Session

from schemas.arrival import ManifestReport, RowProblem, RowResult
from schemas.case import CaseCreate
from schemas.duplicate import IntakeWarning
from service.arrivals import repository as repo
from service.arrivals.manifest import BY_HEADER, Cell, open_manifest
from service.arrivals.service import existing
from service.cases import service as cases
from service.cases.intake_form import read_intake
from service.kit.canonical_json import canonical_json
from service.kit.context import AppContext
from service.kit.db import insert_if_absent
from service.kit.errors import DomainError, Forbidden, ManifestTooLarge
from service.kit.principal import Principal
from service.models import ManifestRow

T = TypeVar("T")
UseCase = Callable[[Session, AppContext, Principal], T]
Runner = Callable[[UseCase[Any]], Any]  # `Run.now`: one unit of work per call
BATCH_ROWS = 100
MAX_REPORTED = 1000  # problems and results listed; the totals count them all
_KEY_LABEL = b"nrm/manifest-row/v1"
_SEX = {"perempuan": "female", "p": "female", "wanita": "female", "laki-laki": "male",
        "laki laki": "male", "l": "male", "pria": "male", "lainnya": "other",
        "tidak diketahui": "unknown"}  # fmt: skip
_YES = ("ya", "y", "yes", "true", "1")
_NO = ("tidak", "t", "no", "false", "0")
_YES_NO = {word: "true" for word in _YES} | {word: "false" for word in _NO}
_FIELD_TO_HEADER = {c.field: c.header for c in BY_HEADER.values()} | {
    "victim.identity_document": "nomor_dokumen",  # a NIK of the wrong length
    "victim.contact": "telepon",
}


@dataclass
class ValidRow:
    number: int
    data: CaseCreate
    key: str


@dataclass
class Tally:
    rows_total: int = 0
    created: int = 0
    already_imported: int = 0
    refused: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    problems_total: int = 0
    results: list[RowResult] = field(default_factory=list)

    def problem(self, row: int, column: str | None, message: str) -> None:
        self.problems_total += 1
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(RowProblem(row=row, column=column, message=message))

    def result(self, result: RowResult) -> None:
        if result.outcome == "created":
            self.created += 1
        else:
            self.already_imported += 1
        if len(self.results) < MAX_REPORTED:
            self.results.append(result)


def import_manifest(
    run: Runner,
    arrival_id: str,
    file: IO[bytes],
    size: int,
    *,
    max_bytes: int,
    endpoint: str,
    progress: Callable[[int], None] | None = None,
) -> ManifestReport:
    """Import a manifest into an arrival; the report lists every refused row (capped)."""
    if size > max_bytes:
        raise ManifestTooLarge(f"file: {size} bytes; a manifest may have at most {max_bytes}")
    secret = run(
        lambda session, context, principal: _start(session, context, principal, arrival_id)
    )
    manifest = open_manifest(file)  # refuses the whole file (columns, format) before any write
    tally, batch, arrival = Tally(), list[ValidRow](), uuid.UUID(arrival_id)

    def flush_batch() -> None:
        if batch:
            run(lambda s, c, p: _import(s, c, p, arrival, list(batch), tally, endpoint))
            batch.clear()
            if progress is not None:
                progress(tally.rows_total)

    try:
        for number, row_cells, problems in manifest.rows():
            tally.rows_total += 1
            valid = _validate(number, row_cells, problems, tally, secret, arrival)
            if valid is not None:
                batch.append(valid)
            if len(batch) >= BATCH_ROWS:
                flush_batch()
        flush_batch()
    finally:
        manifest.close()
    if progress is not None:
        progress(tally.rows_total)
    return ManifestReport(
        arrival_id=arrival_id, rows_total=tally.rows_total, created=tally.created,
        already_imported=tally.already_imported, refused=tally.refused, problems=tally.problems,
        problems_total=tally.problems_total,
        problems_truncated=tally.problems_total > len(tally.problems), results=tally.results,
    )  # fmt: skip


def _start(session: Session, context: AppContext, principal: Principal, arrival_id: str) -> bytes:
    """The arrival exists and the caller may register cases: the row-key secret."""
    if not principal.works_cases or principal.ministry is None:
        raise Forbidden("only case workers and supervisors of a ministry register referrals")
    existing(session, principal, arrival_id)
    return hmac.new(context.settings.keys.secret_key.encode(), _KEY_LABEL, hashlib.sha256).digest()


def _validate(
    number: int,
    row_cells: list[Cell],
    problems: list[str],
    tally: Tally,
    secret: bytes,
    arrival: uuid.UUID,
) -> ValidRow | None:
    if problems:
        tally.refused += 1
        for message in problems:
            column, _, text = message.partition(": ")
            tally.problem(
                number,
                column if column in BY_HEADER else None,
                text if column in BY_HEADER else message,
            )
        return None
    body = row_to_intake(row_cells)
    try:
        data = CaseCreate.model_validate(body)
    except ValidationError as exc:
        tally.refused += 1
        for error in exc.errors(include_url=False):
            where = ".".join(str(part) for part in error["loc"])
            tally.problem(
                number, _column_of(where), f"{where}: {error['msg']}" if where else error["msg"]
            )
        return None
    normal = canonical_json({"arrival": str(arrival), "row": data.model_dump(mode="json")})
    return ValidRow(number, data, hmac.new(secret, normal, hashlib.sha256).hexdigest())


def row_to_intake(row_cells: list[Cell]) -> dict[str, Any]:
    """The intake body of a row, read like the referral form's fields."""
    values: dict[str, str] = {}
    for cell in row_cells:
        value = cell.value
        if cell.column.field == "victim.sex":
            value = _SEX.get(value.lower(), value.lower())
        elif cell.column.field in ("victim.presumed_child", "victim.has_disability"):
            value = _YES_NO.get(value.lower(), value)
        elif cell.column.field in ("victim.nationality", "victim.identity_document.issuing_country",
                                   "referral.country_of_exploitation"):  # fmt: skip
            value = value.upper()
        values[cell.column.field] = value

    def listed(name: str) -> list[str]:
        return [part.strip() for part in values.get(name, "").split(",") if part.strip()]

    return read_intake(lambda name: values.get(name, ""), listed)


def _column_of(where: str) -> str | None:
    """The manifest column of an intake field (`victim.birth_date` -> `tanggal_lahir`)."""
    while where:
        if where in _FIELD_TO_HEADER:
            return _FIELD_TO_HEADER[where]
        where = where.rpartition(".")[0]
    return None


def _import(
    session: Session,
    context: AppContext,
    principal: Principal,
    arrival: uuid.UUID,
    rows: list[ValidRow],
    tally: Tally,
    endpoint: str,
) -> None:
    taken = repo.imported_cases(session, arrival, [row.key for row in rows])  # one query
    for row in rows:
        if row.key in taken:
            tally.result(_already(row, taken[row.key]))
            continue
        try:
            with session.begin_nested():
                result = _import_row(session, context, principal, arrival, row, endpoint)
        except _TakenMeanwhile:  # a concurrent upload of the same row committed first
            result = _already(row, repo.imported_case(session, arrival, row.key))
        except DomainError as exc:
            tally.refused += 1
            tally.problem(row.number, None, str(exc.detail))
            continue
        tally.result(result)


class _TakenMeanwhile(Exception):
    """Rolls the row's savepoint back: its case is not kept, the other upload's is."""


def _import_row(
    session: Session,
    context: AppContext,
    principal: Principal,
    arrival: uuid.UUID,
    row: ValidRow,
    endpoint: str,
) -> RowResult:
    """The case, then the row's claim with it: on PostgreSQL a concurrent claim of the same row
    waits for the other transaction and then finds it taken (`insert_if_absent`)."""
    answer = cases.register_case(
        session, context, principal, row.data, endpoint=endpoint, reveal=False
    )
    body = answer.body
    claim = {"arrival_id": arrival, "row_key": row.key, "case_id": uuid.UUID(body["id"]),
             "imported_at": context.clock()}  # fmt: skip
    if not insert_if_absent(session, ManifestRow.__table__, claim):  # type: ignore[attr-defined]
        raise _TakenMeanwhile()
    return RowResult(
        row=row.number, outcome="created", case_id=body["id"], reference=body["reference"],
        warnings=[IntakeWarning.model_validate(w) for w in body.get("warnings", [])],
    )  # fmt: skip


def _already(row: ValidRow, case_id: uuid.UUID | None) -> RowResult:
    return RowResult(
        row=row.number, outcome="already_imported", case_id=str(case_id) if case_id else None,
        reference=None,
    )  # fmt: skip
