"""Signed checkpoints: their canonical form, hash and Ed25519 signature; pure, no I/O.

canonical(checkpoint) is the UTF-8 JSON of exactly these keys, sorted, with no whitespace:

    created_at, event_count, first_seq, format, key_id, last_seq, number, prev_hash, root

`format` is "nrm-audit-checkpoint/1" (it separates this signature from anything else the key
might sign); `root` is the Merkle root (see service/audit/integrity/merkle.py) of the events with
first_seq <= seq <= last_seq, of which there are `event_count` (sequences may have gaps);
`prev_hash` is the previous checkpoint's `hash`, or 64 zeros for checkpoint 1, and
`first_seq` is the previous `last_seq` + 1 (1 for checkpoint 1). Then:

Format "nrm-audit-checkpoint/2" adds three keys that seal the `identity_access` log (who was
shown a victim's identity) up to the checkpoint: `access_last_id` (the highest row id sealed,
0 for none), `access_count` (how many rows have ids after the previous /2 checkpoint's
`access_last_id`, up to this one's) and `access_root` (the Merkle root of those rows: see
access_leaf). Checkpoints sealed before the format existed stay /1 and verify as they are.

    hash      = SHA-256(canonical) in lowercase hex
    signature = Ed25519(private key, canonical) in lowercase hex (64 bytes)
    key_id    = the first 16 hex digits of SHA-256(raw 32-byte public key)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)

from service.audit.integrity.chain import format_instant
from service.audit.integrity.merkle import leaf_hash
from service.kit.canonical_json import canonical_json

FORMAT = "nrm-audit-checkpoint/1"
FORMAT_V2 = "nrm-audit-checkpoint/2"  # FORMAT's fields and the identity-access seal
GENESIS = "0" * 64
SIGNED_FIELDS_V1 = (
    "created_at", "event_count", "first_seq", "format", "key_id", "last_seq", "number",
    "prev_hash", "root",
)  # fmt: skip
ACCESS_FIELDS = ("access_count", "access_last_id", "access_root")
SIGNED_FIELDS = (*SIGNED_FIELDS_V1, *ACCESS_FIELDS)
FIELDS_OF_FORMAT = {FORMAT: SIGNED_FIELDS_V1, FORMAT_V2: SIGNED_FIELDS}
STORED_FIELDS = (
    "number", "first_seq", "last_seq", "event_count", "root", "prev_hash", "key_id", "hash",
    "signature",
)  # fmt: skip
ACCESS_ROW_FIELDS = ("id", "case_id", "user_id", "username", "ministry", "role", "endpoint", "at")
_HEX64 = re.compile(r"[0-9a-f]{64}")


def record(values: Mapping[str, Any]) -> dict[str, Any]:
    """A stored checkpoint as it is hashed, signed and published (`created_at` as text); one
    stored without the identity-access seal is format /1."""
    created = values["created_at"]
    sealed = values.get("access_root") is not None
    access = {name: values[name] for name in ACCESS_FIELDS} if sealed else {}
    return {
        "format": FORMAT_V2 if sealed else FORMAT,
        **{name: values[name] for name in STORED_FIELDS},
        **access,
        "created_at": created if isinstance(created, str) else format_instant(created),
    }


def signed_fields(fields: Mapping[str, Any]) -> tuple[str, ...]:
    """The keys that the checkpoint's format signs (an unknown format: /1's, which then fail)."""
    return FIELDS_OF_FORMAT.get(fields["format"], SIGNED_FIELDS_V1)


def canonical(fields: Mapping[str, Any]) -> bytes:
    body = {name: fields[name] for name in signed_fields(fields)}
    return canonical_json(body)


def access_leaf(row: Mapping[str, Any]) -> bytes:
    """The Merkle leaf of an `identity_access` row: SHA-256(0x00 || id as 8 bytes big-endian ||
    SHA-256(the canonical JSON of its id, case_id, user_id, username, ministry, role, endpoint
    and `at`, with `case_id` dashed and `at` as RFC 3339 UTC with microseconds))."""
    body = {name: row[name] for name in ACCESS_ROW_FIELDS}
    if not isinstance(body["at"], str):
        body["at"] = format_instant(body["at"])
    body["case_id"] = str(body["case_id"])
    digest = hashlib.sha256(canonical_json(body)).digest()
    return leaf_hash(int(row["id"]).to_bytes(8, "big") + digest)


def checkpoint_hash(fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(fields)).hexdigest()


def sign(private_key: bytes, fields: Mapping[str, Any]) -> str:
    return Ed25519PrivateKey.from_private_bytes(private_key).sign(canonical(fields)).hex()


def signature_valid(public_key: bytes, fields: Mapping[str, Any], signature: str) -> bool:
    try:
        raw = bytes.fromhex(signature)
        Ed25519PublicKey.from_public_bytes(public_key).verify(raw, canonical(fields))
    except (ValueError, InvalidSignature):
        return False
    return len(signature) == 128 and signature == raw.hex()


def public_key_of(private_key: bytes) -> bytes:
    return (
        Ed25519PrivateKey.from_private_bytes(private_key)
        .public_key()
        .public_bytes(Encoding.Raw, PublicFormat.Raw)
    )


def key_id(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()[:16]


def encode_public_key(public_key: bytes) -> str:
    """url-safe base64, as the other keys in the environment are written."""
    return base64.urlsafe_b64encode(public_key).decode()


def public_key_pem(public_key: bytes) -> str:
    return (
        Ed25519PublicKey.from_public_bytes(public_key)
        .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def decode_public_key(text: str) -> bytes:
    """A public key as url-safe or standard base64, hex, or PEM; ValueError if it is none."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the PEM key is not an Ed25519 public key")
        return key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    if re.fullmatch(r"[0-9a-fA-F]{64}", text):
        return bytes.fromhex(text)
    try:
        raw = base64.b64decode(
            text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4), validate=True
        )
    except binascii.Error as exc:
        raise ValueError("the public key is not base64, hex or PEM") from exc
    if len(raw) != 32:
        raise ValueError(f"an Ed25519 public key has 32 bytes, not {len(raw)}")
    return raw


def is_hex64(value: object) -> bool:
    return isinstance(value, str) and _HEX64.fullmatch(value) is not None
