"""Settings from the environment (a `.env` file may supply them), and the keys they imply.

Embedded mode (a SQLite file) needs no set-up: missing keys are generated once and kept in a
file beside the database, readable by its owner only. Anywhere else a missing key is an error,
so that a production server can never run on a key that nobody chose.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import math
import os
import secrets
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from service.kit.db import DatabaseLimits

DEFAULT_DATABASE_URL = "sqlite:///nrm.db"
MIN_SECRET_LENGTH = 32
KNOWN_WEAK_SECRETS = frozenset({"changeme", "secret", "change-me", "development", "test"})
# A secret's estimated strength: its length times the Shannon entropy of its own characters'
# frequencies (bits per character). 32 random url-safe characters score about 150 bits, 32 random
# hex digits 97 to 125 (2,000 draws); `aaaa...` scores 0, `abab...` 32. With at least 8 different
# characters (`changeme` repeated has 7) it catches the careless and the placeholder, not a
# patterned secret like `abcdefgh` four times (96 bits): only a generated secret is random.
MIN_SECRET_BITS = 80
MIN_SECRET_DISTINCT = 8
# 32 random bytes hold about 30 different values; fewer than 16 is all but impossible by chance.
MIN_KEY_DISTINCT_BYTES = 16


class ConfigError(RuntimeError):
    """The service must not start with these settings; the message says what to set."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NRM_", env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str | None = Field(default=None, repr=False)
    data_key: str | None = Field(default=None, repr=False)
    # keys that open identities and case keys but never seal: the other side of a data-key
    # rotation (docs/operations.md), comma separated
    data_keys_read_only: str = Field(default="", repr=False)
    audit_signing_key: str | None = Field(default=None, repr=False)
    # the blind index of identity documents and the duplicate search's blocks
    # (service/cases/duplicates/): unset, derived from the data key by HKDF (docs/operations.md)
    index_key: str | None = Field(default=None, repr=False)
    # public keys of earlier signing keys (`nrm audit public-key` of each, comma separated):
    # verification still accepts the checkpoints they signed (docs/operations.md)
    audit_retired_public_keys: str = ""
    holidays_file: Path | None = None
    access_token_minutes: int = 15
    refresh_token_hours: int = 12
    queue_page_max: int = Field(default=100, ge=1)
    sla_sweep_seconds: float = Field(default=60.0, gt=0)
    sla_sweep_batch: int = Field(default=500, ge=1)
    # Bounded waits (README, "Bounded waits"): a worker runs as many threads as its pool has
    # connections, so no thread ever waits for a connection held by another of its threads.
    pool_size: int = Field(default=10, ge=1)
    pool_max_overflow: int = Field(default=5, ge=0)
    pool_timeout_seconds: float = Field(default=3.0, gt=0)
    db_connect_timeout_seconds: int = Field(default=5, ge=2)  # libpq counts whole seconds, >= 2
    db_statement_timeout_seconds: float = Field(default=30.0, ge=0)  # 0: no limit
    db_lock_timeout_seconds: float = Field(default=5.0, ge=0)  # 0: no limit
    db_keepalives_idle_seconds: int = Field(default=30, ge=1)
    db_keepalives_interval_seconds: int = Field(default=10, ge=1)
    db_keepalives_count: int = Field(default=3, ge=1)
    ready_timeout_seconds: float = Field(default=2.0, gt=0)
    # SQLite: how much longer than the pool timeout a write may wait for the worker's one
    # writer turn (service/kit/capacity.py); then 503 `database_busy`
    sqlite_write_wait_seconds: float = Field(default=10.0, gt=0)
    # `nrm serve` (service/kit/serving.py): in-flight requests finish within this after SIGTERM;
    # a worker that does not answer the supervisor's ping within this is replaced
    graceful_shutdown_seconds: int = Field(default=20, ge=1)
    worker_healthcheck_seconds: int = Field(default=15, ge=1)
    # /metrics (Prometheus): answered only to `Authorization: Bearer <this>`; unset, 404
    metrics_token: str | None = Field(default=None, min_length=32, repr=False)
    queue_metrics_seconds: float = Field(default=60.0, gt=0)  # the queue gauges' refresh
    # Retention of operational tables, pruned by the periodic jobs (README, "Retention")
    # how long a stored answer to an Idempotency-Key is replayed (an older key is a new key),
    # and then pruned
    idempotency_ttl_hours: float = Field(default=24.0, gt=0)
    login_failure_retention_hours: float = Field(default=1.0, ge=0.25)  # >= the 15-min window
    session_retention_days: float = Field(default=7.0, ge=0)
    prune_seconds: float = Field(default=900.0, gt=0)
    run_jobs: bool = True
    checkpoint_every: int = Field(default=1000, ge=1)
    checkpoint_seconds: float = Field(default=60.0, gt=0)
    checkpoint_max_events: int = Field(default=50_000, ge=1)
    audit_page_max: int = Field(default=500, ge=1)
    history_page_max: int = Field(default=500, ge=1)  # a case's history: the cap and default
    web_idle_minutes: int = Field(default=30, ge=1)
    cookie_secure: bool = False  # always mark the session cookie Secure (it is on HTTPS anyway)
    db_app_role: str | None = Field(default=None, pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    # reverse proxies whose X-Forwarded-For / -Proto are believed: addresses or CIDRs, comma
    # separated; none by default (the client is the connecting address)
    trusted_proxies: str = ""
    # the largest request body accepted (413 `body_too_large` beyond), chunked or not
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # an arrival's manifest upload (CSV or XLSX): its own limit, 413 beyond (about 40,000 rows)
    max_manifest_bytes: int = Field(default=10_485_760, ge=1024)
    # witnesses outside the database that every sealed checkpoint is published to
    # (service/audit/witness.py): an append-only directory, and a webhook
    witness_dir: Path | None = None
    witness_url: str | None = Field(default=None, pattern=r"^https?://")
    witness_timeout_seconds: float = Field(default=5.0, gt=0)
    # retention (cases/erasure.py): a closed case's identity and erasable text are erased this
    # many years after closure unless a legal hold is set; the pseudonymous record stays
    retention_years: int = Field(default=5, ge=1, le=100)
    # webhooks (service/webhooks/): the delivery job's interval, its bounded waits on a receiver,
    # retries (exponential backoff with jitter, capped) and the dead-letter threshold
    webhook_deliver_seconds: float = Field(default=2.0, gt=0)
    webhook_connect_timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    webhook_read_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    webhook_max_attempts: int = Field(default=16, ge=1, le=100)
    webhook_backoff_seconds: float = Field(default=2.0, gt=0)
    webhook_backoff_max_seconds: float = Field(default=3600.0, gt=0)
    webhook_batch: int = Field(default=500, ge=1, le=5000)
    webhook_concurrency: int = Field(default=16, ge=1, le=128)

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        for item in _items(value):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(f"{item!r} is not an IP address or network") from exc
        return value

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        return None if value == "" else value  # compose's `${NRM_METRICS_TOKEN:-}`

    @field_validator("audit_retired_public_keys")
    @classmethod
    def _public_keys(cls, value: str) -> str:
        for item in _items(value):
            try:
                raw = base64.urlsafe_b64decode(item + "=" * (-len(item) % 4))
            except ValueError as exc:
                raise ValueError(f"{item!r} is not url-safe base64") from exc
            if len(raw) != 32:
                raise ValueError(f"{item!r} is not a 32-byte Ed25519 public key")
        return value

    @property
    def retired_public_keys(self) -> list[bytes]:
        return [
            base64.urlsafe_b64decode(k + "=" * (-len(k) % 4))
            for k in _items(self.audit_retired_public_keys)
        ]

    @property
    def trusted_proxy_list(self) -> list[str]:
        return _items(self.trusted_proxies)

    @property
    def worker_threads(self) -> int:
        """Threads per worker that may touch the database: one per connection of its pool."""
        return self.pool_size + self.pool_max_overflow

    @property
    def database_limits(self) -> DatabaseLimits:
        return DatabaseLimits(
            pool_size=self.pool_size,
            pool_max_overflow=self.pool_max_overflow,
            pool_timeout_seconds=self.pool_timeout_seconds,
            connect_timeout_seconds=self.db_connect_timeout_seconds,
            statement_timeout_seconds=self.db_statement_timeout_seconds,
            lock_timeout_seconds=self.db_lock_timeout_seconds,
            keepalives_idle_seconds=self.db_keepalives_idle_seconds,
            keepalives_interval_seconds=self.db_keepalives_interval_seconds,
            keepalives_count=self.db_keepalives_count,
            ready_timeout_seconds=self.ready_timeout_seconds,
        )

    @property
    def is_sqlite(self) -> bool:
        return make_url(self.database_url).get_backend_name() == "sqlite"

    @cached_property
    def keys(self) -> Keys:
        return resolve_keys(self)


def _items(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


@dataclass(frozen=True)
class Keys:
    secret_key: str
    data_key: bytes
    audit_signing_key: bytes
    data_keys_read_only: tuple[bytes, ...] = ()
    index_key: bytes = b""  # HMAC-SHA256 key of the blind index; never the data key itself


def resolve_keys(settings: Settings) -> Keys:
    given = {
        "secret_key": settings.secret_key,
        "data_key": settings.data_key,
        "audit_signing_key": settings.audit_signing_key,
    }
    if not all(given.values()):
        if not settings.is_sqlite:
            missing = ", ".join(f"NRM_{k.upper()}" for k, v in given.items() if not v)
            raise ConfigError(
                f"{missing} must be set when the database is not the embedded SQLite file"
            )
        stored = _embedded_keys(settings.database_url)
        given = {k: v or stored[k] for k, v in given.items()}
    secret = str(given["secret_key"])
    if (
        len(secret) < MIN_SECRET_LENGTH
        or secret.lower() in KNOWN_WEAK_SECRETS
        or len(set(secret)) < MIN_SECRET_DISTINCT
        or entropy_bits(secret) < MIN_SECRET_BITS
    ):
        raise ConfigError(
            f"NRM_SECRET_KEY must be a random value of at least {MIN_SECRET_LENGTH} characters "
            f"(at least {MIN_SECRET_DISTINCT} different ones, and about {MIN_SECRET_BITS} bits "
            "by its characters' entropy: not a repeated pattern)"
        )
    data_key = _decode_key(str(given["data_key"]), 32, "NRM_DATA_KEY")
    return Keys(
        secret_key=secret,
        data_key=data_key,
        audit_signing_key=_decode_key(str(given["audit_signing_key"]), 32, "NRM_AUDIT_SIGNING_KEY"),
        data_keys_read_only=tuple(
            _decode_key(item, 32, "NRM_DATA_KEYS_READ_ONLY")
            for item in _items(settings.data_keys_read_only)
        ),
        index_key=(
            _decode_key(settings.index_key, 32, "NRM_INDEX_KEY")
            if settings.index_key
            else derived_index_key(data_key)
        ),
    )


def derived_index_key(data_key: bytes) -> bytes:
    """The blind index's key when NRM_INDEX_KEY is unset: HKDF-SHA256 of the data key under a
    label of its own. One-way, so the index key reveals nothing of the data key; but a data-key
    rotation then changes it too (docs/operations.md: set NRM_INDEX_KEY in production)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"nrm/blind-index/v1").derive(
        data_key
    )


def settings_for(
    database_url: str, keys: Mapping[str, str] | None = None, **overrides: Any
) -> Settings:
    """Settings for a database of one's own (tests, benchmarks): given or fresh keys, no `.env`,
    and no periodic jobs unless `run_jobs=True` is among the overrides."""
    keys = keys or generate_keys()
    return Settings(
        database_url=database_url,
        secret_key=keys["secret_key"],
        data_key=keys["data_key"],
        audit_signing_key=keys["audit_signing_key"],
        _env_file=None,
        **{"run_jobs": False, **overrides},
    )


def generate_keys() -> dict[str, str]:
    """Fresh keys in the environment's encoding (url-safe base64 for the binary ones)."""
    signing = Ed25519PrivateKey.generate().private_bytes(
        Encoding.Raw, PrivateFormat.Raw, NoEncryption()
    )
    return {
        "secret_key": secrets.token_urlsafe(48),
        "data_key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "audit_signing_key": base64.urlsafe_b64encode(signing).decode(),
    }


def _embedded_keys(database_url: str) -> dict[str, str]:
    database = make_url(database_url).database
    if not database or database == ":memory:":
        return generate_keys()
    path = Path(database).with_name(Path(database).name + ".keys.json")
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
        return stored
    keys = generate_keys()
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(keys, handle)
    try:
        os.link(draft, path)  # atomic: of two workers starting together, one file wins
    except FileExistsError:
        keys = json.loads(path.read_text(encoding="utf-8"))
    finally:
        draft.unlink()
    return keys


def _decode_key(value: str, length: int, name: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError as exc:
        raise ConfigError(f"{name} must be url-safe base64") from exc
    if len(raw) != length:
        raise ConfigError(f"{name} must decode to {length} bytes, not {len(raw)}")
    if len(set(raw)) < MIN_KEY_DISTINCT_BYTES:
        raise ConfigError(
            f"{name} is not random (all zero, or {len(set(raw))} different byte values where "
            f"random bytes hold about 30): generate it, e.g. with generate_keys()"
        )
    return raw


def entropy_bits(text: str) -> float:
    """Length times the Shannon entropy of the text's own character frequencies."""
    counts = Counter(text).values()
    total = len(text)
    return -sum(n * math.log2(n / total) for n in counts)
