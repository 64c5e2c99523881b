"""Mass arrivals: the arrival record, a manifest's per-row report, and group decisions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from schemas.common import CountryCode, PastDate, StrictModel, examples
from schemas.duplicate import IntakeWarning


class ArrivalCreate(StrictModel):
    model_config = examples(
        {
            "arrival_date": "2025-03-18",
            "place": "Bandara Soekarno-Hatta",
            "source_country": "MM",
            "operation_name": "Pemulangan Myawaddy gelombang 2",
        }
    )

    arrival_date: PastDate
    place: str = Field(min_length=1, max_length=200, description="port or airport of arrival")
    source_country: CountryCode = Field(description="where they came from (ISO 3166 alpha-2)")
    operation_name: str = Field(min_length=1, max_length=200)
    unit: str | None = Field(
        default=None, max_length=40, description="the receiving unit's code; default: yours"
    )


class ArrivalRead(BaseModel):
    id: str
    arrival_date: date
    place: str
    source_country: str
    operation_name: str
    unit: str = Field(description="the unit that received them")
    ministry: str
    created_by: str
    created_at: datetime
    cases_imported: int = Field(description="manifest rows that became cases (all, visible or not)")


class ArrivalPage(BaseModel):
    items: list[ArrivalRead]
    next_cursor: str | None


class ArrivalCaseRead(BaseModel):
    """A case of the arrival that the caller may see; no identity."""

    id: str
    reference: str
    state: str
    phase: str
    ministry: str
    version: int
    due_at: datetime | None
    is_child: bool


class ArrivalCasePage(BaseModel):
    items: list[ArrivalCaseRead]
    next_cursor: str | None


class RowProblem(BaseModel):
    row: int = Field(description="the row as the spreadsheet numbers it (the header is row 1)")
    column: str | None = Field(description="the manifest column, or null for the whole row")
    message: str


class RowResult(BaseModel):
    row: int
    outcome: Literal["created", "already_imported"]
    case_id: str | None
    reference: str | None
    warnings: list[IntakeWarning] = Field(
        default_factory=list,
        description="what intake flagged but did not refuse (possible duplicates the caller "
        "may see)",
    )


class ManifestReport(BaseModel):
    arrival_id: str
    rows_total: int
    created: int
    already_imported: int
    refused: int
    problems: list[RowProblem] = Field(description="per row and column; capped, see the totals")
    problems_total: int
    problems_truncated: bool
    results: list[RowResult] = Field(description="per imported row; capped like problems")


GroupOutcome = Literal["moved", "pending_approval", "approved", "rejected", "refused"]


class GroupTransitionRequest(StrictModel):
    model_config = examples(
        {
            "arrival_id": "8d0c5a8e-1b36-4bb4-9e39-0d6f1f2b6c11",
            "trigger": "begin_screening",
            "payload": {},
            "note": "screened at the arrival hall",
        },
        {"case_ids": ["8d0c5a8e-1b36-4bb4-9e39-0d6f1f2b6c11"], "trigger": "identify",
         "payload": {"indicators": ["deceptive_recruitment", "exploitation"]},
         "expected_versions": {"8d0c5a8e-1b36-4bb4-9e39-0d6f1f2b6c11": 2}},
    )  # fmt: skip

    case_ids: list[str] | None = Field(default=None, min_length=1, max_length=2000)
    arrival_id: str | None = Field(default=None, max_length=64)
    trigger: str = Field(min_length=1, max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict)
    note: str | None = Field(default=None, max_length=4000)
    expected_versions: dict[str, int] = Field(
        default_factory=dict, description="case id -> the version the caller last saw (optional)"
    )

    @model_validator(mode="after")
    def _one_selection(self) -> GroupTransitionRequest:
        if (self.case_ids is None) == (self.arrival_id is None):
            raise ValueError("give case_ids or arrival_id, not both")
        return self


class GroupCaseResult(BaseModel):
    case_id: str
    reference: str | None = Field(
        default=None, description="the case's reference, where the answer lists a case one may see"
    )
    outcome: GroupOutcome
    version: int | None = None
    state: str | None = None
    code: str | None = Field(default=None, description="why it was refused (an error code)")
    detail: str | None = None


class GroupDecisionRead(BaseModel):
    id: str
    trigger: str
    status: str = Field(description="pending, approved or rejected; `none` if nothing waits")
    ministry: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    moved: int
    pending: int
    approved: int
    rejected: int
    refused: int
    results: list[GroupCaseResult]


class GroupDecide(StrictModel):
    model_config = examples({"reason": "checked the screening record of every returnee"})

    reason: str = Field(min_length=1, max_length=2000)
