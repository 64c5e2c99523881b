"""Encryption of victim identity at rest: AES-256-GCM, bound to the case it belongs to.

The associated data is the case id, so a ciphertext copied onto another case does not open.
A one-byte version prefix leaves room to rotate keys without rewriting history.
"""

from __future__ import annotations

import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = b"\x01"
_NONCE_BYTES = 12


class IdentityCipher:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def encrypt(self, identity: dict[str, Any], bound_to: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        plain = json.dumps(identity, separators=(",", ":"), ensure_ascii=False).encode()
        return _VERSION + nonce + self._aead.encrypt(nonce, plain, bound_to)

    def decrypt(self, sealed: bytes, bound_to: bytes) -> dict[str, Any]:
        if sealed[:1] != _VERSION:
            raise ValueError("unknown identity ciphertext version")
        nonce, body = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
        try:
            plain = self._aead.decrypt(nonce, body, bound_to)
        except InvalidTag as exc:
            raise ValueError("identity ciphertext does not open with this key and case") from exc
        result: dict[str, Any] = json.loads(plain)
        return result
