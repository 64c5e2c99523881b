"""The auditor's views: verification, checkpoints, inclusion proofs, event search.

Instants that are hashed or signed (`at`, `created_at`) are given as their canonical text
(RFC 3339 UTC, microseconds, "Z"), so that anyone can recompute hashes from the JSON as given.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class BrokenRead(BaseModel):
    code: str = Field(description="what is wrong, e.g. hash_mismatch, stream_gap, head_mismatch")
    reason: str
    seq: int | None = Field(description="the event where the problem shows")
    stream: str | None
    stream_seq: int | None
    case_id: str | None
    checkpoint: int | None
    line: int | None = Field(default=None, description="the line of an export file")


class VerifyRead(BaseModel):
    ok: bool
    events_checked: int
    first_broken: BrokenRead | None = Field(description="the problem with the lowest seq")
    checkpoints_checked: int
    streams_checked: int
    unsealed_events: int = Field(description="events after the last checkpoint")
    problem_count: int
    problems: list[BrokenRead] = Field(description="the first problems found (at most 100)")


class PublicKeyRead(BaseModel):
    algorithm: Literal["Ed25519"] = "Ed25519"
    key_id: str
    public_key: str = Field(description="the raw 32-byte key in url-safe base64")
    pem: str


class CheckpointRead(BaseModel):
    format: str
    number: int
    first_seq: int
    last_seq: int
    event_count: int
    root: str
    prev_hash: str
    created_at: str
    key_id: str
    hash: str
    signature: str
    access_last_id: int | None = Field(
        default=None, description="format /2: the highest identity_access row id sealed"
    )
    access_count: int | None = Field(
        default=None, description="format /2: the identity_access rows this checkpoint seals"
    )
    access_root: str | None = Field(
        default=None, description="format /2: the Merkle root of those rows"
    )


class CheckpointPage(BaseModel):
    public_key: PublicKeyRead
    items: list[CheckpointRead] = Field(description="oldest first")
    next_cursor: str | None


class CheckpointMade(BaseModel):
    created: bool = Field(description="false when nothing was left to seal")
    checkpoint: CheckpointRead | None = Field(description="the new (or else the latest) one")


class AuditEventRead(BaseModel):
    seq: int
    stream: str
    stream_seq: int
    case_id: str | None
    kind: str
    trigger: str | None
    from_state: str | None
    to_state: str | None
    actor_id: int | None
    actor: str
    actor_role: str
    ministry: str | None
    at: str
    payload: dict[str, Any]
    note: str | None
    prev_hash: str
    hash: str


class EventPage(BaseModel):
    items: list[AuditEventRead]
    next_cursor: str | None


class ProofRead(BaseModel):
    """Check it with the public key alone: hash the event, then its leaf, up the path to the
    checkpoint's root; then the checkpoint's hash and signature (see the README)."""

    event: AuditEventRead
    leaf_index: int
    tree_size: int
    leaf_hash: str
    audit_path: list[str]
    checkpoint: CheckpointRead


class IdentityAccessRead(BaseModel):
    id: int
    case_id: str
    username: str
    ministry: str | None
    role: str
    endpoint: str
    at: datetime


class IdentityAccessPage(BaseModel):
    items: list[IdentityAccessRead] = Field(description="oldest first")
    next_cursor: str | None
