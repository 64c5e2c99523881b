"""Witnesses: every sealed checkpoint is also published outside the database.

The database's owner can delete the newest checkpoints (and rewrite what they sealed); a
witness is where the highest checkpoint number and hash live beyond the owner's reach, so that
`verify` compares the database with the newest witnessed checkpoint. Two kinds:

- a directory (`NRM_WITNESS_DIR`): one file per checkpoint, `checkpoint-<number>.json`, written
  to a draft and linked into place (atomic, and never over an existing file), read-only. In
  production it is another machine's append-only mount (WORM storage, a write-once bucket
  mounted, a log host's share), which the database's owner cannot write to. `verify` reads it.
- a webhook (`NRM_WITNESS_URL`): a POST of the signed checkpoint as JSON, one per checkpoint
  in order; how far it got is kept in `audit_witness`. A failure is retried by the next run of
  the periodic checkpoint job; it never holds back the seal.

Publishing happens after the seal commits (a rolled-back checkpoint is never witnessed), by the
periodic job, and by `nrm audit checkpoint`. A witness must accept a repeat of a checkpoint it
holds (every worker runs the job), refuse a different checkpoint under a held number, and never
let the database's owner rewrite or delete what it holds.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from service.audit import repository as repo
from service.audit.integrity import signing
from service.kit.canonical_json import canonical_json
from service.kit.context import AppContext

log = logging.getLogger("nrm.audit.witness")
WEBHOOK = "webhook"
BATCH = 500
_FILE = re.compile(r"checkpoint-(\d{8,})\.json")


class WitnessUnreadable(RuntimeError):
    """The witness directory cannot be read or written, or holds a checkpoint that the log
    no longer does (so nothing more may be published to it)."""


def file_name(number: int) -> str:
    return f"checkpoint-{number:08d}.json"


def publish(context: AppContext) -> int:
    """Publish every checkpoint a witness has not received yet; how many were published.
    A witness that fails is logged and tried again on the next call."""
    published = 0
    directory = context.settings.witness_dir
    if directory is not None:
        try:
            published += _publish_to_directory(context, directory)
        except (OSError, WitnessUnreadable) as exc:
            log.error("audit witness directory %s: %s", directory, exc)
    if context.settings.witness_url is not None:
        try:
            published += _publish_to_webhook(context, context.settings.witness_url)
        except (OSError, urllib.error.URLError, SQLAlchemyError) as exc:
            log.error("audit witness webhook: %s", exc)
    return published


def witnessed(directory: Path) -> Iterator[dict[str, Any]]:
    """Every checkpoint in the witness directory, by number, read one at a time; a file that
    is not one yields only its number (the verifier reports it as damaged). The directory is
    listed at once (WitnessUnreadable if it cannot be)."""
    numbers = _numbers(directory)
    return (_read(directory, number) for number in numbers)


def newest_witnessed(directory: Path) -> dict[str, Any] | None:
    numbers = _numbers(directory)
    return _read(directory, numbers[-1]) if numbers else None


def _read(directory: Path, number: int) -> dict[str, Any]:
    try:
        record = json.loads((directory / file_name(number)).read_bytes())
    except (OSError, ValueError):
        record = None
    return record if isinstance(record, dict) else {"number": number}


def _numbers(directory: Path) -> list[int]:
    try:
        names = [p.name for p in directory.iterdir()]
    except OSError as exc:
        raise WitnessUnreadable(f"cannot read {directory}: {exc.strerror}") from exc
    return sorted(int(m.group(1)) for name in names if (m := _FILE.fullmatch(name)))


def _publish_to_directory(context: AppContext, directory: Path) -> int:
    """Publish what follows the witness's newest checkpoint, if the log still holds that one:
    a witness is never extended with a chain that forks from what it holds."""
    newest = newest_witnessed(directory)
    after = int(newest["number"]) if newest else 0
    if newest is not None:
        with context.database.snapshot() as session:
            held = repo.checkpoint_hash(session, after)
        if held is not None and held != newest.get("hash"):
            raise WitnessUnreadable(
                f"{file_name(after)} differs from the log's checkpoint {after}: the log was "
                "rewritten; nothing more is published; run `nrm audit verify`"
            )
    published = 0
    for record in _checkpoints_after(context, after):
        _write_once(directory / file_name(record["number"]), canonical_json(record))
        published += 1
    return published


def _write_once(path: Path, body: bytes) -> None:
    """Atomic and never over an existing file: the draft is linked into place, which fails if
    the name is taken. A repeat of the same checkpoint is fine; a different one is refused."""
    draft = path.with_name(f".{path.name}.{secrets.token_hex(4)}.draft")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(draft, path)
        _sync_directory(path.parent)
    except FileExistsError:
        if path.read_bytes() != body:
            raise WitnessUnreadable(
                f"{path.name} already holds a different checkpoint: the database's log was "
                "rewritten; run `nrm audit verify`"
            ) from None
    finally:
        draft.unlink(missing_ok=True)


def _sync_directory(directory: Path) -> None:
    """The new name itself survives a crash of the witness's machine."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish_to_webhook(context: AppContext, url: str) -> int:
    with context.database.snapshot() as session:
        after = repo.witness_mark(session, WEBHOOK)
    published = 0
    for record in _checkpoints_after(context, after):
        request = urllib.request.Request(
            url,
            data=canonical_json(record),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=context.settings.witness_timeout_seconds):
            pass  # any 2xx; urlopen raises on the rest
        with context.database.transaction() as session:
            repo.advance_witness_mark(session, WEBHOOK, record["number"], context.clock())
        published += 1
    return published


def _checkpoints_after(context: AppContext, after: int) -> Iterator[dict[str, Any]]:
    """The checkpoints after number `after`, oldest first, as they are signed."""
    while True:
        with context.database.snapshot() as session:
            page = repo.checkpoints_page(session, after, BATCH)
            rows = [signing.record(row.model_dump()) for row in page]
        yield from rows
        if len(rows) < BATCH:
            return
        after = rows[-1]["number"]
