"""One slice of the log checked on its own: the part of the verifier that can run in parallel.

The log is cut into slices of consecutive `seq` (service/audit/verify_pool.py), each ending
where a checkpoint's range ends (or anywhere after the last checkpoint), so that no Merkle tree
spans two slices. `check_slice` reads one slice's rows in seq order and does, for every event,
what `Verifier.event` does, with what the slice alone can know:

- the event's hash recomputed from its canonical bytes (chain.canonical's exact rule);
- the links (`stream_seq`, `prev_hash`) of each named stream ("users", "units", ...) inside
  the slice, from its second event in the slice on;
- the Merkle count, root and last seq of the events before each checkpoint position.

What it cannot know, a named stream's state before the slice, it hands back: the stream's first
event in the slice (`Opening`), and its state after the slice (`Closing`). The parent
(`Verifier.slice`) checks each opening against the stream as the earlier slices left it, in seq
order among the slice's own findings, then checks the checkpoints in their place: the problems,
their order and the verdict are the serial walk's.

A case's stream is not followed here: its links are checked with its head and grants, case by
case (integrity/case_streams.py), so that what the parent holds is bounded by the few named
streams, not by the cases. That split needs every event where it belongs: an event of a case
(a `case_id`) on that case's stream, an event without one on a named stream.

A row the serial walk would find malformed (a field of the wrong type: only SQLite can store
one), or an event without a case on a stream named like a case's, is not judged here: the slice
is marked `irregular`, and the caller verifies the whole log serially instead, so that such a
log is reported exactly as the walk reports it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from service.audit.integrity.merkle import TreeBuilder, leaf_of, perfect_root
from service.kit.canonical_json import canonical_json, parse_json

# the columns of a slice row, in this order (service/audit/repository.py reads them so)
ROW_COLUMNS = (
    "seq", "stream", "stream_seq", "case_id", "kind", "trigger", "from_state", "to_state",
    "actor_id", "actor", "actor_role", "ministry", "at", "payload", "note", "prev_hash", "hash",
)  # fmt: skip
# Event kinds that add one to a case's `version` (contract: "grows by one with each transition"):
# a transition, and a move to another version of the workflow (cases/migration.py).
VERSION_KINDS = frozenset({"transition", "workflow_migrated"})
HASH_MISMATCH = "hash_mismatch"
_CHUNK = 4096  # leaves hashed into a perfect subtree at once (a power of two)
_PLAIN = frozenset({str, int, bool, type(None)})  # values orjson writes as json.dumps does
LINK = 1  # a link problem comes after the hash problem of the same event, as in Verifier.event
CASE_STREAM = re.compile(r"[0-9a-f]{32}")  # a case's stream is its id in hex; others are named


# What the parent needs of each stream the slice touches, as plain tuples: they cross from the
# worker processes pickled, one or two per stream, and a NamedTuple is pickled with its class
# and rebuilt through its constructor (on a log of one-event cases that was a fifth of the
# verification's CPU: bench/RESULTS.md, issue 17).
#
# Opening: a stream's first event in the slice, to check its link against the stream as the
# earlier slices left it: (seq, stream, stream_seq, prev_hash, case_id).
Opening = tuple[int, str, int, str, str | None]
# Closing: a stream's state after the slice, its last event and what the slice adds to it:
# (stream_seq, head, last_seq, state: the last `to_state` in the slice or None, transitions).
Closing = tuple[int, str, int, str | None, int]


class Finding(NamedTuple):
    """A problem found inside the slice: `kind` is a Broken code, `order` 0 for a hash, 1 for
    a link; the event's whereabouts for the report."""

    seq: int
    order: int
    code: str
    reason: str
    stream: str
    stream_seq: int
    case_id: str | None


class Segment(NamedTuple):
    """The events of the slice up to a checkpoint position (after the previous one)."""

    position: int
    size: int  # events
    root: bytes
    last_seq: int | None


@dataclass
class SliceResult:
    """What a slice found, in plain tuples (a worker's result is pickled back to the parent)."""

    after: int  # the slice holds the events with after < seq <= upto
    upto: int
    events: int = 0
    openings: list[Opening] = field(default_factory=list)
    closings: dict[str, Closing] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    tail_count: int = 0  # events after the slice's last checkpoint position
    tail_last: int | None = None
    irregular: bool = False


def payload_value(stored: Any) -> Any:
    """A payload as stored (JSON text) read back; text that is not JSON stays text (and so
    fails its hash)."""
    try:
        return parse_json(stored)
    except (TypeError, ValueError):
        return stored


def check_slice(
    after: int,
    upto: int,
    positions: Sequence[int],
    rows: Iterable[Sequence[Any]],
    case_text: Callable[[Any], Any] | None = None,
) -> SliceResult:
    """Check the rows (ROW_COLUMNS: `at` as canonical text, the payload as stored text) of the
    events with after < seq <= upto, in seq order; `positions` are the checkpoint positions in
    (after, upto], ascending; `case_text` turns a stored case id into its canonical text where
    the database does not (SQLite)."""
    result = SliceResult(after, upto)
    try:
        _check(result, positions, rows, case_text)
    except (TypeError, ValueError, AttributeError, OverflowError, KeyError):
        result.irregular = True
    return result


def _check(
    result: SliceResult,
    positions: Sequence[int],
    rows: Iterable[Sequence[Any]],
    case_text: Callable[[Any], Any] | None,
) -> None:
    sha256, loads, dumps, fromhex = hashlib.sha256, orjson.loads, orjson.dumps, bytes.fromhex
    findings, openings = result.findings, result.openings
    # per stream: [count, head, last_seq, state, transitions]
    streams: dict[str, list[Any]] = {}
    cuts = iter(positions)
    cut = next(cuts, None)
    segment = _Segment()
    leaves = segment.leaves
    for row in rows:
        (seq, stream, stream_seq, case_id, kind, trigger, from_state, to_state, actor_id,
         actor, actor_role, ministry, at, stored_payload, note, prev_hash, stored,
         ) = row  # fmt: skip
        if type(seq) is not int or type(stream_seq) is not int or type(stream) is not str:
            raise TypeError("a field of the wrong type")
        if case_text is not None and case_id is not None:
            case_id = case_text(case_id)
        while cut is not None and seq > cut:
            result.segments.append(segment.close(cut))
            segment = _Segment()
            leaves = segment.leaves
            cut = next(cuts, None)
        # canonical_json(body, may_hold_floats=payload) of payload_value(stored payload), with
        # the common case (a flat object of text and integers) read and written by orjson
        try:
            payload = loads(stored_payload)
            plain = type(payload) is dict and set(map(type, payload.values())) <= _PLAIN
        except orjson.JSONDecodeError:
            plain = False
        if not plain:
            payload = payload_value(stored_payload)
        body = {
            "actor": actor, "actor_id": actor_id, "actor_role": actor_role, "at": at,
            "case_id": case_id, "from_state": from_state, "kind": kind, "ministry": ministry,
            "note": note, "payload": payload, "prev_hash": prev_hash, "stream": stream,
            "stream_seq": stream_seq, "to_state": to_state, "trigger": trigger,
        }  # fmt: skip
        try:
            canonical = dumps(body, option=orjson.OPT_SORT_KEYS) if plain else None
        except orjson.JSONEncodeError:  # an integer beyond 64 bits
            canonical = None
        if canonical is None:
            canonical = canonical_json(body, may_hold_floats=payload)
        if sha256(canonical).hexdigest() != stored:
            findings.append(Finding(seq, 0, HASH_MISMATCH, "its content does not match its hash",
                                    stream, stream_seq, case_id))  # fmt: skip
        if case_id is None:  # a named stream (case_streams.py follows the cases' streams)
            state = streams.get(stream)
            if state is None:
                if CASE_STREAM.fullmatch(stream):  # an event left without its case
                    raise ValueError("an event without a case on a case's stream")
                openings.append((seq, stream, stream_seq, prev_hash, case_id))
                streams[stream] = [stream_seq, stored, seq, to_state,
                                   1 if kind in VERSION_KINDS else 0]  # fmt: skip
            else:
                if stream_seq != state[0] + 1 or prev_hash != state[1]:
                    code, reason = link_problem(state[0], state[1], stream_seq, prev_hash)
                    findings.append(Finding(seq, LINK, code, reason, stream, stream_seq, None))
                state[0], state[1], state[2] = stream_seq, stored, seq
                if to_state is not None:
                    state[3] = to_state
                if kind in VERSION_KINDS:
                    state[4] += 1
        try:  # merkle.event_leaf, inline
            leaves.append(sha256(b"\x00" + seq.to_bytes(8, "big") + fromhex(stored)).digest())
        except ValueError:
            leaves.append(leaf_of(seq, stored))
        if len(leaves) == _CHUNK:
            segment.fold()
        segment.last = seq
        result.events += 1
    while cut is not None:
        result.segments.append(segment.close(cut))
        segment = _Segment()
        cut = next(cuts, None)
    tail = segment.close(0)
    result.tail_count, result.tail_last = tail.size, tail.last_seq
    result.closings = {stream: tuple(state) for stream, state in streams.items()}


class _Segment:
    """The Merkle tree of the events up to a checkpoint position, a chunk of leaves at a time."""

    __slots__ = ("last", "leaves", "tree")

    def __init__(self) -> None:
        self.tree = TreeBuilder()
        self.leaves: list[bytes] = []
        self.last: int | None = None

    def fold(self) -> None:
        self.tree.add_subtree(len(self.leaves), perfect_root(self.leaves))
        self.leaves.clear()

    def close(self, position: int) -> Segment:
        leaves, start = self.leaves, 0
        while start < len(leaves):  # the rest as perfect subtrees, largest first
            size = 1 << ((len(leaves) - start).bit_length() - 1)
            self.tree.add_subtree(size, perfect_root(leaves[start : start + size]))
            start += size
        leaves.clear()
        return Segment(position, self.tree.count, self.tree.root(), self.last)


def link_problem(count: int, head: str, stream_seq: int, prev_hash: str) -> tuple[str, str]:
    """The code and reason of a broken link (as the serial verifier words them); the caller
    knows the link is broken."""
    expected = count + 1
    if stream_seq > expected:
        missing = f"{expected}" if stream_seq == expected + 1 else f"{expected}..{stream_seq - 1}"
        return "stream_gap", f"event(s) {missing} of its stream are missing"
    if stream_seq < expected:
        return (
            "stream_order",
            f"its stream already reached event {count}: inserted out of sequence or reordered",
        )
    return "chain_broken", "its prev_hash is not the hash of the previous event of its stream"
