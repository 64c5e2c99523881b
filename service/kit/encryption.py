"""Encryption at rest: victim identity, and each case's own key for its events' free text.

AES-256-GCM, bound to the case it belongs to.
The associated data is the case id, so a ciphertext copied onto another case does not open.
A one-byte version prefix leaves room to rotate keys without rewriting history.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = b"\x01"
_NONCE_BYTES = 12


class IdentityCipher:
    """Seals under the current data key; opens under it or any read-only key (a rotation's
    other side: `nrm keys rotate-data-key` re-seals what only those open)."""

    def __init__(self, key: bytes, read_only: tuple[bytes, ...] = ()) -> None:
        self._aead = AESGCM(key)
        self._others = tuple(AESGCM(other) for other in read_only if other != key)

    def _open(self, nonce: bytes, body: bytes, bound_to: bytes) -> bytes:
        for aead in (self._aead, *self._others):
            try:
                return aead.decrypt(nonce, body, bound_to)
            except InvalidTag:
                continue
        raise InvalidTag()

    def is_current(self, sealed: bytes, bound_to: bytes, *, wrapped_key: bool = False) -> bool:
        """Whether `sealed` (an identity, or a case key when `wrapped_key`) opens with the
        current key."""
        nonce, body = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
        try:
            self._aead.decrypt(nonce, body, (_CASE_KEY_AD if wrapped_key else b"") + bound_to)
        except InvalidTag:
            return False
        return True

    def encrypt(self, identity: dict[str, Any], bound_to: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        plain = json.dumps(identity, separators=(",", ":"), ensure_ascii=False).encode()
        return _VERSION + nonce + self._aead.encrypt(nonce, plain, bound_to)

    def decrypt(self, sealed: bytes, bound_to: bytes) -> dict[str, Any]:
        if sealed[:1] != _VERSION:
            raise ValueError("unknown identity ciphertext version")
        nonce, body = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
        try:
            plain = self._open(nonce, body, bound_to)
        except InvalidTag as exc:
            raise ValueError("identity ciphertext does not open with this key and case") from exc
        result: dict[str, Any] = json.loads(plain)
        return result

    def wrap(self, key: bytes, bound_to: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, key, _CASE_KEY_AD + bound_to)

    def unwrap(self, wrapped: bytes, bound_to: bytes) -> bytes:
        nonce, body = wrapped[1 : 1 + _NONCE_BYTES], wrapped[1 + _NONCE_BYTES :]
        try:
            return self._open(nonce, body, _CASE_KEY_AD + bound_to)
        except InvalidTag as exc:
            raise ValueError("case key does not open with this key and case") from exc


# --- per-case keys: the free text of a case's events, erasable by destroying one key ---------

SEALED = "enc"  # an event's payload holds a sealed text as {"enc": "<base64url>"}
_CASE_KEY_AD = b"nrm-case-key/1:"
_TEXT_VERSION = b"\x02"


def new_case_key(cipher: IdentityCipher, bound_to: bytes) -> bytes:
    """A random AES-256 key for one case, returned wrapped by the service's data key (and bound
    to the case): only the wrapped form is stored, so erasing it erases the key."""
    return cipher.wrap(AESGCM.generate_key(bit_length=256), bound_to)


def is_sealed(value: Any) -> bool:
    return type(value) is dict and len(value) == 1 and isinstance(value.get(SEALED), str)


class TextSealer:
    """Seals and opens text under one case's key; the associated data is the case id."""

    def __init__(self, key: bytes, bound_to: bytes) -> None:
        self._aead, self._bound_to = AESGCM(key), bound_to

    def seal(self, text: str) -> dict[str, str]:
        nonce = os.urandom(_NONCE_BYTES)
        body = self._aead.encrypt(nonce, text.encode(), self._bound_to)
        return {SEALED: base64.urlsafe_b64encode(_TEXT_VERSION + nonce + body).decode()}

    def open(self, sealed: dict[str, str]) -> str:
        try:
            raw = base64.urlsafe_b64decode(sealed[SEALED])
            if raw[:1] != _TEXT_VERSION:
                raise ValueError("unknown sealed text version")
            nonce, body = raw[1 : 1 + _NONCE_BYTES], raw[1 + _NONCE_BYTES :]
            return self._aead.decrypt(nonce, body, self._bound_to).decode()
        except (InvalidTag, binascii.Error) as exc:
            raise ValueError("sealed text does not open with this case's key") from exc
