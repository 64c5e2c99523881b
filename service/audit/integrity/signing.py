"""Signed checkpoints: their canonical form, hash and Ed25519 signature; pure, no I/O.

canonical(checkpoint) is the UTF-8 JSON of exactly these keys, sorted, with no whitespace:

    created_at, event_count, first_seq, format, key_id, last_seq, number, prev_hash, root

`format` is "nrm-audit-checkpoint/1" (it separates this signature from anything else the key
might sign); `root` is the Merkle root (see service/audit/integrity/merkle.py) of the events with
first_seq <= seq <= last_seq, of which there are `event_count` (sequences may have gaps);
`prev_hash` is the previous checkpoint's `hash`, or 64 zeros for checkpoint 1, and
`first_seq` is the previous `last_seq` + 1 (1 for checkpoint 1). Then:

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
from service.kit.canonical_json import canonical_json

FORMAT = "nrm-audit-checkpoint/1"
GENESIS = "0" * 64
SIGNED_FIELDS = (
    "created_at", "event_count", "first_seq", "format", "key_id", "last_seq", "number",
    "prev_hash", "root",
)  # fmt: skip
STORED_FIELDS = (
    "number", "first_seq", "last_seq", "event_count", "root", "prev_hash", "key_id", "hash",
    "signature",
)  # fmt: skip
_HEX64 = re.compile(r"[0-9a-f]{64}")


def record(values: Mapping[str, Any]) -> dict[str, Any]:
    """A stored checkpoint as it is hashed, signed and published (`created_at` as text)."""
    created = values["created_at"]
    return {
        "format": FORMAT,
        **{name: values[name] for name in STORED_FIELDS},
        "created_at": created if isinstance(created, str) else format_instant(created),
    }


def canonical(fields: Mapping[str, Any]) -> bytes:
    body = {name: fields[name] for name in SIGNED_FIELDS}
    return canonical_json(body)


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
