"""How fast the whole audit trail verifies, online (database) and offline (an export file).

    .venv/bin/python -m bench.audit_verify [--pg URL] [--events 100000]

Fills a fresh database with chained events on 2,000 streams (bulk inserts, real hashes),
seals them in checkpoints of 1,000, then times `audit.verify` (one streamed pass: every hash
recomputed, every chain link, every Merkle root and signature, every head) and the offline check
of a JSON Lines export of the same log.
"""

from __future__ import annotations

import argparse
import io
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from bench._setup import fresh_context
from service.audit import checkpoints
from service.audit import service as audit
from service.audit.integrity import signing
from service.audit.integrity.chain import GENESIS, event_hash
from service.audit.integrity.export_format import verify_export
from service.kit.context import AppContext
from service.models import AuditStream, CaseEvent

STREAMS = 2000
BATCH = 5000


def fill(context: AppContext, count: int) -> None:
    heads = {f"bench-{n:04d}": (0, GENESIS) for n in range(STREAMS)}
    start = datetime(2026, 1, 1, tzinfo=UTC)
    table = CaseEvent.__table__  # type: ignore[attr-defined]
    rows: list[dict[str, Any]] = []
    for n in range(count):
        stream = f"bench-{n % STREAMS:04d}"
        stream_seq, prev = heads[stream]
        fields: dict[str, Any] = {
            "stream": stream, "stream_seq": stream_seq + 1, "prev_hash": prev, "case_id": None,
            "actor_id": None, "actor": "kemensos.worker", "actor_role": "case_worker",
            "ministry": "KEMENSOS", "at": start + timedelta(seconds=n), "kind": "transition",
            "trigger": "admit_to_shelter", "from_state": "emergency_care",
            "to_state": "sheltered", "payload": {"shelter": "RPTC Bambu Apus", "bed": n % 40},
            "note": "diterima di rumah perlindungan",
        }  # fmt: skip
        fields["hash"] = event_hash(fields)
        heads[stream] = (stream_seq + 1, fields["hash"])
        rows.append(fields)
        if len(rows) == BATCH:
            _flush(context, table, rows)
    if rows:
        _flush(context, table, rows)
    with context.database.transaction() as session:
        session.add_all(AuditStream(stream=s, event_count=c, head_hash=h)
                        for s, (c, h) in heads.items())  # fmt: skip


def _flush(context: AppContext, table: Any, rows: list[dict[str, Any]]) -> None:
    with context.database.transaction() as session:
        session.execute(insert(table), rows)
    rows.clear()


def seal_all(context: AppContext) -> int:
    sealing = replace(context, settings=context.settings.model_copy(
        update={"checkpoint_max_events": 1000}))  # fmt: skip
    made = 0
    while True:
        with context.database.transaction() as session:
            if checkpoints.checkpoint_pending(session, sealing) is None:
                return made
        made += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", help="a PostgreSQL server URL (a database is made and dropped)")
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    with fresh_context(args.pg) as context:
        backend = context.database.engine.dialect.name
        started = time.perf_counter()
        fill(context, args.events)
        sealed = seal_all(context)
        print(f"{backend}: {args.events} events, {sealed} checkpoints made in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        started = time.perf_counter()
        verdict = audit.verify(context)
        online = time.perf_counter() - started
        assert verdict.ok, verdict.problems[:3]
        print(f"  online verify : {verdict.events_checked / online:9.0f} events/s "
              f"({online:.2f} s, {verdict.checkpoints_checked} checkpoints)")  # fmt: skip
        data = "".join(audit.export(context, "jsonl")).encode()
        public = signing.public_key_of(context.settings.keys.audit_signing_key)
        started = time.perf_counter()
        offline = verify_export(io.BytesIO(data), {signing.key_id(public): public})
        elapsed = time.perf_counter() - started
        assert offline.ok, offline.problems[:3]
        print(f"  offline verify: {offline.events_checked / elapsed:9.0f} events/s "
              f"({elapsed:.2f} s, {len(data) / 1e6:.1f} MB export)")  # fmt: skip


if __name__ == "__main__":
    main()
