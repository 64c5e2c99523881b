"""A data-key rotation's second step: every identity and case key sealed under a read-only key
is sealed again under the current one (docs/operations.md, "Rotating the data key").

Batches of REKEY_BATCH victims in case-id order, each its own short transaction, while the
service runs: every row is rewritten by compare-and-set, so an erasure or a first case key
committed meanwhile is never overwritten (the row is counted `changed` and a second run takes
it). Stored idempotent answers are not re-sealed: they expire (NRM_IDEMPOTENCY_TTL_HOURS).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from service.cases import repository as repo
from service.kit.context import AppContext
from service.kit.encryption import IdentityCipher

REKEY_BATCH = 500


@dataclass
class Rekeyed:
    examined: int = 0
    resealed: int = 0
    changed: int = 0  # rewritten by someone else between read and write: run again


def rotate_data_key(context: AppContext, batch: int = REKEY_BATCH) -> Rekeyed:
    report = Rekeyed()
    after: uuid.UUID | None = None
    while True:
        with context.database.transaction() as session:
            rows = repo.victim_keys_after(session, after, batch)
            for case_id, identity, wrapped in rows:
                report.examined += 1
                fresh = (
                    _identity(context.cipher, identity, case_id),
                    _case_key(context.cipher, wrapped, case_id),
                )
                if fresh == (identity, wrapped):
                    continue
                if repo.replace_victim_keys(session, case_id, (identity, wrapped), fresh):
                    report.resealed += 1
                else:
                    report.changed += 1
        if len(rows) < batch:
            return report
        after = rows[-1][0]


def _identity(cipher: IdentityCipher, sealed: bytes | None, case_id: uuid.UUID) -> bytes | None:
    if sealed is None or cipher.is_current(sealed, case_id.bytes):
        return sealed
    return cipher.encrypt(cipher.decrypt(sealed, case_id.bytes), case_id.bytes)


def _case_key(cipher: IdentityCipher, wrapped: bytes | None, case_id: uuid.UUID) -> bytes | None:
    if wrapped is None or cipher.is_current(wrapped, case_id.bytes, wrapped_key=True):
        return wrapped
    return cipher.wrap(cipher.unwrap(wrapped, case_id.bytes), case_id.bytes)
