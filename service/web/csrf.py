"""CSRF tokens: an HMAC of the browser session's id (or, before login, of a random cookie)
under a key derived from NRM_SECRET_KEY. Every form carries one; every POST is checked.
SameSite=Strict cookies already keep other sites' forms out; this holds if a browser does not.
"""

from __future__ import annotations

import hashlib
import hmac

_LABEL = b"nrm/web-csrf/v1"


def token_for(secret: str, bound_to: str) -> str:
    key = hmac.new(secret.encode(), _LABEL, hashlib.sha256).digest()
    return hmac.new(key, bound_to.encode(), hashlib.sha256).hexdigest()


def valid(secret: str, bound_to: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(token_for(secret, bound_to), given)
