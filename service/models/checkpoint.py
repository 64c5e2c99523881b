from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Integer
from sqlmodel import Field, SQLModel

from service.models.base import UTCDateTime


class AuditCheckpoint(SQLModel, table=True):
    """A signed Merkle root over the events with first_seq <= seq <= last_seq
    (service/audit/integrity/signing.py).

    Append-only like the log. The checkpoints form one chain: `number` is the previous number
    plus one, and `prev_hash` is unique, so two writers racing can never fork it.
    """

    __tablename__ = "audit_checkpoint"
    __table_args__ = (
        CheckConstraint("number >= 1", name="number"),
        CheckConstraint("last_seq >= first_seq", name="range"),
        CheckConstraint("event_count >= 1", name="event_count"),
    )

    number: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    first_seq: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True))
    last_seq: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True))
    event_count: int
    root: str = Field(max_length=64)
    prev_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    key_id: str = Field(max_length=16)
    hash: str = Field(max_length=64, unique=True)
    signature: str = Field(max_length=128)
    # The identity-access seal (format /2; null on checkpoints sealed before it existed): the
    # `identity_access` rows with ids after the previous seal's `access_last_id`, up to this one.
    access_last_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    access_count: int | None = Field(default=None, sa_column=Column(Integer))
    access_root: str | None = Field(default=None, max_length=64)


class AuditWitness(SQLModel, table=True):
    """How far a witness that cannot be read back (the webhook) has received the checkpoints.

    Only a delivery mark, not a record of trust: lowered by anyone, it makes the job send
    checkpoints again, which a witness accepts as repeats (service/audit/witness.py).
    """

    __tablename__ = "audit_witness"

    name: str = Field(primary_key=True, max_length=20)
    number: int = Field(sa_column=Column(Integer, nullable=False))
    published_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
