"""Keys and passwords nobody chose carelessly: low-entropy secrets, all-zero keys and common
passwords are refused, and a password is taken exactly as typed."""

from __future__ import annotations

import base64

import pytest
from pydantic import ValidationError

from schemas.auth import UserCreate
from service.kit.config import ConfigError, generate_keys, resolve_keys, settings_for

PG_URL = "postgresql+psycopg://nobody@127.0.0.1:1/none"  # keys are checked before any connection
ZERO_KEY = base64.urlsafe_b64encode(bytes(32)).decode()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("secret_key", "a" * 32),
        ("secret_key", "ab" * 32),
        ("secret_key", "changeme" * 4),
        ("data_key", ZERO_KEY),
        ("audit_signing_key", ZERO_KEY),
        ("data_key", base64.urlsafe_b64encode(bytes(range(8)) * 4).decode()),
    ],
)
def test_a_low_entropy_secret_or_an_all_zero_key_is_refused_off_sqlite(
    name: str, value: str
) -> None:
    settings = settings_for(PG_URL, {**generate_keys(), name: value})
    with pytest.raises(ConfigError, match=f"NRM_{name.upper()}"):
        resolve_keys(settings)


def test_generated_keys_always_pass() -> None:
    for _ in range(200):
        resolve_keys(settings_for(PG_URL, generate_keys()))


def _user(password: str) -> UserCreate:
    return UserCreate(username="new.person", role="auditor", password=password)


@pytest.mark.parametrize(
    "password",
    ["Password1234", "qwertyuiop123", "sayangku12345", "1q2w3e4r5t6y", "indonesia2026"],
)
def test_a_password_from_the_shipped_common_list_is_refused(password: str) -> None:
    with pytest.raises(ValidationError, match="too easy to guess"):
        _user(password)


def test_a_password_keeps_its_spaces() -> None:
    assert _user("  a long passphrase here  ").password == "  a long passphrase here  "
