"""The legal track: criminal cases (perkara), their suspects and victims, and each victim's own
track (witness, court decision and restitution, LPSK). Owned by service/legal."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Index, LargeBinary
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

from service.models.base import BigIntegerPK, UTCDateTime, utcnow
from workflows.legal import STAGES, WITNESS_STATUSES

LPSK_PENDING = "lpsk_applied_on IS NOT NULL"


class CriminalCase(SQLModel, table=True):
    """One investigation (perkara): from the police report to the verdict or its end.

    `version` is the compare-and-set that keeps two writers from both changing the stage."""

    __tablename__ = "criminal_case"
    __table_args__ = (
        CheckConstraint(f"stage IN {STAGES!r}", name="stage"),
        Index("ix_criminal_case_reported", "reported_on", "province_code"),
    )

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    reference: str = Field(max_length=24, unique=True)
    police_report_number: str = Field(max_length=100, unique=True)
    police_unit_id: int = Field(foreign_key="unit.id", index=True)
    region_code: str = Field(max_length=5)  # where the offence was reported: "53" or "53.71"
    province_code: str = Field(max_length=2)
    stage: str = Field(max_length=16)
    reported_on: date
    spdp_on: date | None = None  # the prosecutor was notified (SPDP, KUHAP Art. 109(1))
    stage_on: date
    version: int = Field(default=1)
    created_by_id: int = Field(foreign_key="user_account.id")
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class CriminalCaseVictim(SQLModel, table=True):
    """A victim's case linked to a criminal case: the victim as a witness in it."""

    __tablename__ = "criminal_case_victim"

    criminal_case_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("criminal_case.id"), primary_key=True)
    )
    case_id: uuid.UUID = Field(
        sa_column=Column(
            ForeignKey("case_file.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )
    linked_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    linked_by_id: int = Field(foreign_key="user_account.id")


class Suspect(SQLModel, table=True):
    """A suspect of a criminal case: identity sealed like a victim's (AES-GCM under the data
    key, bound to the suspect's id), the rest in clear for counting."""

    __tablename__ = "suspect"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    criminal_case_id: uuid.UUID = Field(foreign_key="criminal_case.id", index=True)
    identity_ciphertext: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sex: str = Field(max_length=10)
    nationality: str = Field(max_length=2)
    role: str = Field(max_length=20)  # recruiter, transporter, ...
    added_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    added_by_id: int = Field(foreign_key="user_account.id")


class SuspectIdentityAccess(SQLModel, table=True):
    """Every time a suspect's identity was shown; append-only like `identity_access`."""

    __tablename__ = "suspect_identity_access"

    id: int | None = Field(default=None, sa_column=Column(BigIntegerPK, primary_key=True))
    criminal_case_id: uuid.UUID = Field(foreign_key="criminal_case.id", index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    username: str = Field(max_length=64)
    ministry: str | None = Field(default=None, max_length=20)
    role: str = Field(max_length=20)
    endpoint: str = Field(max_length=120)
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class LegalTrack(SQLModel, table=True):
    """A victim's legal track, as its events left it (the events are the record; this row is
    what guards, lists and the LPSK clock read)."""

    __tablename__ = "legal_track"
    __table_args__ = (
        CheckConstraint(f"witness_status IN {WITNESS_STATUSES!r}", name="witness_status"),
        Index(
            "ix_legal_track_lpsk_due",
            "lpsk_due_on",
            sqlite_where=LPSK_PENDING,
            postgresql_where=LPSK_PENDING,
        ),
    )

    case_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("case_file.id", ondelete="CASCADE"), primary_key=True)
    )
    witness_status: str = Field(default="not_needed", max_length=12)
    agreed_to_testify: bool | None = None  # None: not asked yet
    court_name: str | None = Field(default=None, max_length=120)
    court_decision_number: str | None = Field(default=None, max_length=100)
    court_decided_on: date | None = None
    restitution_amount_idr: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True)
    )
    restitution_status: str | None = Field(default=None, max_length=16)
    restitution_paid_idr: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True)
    )
    lpsk_applied_on: date | None = None
    lpsk_due_on: date | None = None
    lpsk_decision: str | None = Field(default=None, max_length=20)
    lpsk_decided_on: date | None = None
    # when the deadline job recorded the undecided application as late (once per application)
    lpsk_breach_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
