"""The audit export as JSON Lines: writing it, and checking it offline; pure, no database.

Every line is one JSON object in canonical form (sorted keys, no whitespace, UTF-8), in order:

    {"type":"header","format":"nrm-audit-export/2","key_id":...}
    {"type":"event",...}        every event in seq order, each checkpoint right after the
    {"type":"checkpoint",...}   last event of its range
    {"type":"head",...}         each case row's and named stream's count and last hash
    {"type":"end","events":n,"checkpoints":k,"heads":h}

An event line holds `seq`, `hash` and the hashed fields of chain.py (`at` already in its
canonical text); a checkpoint line holds the signed fields of signing.py with `hash` and
`signature` (format /2 checkpoints also the identity-access seal, which the file cannot check
without the `identity_access` rows, but whose signature it checks). Version /1 of the export,
whose checkpoints are all /1, is still read. The checker refuses any line that is not exactly
the canonical form of what it parses to, so that no byte of the file is left unchecked.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from service.audit.integrity.chain import HASHED_FIELDS, format_instant
from service.audit.integrity.signing import (
    FIELDS_OF_FORMAT,
    FORMAT_V2,
    is_hex64,
    signed_fields,
)
from service.audit.integrity.verifier import Broken, Record, Verdict, Verifier
from service.kit.canonical_json import canonical_json, parse_json

EXPORT_FORMAT = "nrm-audit-export/2"
EXPORT_FORMAT_V1 = "nrm-audit-export/1"  # read still: its checkpoints are all format /1
CSV_COLUMNS = ("seq", "stream", "stream_seq", "case_id", "kind", "trigger", "from_state",
               "to_state", "actor_id", "actor", "actor_role", "ministry", "at", "payload",
               "note", "prev_hash", "hash")  # fmt: skip
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")


def line(record: Mapping[str, Any]) -> str:
    return canonical_json(record).decode() + "\n"


def event_record(row: Record) -> dict[str, Any]:
    record = {name: row[name] for name in HASHED_FIELDS}
    if not isinstance(record["at"], str):
        record["at"] = format_instant(record["at"])
    if record["case_id"] is not None:
        record["case_id"] = str(record["case_id"])
    record.update(type="event", seq=row["seq"], hash=row["hash"])
    return record


def checkpoint_record(row: Record) -> dict[str, Any]:
    record = {name: row[name] for name in (*signed_fields(row), "hash", "signature")}
    record["type"] = "checkpoint"
    return record


def head_record(
    stream: str,
    event_count: int,
    head_hash: str,
    case_id: str | None = None,
    version: int | None = None,
    state: str | None = None,
) -> dict[str, Any]:
    return {
        "type": "head", "stream": stream, "event_count": event_count, "head_hash": head_hash,
        "case_id": case_id, "version": version, "state": state,
    }  # fmt: skip


def export_lines(
    key_id: str, log: Iterable[tuple[str, Record]], heads: Iterable[Mapping[str, Any]]
) -> Iterator[str]:
    """The export, line by line: `log` is `verifier.interleave` of events and checkpoint rows."""
    yield line({"type": "header", "format": EXPORT_FORMAT, "key_id": key_id})
    counts = {"events": 0, "checkpoints": 0, "heads": 0}
    for kind, row in log:
        if kind == "event":
            counts["events"] += 1
            yield line(event_record(row))
        else:
            counts["checkpoints"] += 1
            yield line(checkpoint_record(row))
    for head in heads:
        counts["heads"] += 1
        yield line(head)
    yield line({"type": "end", **counts})


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: Any) -> Any:
    """OWASP's CSV-injection rule: a text cell that a spreadsheet would read as a formula
    (starting with = + - @, tab or CR) gets a leading apostrophe, and every cell is quoted."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_lines(events: Iterable[Record]) -> Iterator[str]:
    """The events as CSV for reading in a spreadsheet; the JSON Lines export is the proof."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    writer.writerow(CSV_COLUMNS)
    for row in events:
        record = event_record(row)
        record["payload"] = json.dumps(record["payload"], sort_keys=True, ensure_ascii=False)
        writer.writerow([spreadsheet_cell(record[c]) for c in CSV_COLUMNS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def verify_export(
    lines: Iterable[bytes], public_keys: Mapping[str, bytes], trusted: Iterable[Record] = ()
) -> Verdict:
    """Check an export with no database: the same Verifier as the live check, fed from a file."""
    verifier = Verifier(public_keys, trusted)
    reader = _Reader(verifier, public_keys)
    for number, raw in enumerate(lines, start=1):
        reader.feed(number, raw)
    reader.close()
    return verifier.finish()


class _Reader:
    """Parses lines strictly, checks their order and framing, and feeds the verifier."""

    _ORDER = {"header": 0, "event": 1, "checkpoint": 1, "head": 2, "end": 3}

    def __init__(self, verifier: Verifier, public_keys: Mapping[str, bytes]) -> None:
        self.verifier = verifier
        self.public_keys = public_keys
        self.stage = -1
        self.counts = {"events": 0, "checkpoints": 0, "heads": 0}
        self.last_line = 0
        self.ended_cleanly = True
        self.version = EXPORT_FORMAT

    def bad(self, number: int, reason: str) -> None:
        self.verifier.problem(Broken("malformed", reason, line=number))

    def feed(self, number: int, raw: bytes) -> None:
        self.last_line = number
        self.ended_cleanly = raw.endswith(b"\n")
        try:
            text = raw.decode("utf-8")
            record = parse_json(text)
        except ValueError:
            self.bad(number, "not a line of UTF-8 JSON")
            return
        if not isinstance(record, dict) or line(record) != (
            text if text.endswith("\n") else text + "\n"
        ):
            self.bad(number, "not in canonical form (sorted keys, no whitespace)")
            return
        kind = record.get("type")
        check = _CHECKS.get(kind) if isinstance(kind, str) else None
        if check is None or not check(record):
            self.bad(number, f"not a well-formed {kind if isinstance(kind, str) else ''} record")
            return
        assert isinstance(kind, str)
        order = self._ORDER[kind]
        if (
            order < self.stage
            or (order == self.stage and order in (0, 3))
            or (self.stage == -1 and order != 0)
        ):
            self.bad(number, f"a {kind} record is out of place")
            return
        self.stage = order
        self.dispatch(number, kind, record)

    def dispatch(self, number: int, kind: str, record: dict[str, Any]) -> None:
        if kind == "header":
            self.version = record["format"]
            if record["key_id"] not in self.public_keys:
                self.bad(number, f"the export was signed by key {record['key_id']!r}, not yours")
        elif kind == "event":
            self.counts["events"] += 1
            self.verifier.event(record)
        elif kind == "checkpoint":
            self.counts["checkpoints"] += 1
            if self.version == EXPORT_FORMAT_V1 and record["format"] == FORMAT_V2:
                self.bad(number, "a version 1 export holds no format /2 checkpoint")
                return
            self.verifier.checkpoint(record)
        elif kind == "head":
            self.counts["heads"] += 1
            self.verifier.head(record)
        else:
            found = {k: record[k] for k in self.counts}
            if found != self.counts:
                self.bad(number, f"the export announces {found} but holds {self.counts}")

    def close(self) -> None:
        if self.stage != 3 or not self.ended_cleanly:
            self.bad(self.last_line, "the export is cut short: it does not end with its end line")


def _int(value: object, minimum: int = 0) -> bool:
    return type(value) is int and value >= minimum


def _str(value: object) -> bool:
    return type(value) is str


def _opt_str(value: object) -> bool:
    return value is None or type(value) is str


def _event(r: dict[str, Any]) -> bool:
    return (
        r.keys() == _EVENT_KEYS
        and _int(r["seq"], 1) and _int(r["stream_seq"], 1)
        and _str(r["stream"]) and _str(r["kind"]) and _str(r["actor"]) and _str(r["actor_role"])
        and all(_opt_str(r[k]) for k in ("case_id", "trigger", "from_state", "to_state",
                                          "ministry", "note"))
        and (r["actor_id"] is None or _int(r["actor_id"]))
        and _str(r["at"]) and _INSTANT.fullmatch(r["at"]) is not None
        and isinstance(r["payload"], dict)
        and is_hex64(r["prev_hash"]) and is_hex64(r["hash"])
    )  # fmt: skip


def _checkpoint(r: dict[str, Any]) -> bool:
    fields = FIELDS_OF_FORMAT.get(r.get("format"))  # type: ignore[arg-type]
    return (
        fields is not None
        and r.keys() == {"type", *fields, "hash", "signature"}
        and (r["format"] != FORMAT_V2 or _access(r))
        and _int(r["number"], 1) and _int(r["first_seq"], 1) and _int(r["last_seq"], 1)
        and _int(r["event_count"], 1)
        and is_hex64(r["root"]) and is_hex64(r["prev_hash"]) and is_hex64(r["hash"])
        and _str(r["key_id"]) and _str(r["signature"])
        and _str(r["created_at"]) and _INSTANT.fullmatch(r["created_at"]) is not None
    )  # fmt: skip


def _head(r: dict[str, Any]) -> bool:
    return (
        r.keys() == _HEAD_KEYS
        and _str(r["stream"]) and _int(r["event_count"]) and is_hex64(r["head_hash"])
        and _opt_str(r["case_id"]) and _opt_str(r["state"])
        and (r["version"] is None or _int(r["version"], 1))
    )  # fmt: skip


_EVENT_KEYS = {"type", "seq", "hash", *HASHED_FIELDS}


def _access(r: dict[str, Any]) -> bool:
    return _int(r["access_count"]) and _int(r["access_last_id"]) and is_hex64(r["access_root"])


_HEAD_KEYS = {"type", "stream", "event_count", "head_hash", "case_id", "version", "state"}
_CHECKS: dict[str, Callable[[dict[str, Any]], bool]] = {
    "header": lambda r: (
        r.keys() == {"type", "format", "key_id"}
        and r["format"] in (EXPORT_FORMAT, EXPORT_FORMAT_V1)
        and _str(r["key_id"])
    ),
    "event": _event,
    "checkpoint": _checkpoint,
    "head": _head,
    "end": lambda r: (
        r.keys() == {"type", "events", "checkpoints", "heads"}
        and all(_int(r[k]) for k in ("events", "checkpoints", "heads"))
    ),
}
