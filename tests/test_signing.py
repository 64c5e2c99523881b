"""Checkpoint signatures: valid only for the signed content, the signing key and its format."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from service.audit.integrity import signing
from service.kit.config import _decode_key as decode_env_key
from service.kit.config import generate_keys


def private_key() -> bytes:
    return decode_env_key(generate_keys()["audit_signing_key"], 32, "key")


def fields() -> dict[str, Any]:
    return {
        "format": signing.FORMAT, "number": 3, "first_seq": 101, "last_seq": 250,
        "event_count": 148, "root": "ab" * 32, "prev_hash": "cd" * 32,
        "created_at": "2026-02-01T03:04:05.000006Z",
        "key_id": "0123456789abcdef",
    }  # fmt: skip


def test_the_canonical_form_is_sorted_compact_json_of_the_signed_fields() -> None:
    body = fields()
    text = signing.canonical({**body, "hash": "ignored", "signature": "ignored"})
    assert text == json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    assert signing.checkpoint_hash(body) == hashlib.sha256(text).hexdigest()


def test_a_signature_verifies_with_its_key_only_and_for_its_content_only() -> None:
    key, other = private_key(), private_key()
    public = signing.public_key_of(key)
    signature = signing.sign(key, fields())
    assert signing.signature_valid(public, fields(), signature)
    assert not signing.signature_valid(signing.public_key_of(other), fields(), signature)
    for name, value in (("event_count", 147), ("root", "ef" * 32), ("format", "other/1"),
                        ("created_at", "2026-02-01T03:04:05.000007Z")):  # fmt: skip
        assert not signing.signature_valid(public, {**fields(), name: value}, signature)
    assert not signing.signature_valid(public, fields(), signature.upper())
    assert not signing.signature_valid(public, fields(), signature[:-2])
    assert not signing.signature_valid(public, fields(), "not hex")


def test_a_public_key_reads_back_from_every_form_it_is_given_in() -> None:
    public = signing.public_key_of(private_key())
    for text in (signing.encode_public_key(public), signing.encode_public_key(public).rstrip("="),
                 public.hex(), signing.public_key_pem(public)):  # fmt: skip
        assert signing.decode_public_key(text) == public


@pytest.mark.parametrize("text", ["", "not a key", "AAAA", "-----BEGIN PUBLIC KEY-----\nx\n"])
def test_a_bad_public_key_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        signing.decode_public_key(text)


def test_the_key_id_names_the_public_key() -> None:
    public = signing.public_key_of(private_key())
    assert signing.key_id(public) == hashlib.sha256(public).hexdigest()[:16]
