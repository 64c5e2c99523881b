"""The raw limit of intake: the rows one intake writes, in a tight loop, at the same concurrency.

Each client is a process with one connection (as `bench/rawloop.py`'s). Before the loop it
reads the rows the service wrote for one real intake (a template case registered over HTTP):
the case, its victim with the sealed identity, the ministries and units it starts with, its
blocking keys, its `created` event, its outbox row and its identity look. Per intake it writes
those same rows again under a new case id and reference, with the event hash-chained anew
(`event_hash`, as the service does), asks the duplicate check's question (the earlier cases
sharing a blocking key), and commits: the SQL of an intake, without the service's Python.
What the raw loop leaves out is the service's own work: encrypting the identity, deriving the
blocking keys, scoring candidates, the workflow's checks, HTTP.

    rawloop.run(target, [template_id] * clients, actor, seconds, groups, client=rawintake.client)
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import Any

from psycopg.types.json import Json

from bench.rawloop import Actor, connect, own_signals
from service.audit.integrity.chain import GENESIS, event_hash

# Each table the intake writes, and the column naming the case in it.
TABLES = (
    ("case_file", "id"),
    ("case_ministry", "case_id"),
    ("victim", "case_id"),
    ("victim_block", "case_id"),
    ("case_unit", "case_id"),
    ("case_event", "case_id"),
    ("webhook_outbox", "case_id"),
    ("identity_access", "case_id"),
)
GENERATED = {  # the columns the database numbers
    "case_event": "seq", "webhook_outbox": "id", "identity_access": "id", "case_unit": "id",
}  # fmt: skip
CANDIDATES_LIMIT = 200  # the duplicate check's cap (cases/duplicates)


class _Rows:
    """One client's connection and the template's rows, ready to be written again."""

    def __init__(self, target: str, template: uuid.UUID) -> None:
        self.sqlite = not target.startswith("postgresql")
        self.db: Any = connect(target, dict_rows=True)
        self.mark = "?" if self.sqlite else "%s"
        key: Any = template.hex if self.sqlite else template
        self.rows: dict[str, list[dict[str, Any]]] = {}
        for table, column in TABLES:
            if table == "webhook_outbox":  # delivery may have taken it already: as written
                case = self.rows["case_file"][0]
                self.rows[table] = [{
                    "case_id": key, "stream_seq": 1, "state": case["state"],
                    "phase": case["phase"], "ministry": case["ministry"],
                    "unit_id": case["unit_id"],
                }]  # fmt: skip
                continue
            found = self.db.execute(
                f"SELECT * FROM {table} WHERE {column} = {self.mark}", (key,)
            ).fetchall()
            drop = GENERATED.get(table)
            self.rows[table] = [{k: v for k, v in dict(row).items() if k != drop} for row in found]
            assert found, f"the template case has no {table} row"
        assert len(self.rows["case_event"]) == 1, "the template must be a new case"
        self.at = self.rows["case_event"][0]["at"]  # the intake's instant, in every table
        if not self.sqlite:
            self.db.commit()
        self.statements = {table: self._insert(table) for table, _ in TABLES}

    def _insert(self, table: str) -> str:
        columns = list(self.rows[table][0])
        marks = ", ".join(self.mark for _ in columns)
        return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"

    def _value(self, value: Any) -> Any:
        if isinstance(value, dict | list):
            return json.dumps(value) if self.sqlite else Json(value)
        return value

    def intake(self, actor: Actor) -> None:
        """One intake's rows under a new case, in one transaction."""
        case_id = uuid.uuid4()
        key: Any = case_id.hex if self.sqlite else case_id
        now = datetime.now(UTC)
        reference = "NRM-" + secrets.token_hex(4).upper()
        event = dict(self.rows["case_event"][0])
        payload = _json(event["payload"])
        payload["reference"] = reference
        fields = {
            **event, "stream": case_id.hex, "stream_seq": 1, "prev_hash": GENESIS,
            "case_id": case_id, "at": now, "payload": payload, "actor_id": actor.user_id,
            "actor": actor.username, "ministry": actor.ministry,
        }  # fmt: skip
        fields["hash"] = event_hash(fields)
        at = _instant(now) if self.sqlite else now
        changes: dict[str, dict[str, Any]] = {
            "case_file": {
                "id": key, "reference": reference, "head_hash": fields["hash"], "event_count": 1,
            },
            "case_event": {**fields, "case_id": key, "payload": payload, "at": at},
        }  # fmt: skip
        if self.sqlite:
            self.db.execute("BEGIN IMMEDIATE")
        # another person each time (keys of their own), as under the varied-people HTTP load
        blocks = [secrets.token_hex(16) for _ in self.rows["victim_block"]]
        cursor = self.db.cursor()
        for table, column in TABLES:
            rows = []
            for i, row in enumerate(self.rows[table]):
                fresh = {k: at if v == self.at else v for k, v in row.items()}  # its instants
                fresh.update({column: key, **changes.get(table, {})})
                if table == "victim_block":
                    fresh["block"] = blocks[i]
                rows.append(tuple(self._value(v) for v in fresh.values()))
            if table == "identity_access":  # after the duplicate check, as the service does it
                self._candidates(cursor, key, blocks)
            cursor.executemany(self.statements[table], rows)
        if self.sqlite:
            self.db.execute("COMMIT")
        else:
            self.db.commit()

    def _candidates(self, cursor: Any, key: Any, blocks: list[str]) -> None:
        marks = ", ".join(self.mark for _ in blocks)
        cursor.execute(
            f"SELECT case_id FROM victim_block WHERE block IN ({marks}) AND case_id != "
            f"{self.mark} LIMIT {CANDIDATES_LIMIT}",
            (*blocks, key),
        )
        cursor.fetchall()


def _json(value: Any) -> dict[str, Any]:
    loaded = json.loads(value) if isinstance(value, str) else value
    assert isinstance(loaded, dict)
    return dict(loaded)


def _instant(at: datetime) -> str:
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def client(
    target: str,
    template: uuid.UUID,
    actor: Actor,
    seconds: float,
    go: Any,
    release: Any,
    out: Connection,
) -> None:
    """One raw-loop client (`bench.rawloop.run`'s `client`): intakes until the time is up."""
    own_signals()
    rows = _Rows(target, template)
    out.send("ready")
    go.wait()
    latencies: list[float] = []
    end = time.perf_counter() + seconds
    while (started := time.perf_counter()) < end:
        rows.intake(actor)
        latencies.append((time.perf_counter() - started) * 1000)
    out.send((latencies, 0, time.process_time()))
    release.wait(30)
    rows.db.close()
