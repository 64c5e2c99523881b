"""Cases and their events in bulk, with COPY: 1M cases in about a minute, valid to the verifier.

Every case is a referral as intake makes it (state `referred`, led by KEMENPPPA, its deadline
and SLA warning from the real calendar), with its `created` event hashed onto a new chain; one
case in ten also has a police report recorded by POLRI (a `transition` event, version 2), so
the log holds real chains of more than one link. The case rows' `event_count`, `head_hash`,
`version` and `state` agree with their streams, and each case's `case_ministry` rows (the
referrer's ministry and the lead's) are what its `created` event says, so `nrm audit verify`
checks real work and passes. Not made: victim rows (encrypted identities; no list or sweep
reads them); the `created` event names no unit, as a case made before units existed, so no
`case_unit` rows are expected: these cases are for the queue, the sweep and the verifier, not
to be opened one by one.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg

from bench.rawloop import PAYLOAD, TRIGGER, Actor
from service.audit.integrity.chain import GENESIS, event_hash
from workflows import Calendar, Definition
from workflows.calendar import WIB

BATCH = 50_000
SPREAD = timedelta(hours=24)  # cases entered their step within the last day: nothing is due yet
CASE_COLUMNS = (
    "id", "reference", "workflow_name", "workflow_version", "state", "phase", "ministry",
    "version", "event_count", "head_hash", "due_at", "state_entered_at", "is_child", "sex",
    "age_at_intake", "nationality", "province_of_origin", "referring_ministry",
    "referral_channel", "referral_date", "country_of_exploitation",
    "objects_to_country_notification", "legal", "created_by_id", "created_at", "updated_at",
    "sla_level", "sla_next_at", "unit_id", "referring_unit_id",
)  # fmt: skip
EVENT_COLUMNS = (
    "stream", "stream_seq", "case_id", "kind", "trigger", "from_state", "to_state", "actor_id",
    "actor", "actor_role", "ministry", "at", "payload", "note", "prev_hash", "hash",
)  # fmt: skip
PROVINCES = ("Nusa Tenggara Timur", "Nusa Tenggara Barat", "Jawa Barat", "Jawa Timur",
             "Sumatera Utara", "Kalimantan Barat", "Sulawesi Selatan")  # fmt: skip


@dataclass
class Loader:
    """Adds cases to a migrated PostgreSQL database (libpq URL), `now` fixing "nothing due"."""

    url: str
    definition: Definition
    calendar: Calendar
    referrer: Actor
    police: Actor
    now: datetime
    seed: int = 2026
    # police reports per case: None, one case in ten has one; N, every case has N (a chain of
    # N + 1 events: the log's shape for `bench/audit_verify.py --events-per-case`)
    reports: int | None = None

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._due: dict[date, datetime] = {}
        self._units: dict[str, int] = {}  # each ministry's national unit, read by each loader
        self.state = self.definition.state(self.definition.initial)

    def add(self, count: int, processes: int = 2) -> None:
        """`count` cases, made and copied by `processes` loaders at once (the work is mostly
        Python: making rows and hashing), then VACUUM ANALYZE."""
        if count >= BATCH and processes > 1:
            context = multiprocessing.get_context("fork")
            shares = [count // processes + (n < count % processes) for n in range(processes)]
            loaders = [context.Process(target=self._copy, args=(share, n, True), daemon=True)
                       for n, share in enumerate(shares)]  # fmt: skip
            try:
                for loader in loaders:
                    loader.start()
                for loader in loaders:
                    loader.join()
            finally:
                for loader in loaders:
                    if loader.is_alive():
                        loader.terminate()
                        loader.join(5)
            if any(loader.exitcode != 0 for loader in loaders):
                raise RuntimeError("a bulk loader process failed")
        else:
            self._copy(count, 0)
        with psycopg.connect(self.url, autocommit=True) as db:
            # the steady state of a table that grew over months, not a fresh load's: statistics,
            # visibility map and hint bits set now, not by autovacuum or the first reader
            db.execute("VACUUM (ANALYZE) case_file, case_event, case_ministry, ministry_move")

    def _copy(self, count: int, loader: int, forked: bool = False) -> None:
        if forked:  # end on a signal: not the parent's handlers
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, signal.SIG_DFL)
        self._random = random.Random(self.seed * 1000 + loader)
        with psycopg.connect(self.url) as db:
            self._units = dict(
                db.execute("SELECT ministry, id FROM unit WHERE level = 'national'").fetchall()
            )
            for start in range(0, count, BATCH):
                cases, events = self._batch(min(BATCH, count - start))
                ministries = sorted({self.referrer.ministry, self.state.ministry})
                handled = [(case[0], m, case[11]) for case in cases for m in ministries]
                with db.cursor() as cursor:
                    _copy(cursor, "case_file", CASE_COLUMNS, cases)
                    _copy(cursor, "case_event", EVENT_COLUMNS, events)
                    _copy(cursor, "case_ministry", ("case_id", "ministry", "since"), handled)
                db.commit()

    def _batch(self, count: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        cases: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        raw = os.urandom(16 * count)
        for n in range(count):
            case_id = uuid.UUID(bytes=raw[16 * n : 16 * n + 16], version=4)
            case, case_events = self._case(case_id)
            cases.append(case)
            events.extend(case_events)
        return cases, events

    def _case(self, case_id: uuid.UUID) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
        entered = self.now - SPREAD * self._random.random()
        due = self._due_at(entered)
        warn = entered + (due - entered) * self.definition.warn_at
        reference = f"NRM-B{case_id.hex[:12].upper()}"
        age = self._random.randint(12, 45)
        events = list(self._events(case_id, reference, entered, age < 18))
        legal = {TRIGGER: PAYLOAD} if len(events) > 1 else {}
        last = events[-1]
        row = (
            case_id, reference, self.definition.name, self.definition.version, self.state.name,
            self.state.phase, self.state.ministry, len(events), len(events), last[-1], due,
            entered, age < 18, self._random.choice(("female", "male")), age, "ID",
            self._random.choice(PROVINCES), self.referrer.ministry, "embassy",
            entered.astimezone(WIB).date(), "MM", False, _json(legal), self.referrer.user_id,
            entered, last[11], 0, warn, self._units[self.state.ministry],
            self._units[self.referrer.ministry],
        )  # fmt: skip
        return row, events

    def _events(
        self, case_id: uuid.UUID, reference: str, entered: datetime, child: bool
    ) -> Iterator[tuple[Any, ...]]:
        created = {"reference": reference, "workflow": self.definition.name,
                   "workflow_version": self.definition.version, "referral_channel": "embassy",
                   "is_child": child}  # fmt: skip
        first = _event(case_id, 1, GENESIS, self.referrer, entered, "created", None, None,
                       self.state.name, created)  # fmt: skip
        yield first
        reports = (1 if case_id.int % 10 == 0 else 0) if self.reports is None else self.reports
        previous, name = first, self.state.name
        for n in range(reports):  # one case in ten by default: a police report, version 2
            at = entered + timedelta(minutes=1 + n)
            previous = _event(case_id, 2 + n, previous[-1], self.police, at, "transition",
                              TRIGGER, name, name, PAYLOAD)  # fmt: skip
            yield previous

    def _due_at(self, entered: datetime) -> datetime:
        """Business-day deadlines end at midnight WIB: one computation per day entered."""
        day = entered.astimezone(WIB).date()
        if day not in self._due:
            assert self.state.deadline is not None
            self._due[day] = self.calendar.due_at(entered, self.state.deadline)
        return self._due[day]


def _event(
    case_id: uuid.UUID, stream_seq: int, prev_hash: str, actor: Actor, at: datetime, kind: str,
    trigger: str | None, from_state: str | None, to_state: str, payload: dict[str, Any],
) -> tuple[Any, ...]:  # fmt: skip
    fields: dict[str, Any] = {
        "stream": case_id.hex, "stream_seq": stream_seq, "case_id": case_id, "kind": kind,
        "trigger": trigger, "from_state": from_state, "to_state": to_state,
        "actor_id": actor.user_id, "actor": actor.username, "actor_role": "case_worker",
        "ministry": actor.ministry, "at": at.astimezone(UTC), "payload": payload, "note": None,
        "prev_hash": prev_hash,
    }  # fmt: skip
    fields["hash"] = event_hash(fields)
    fields["payload"] = _json(payload)
    return tuple(fields[c] for c in EVENT_COLUMNS)


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _copy(
    cursor: psycopg.Cursor[Any], table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
