"""Possible duplicate victims: the intake's warnings and the reviewers' list."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from typing_extensions import TypeAliasType

MatchStatus = TypeAliasType("MatchStatus", Literal["open", "linked", "dismissed"])
MatchBasis = TypeAliasType("MatchBasis", Literal["document", "name"])


class IntakeWarning(BaseModel):
    """A case the caller may see whose victim may be the one just registered. Matches in cases
    the caller may not see are never named here: they wait in the review list."""

    kind: Literal["possible_duplicate"] = "possible_duplicate"
    case_id: str
    reference: str
    score: int = Field(description="0-100; 100 when the identity documents are equal")
    basis: MatchBasis


class MatchedCase(BaseModel):
    """One side of a match, without the identity (open the case to compare: the look is logged)."""

    id: str
    reference: str
    state: str
    ministry: str
    province_of_origin: str | None


class DuplicateMatchRead(BaseModel):
    id: int
    score: int
    basis: MatchBasis
    status: MatchStatus
    found_at: datetime
    new_case: MatchedCase = Field(description="the case whose intake found the match")
    earlier_case: MatchedCase
    decided_by: str | None
    decided_at: datetime | None


class DuplicateMatchPage(BaseModel):
    items: list[DuplicateMatchRead]
    next_cursor: str | None = None


class LinkedCaseRead(BaseModel):
    """Another referral of the same person (a reviewer linked the two cases)."""

    match_id: int
    case_id: str
    reference: str
    linked_at: datetime | None


class LinkedCasesRead(BaseModel):
    items: list[LinkedCaseRead]
