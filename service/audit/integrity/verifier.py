"""The audit verifier: one pure state machine for the live database and for an export file.

It reads the log once, in `seq` order, with each checkpoint placed right after the last event
it covers (`interleave`), then the heads (each case row's and named stream's count and last
hash). It checks, as it goes:

- each event's hash against its canonical serialisation (a rewritten event);
- each stream's `stream_seq` and `prev_hash` links (deleted, reordered or inserted events);
- `seq` strictly increasing (an export edited out of order);
- each checkpoint's number, link to the previous one, hash, Ed25519 signature, and the Merkle
  root and count of the events in its range (a forged, re-signed or stale checkpoint, or any
  change to sealed events even if their chain was recomputed);
- each head against its stream: count, last hash, and for a case its version and state (the
  last event of a case deleted, or a whole case);
- optionally, trusted copies of checkpoints that an auditor kept: the log must still hold them;
- optionally, the checkpoints a witness outside the database holds (service/audit/witness.py),
  in number order: the log must hold each unchanged, so that deleting the newest checkpoints
  (and rewriting what they sealed) is caught without any kept file.

A problem does not stop the walk: the stream resynchronises on the event as found, so one
tampering gives one local report. `first_broken` is the problem at the lowest `seq`, or if no
single event can be named (a sealed range changed behind a recomputed chain), the first
checkpoint that refuses its range.

The verdict lists problems in the order the walk finds them. A problem found elsewhere (a
case's links and head, checked case by case in worker processes: integrity/case_streams.py) is
given its place in that order (`Place`): the phase of the walk, then its position in the phase.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from service.audit.integrity.chain import event_hash
from service.audit.integrity.merkle import TreeBuilder, leaf_of
from service.audit.integrity.signing import GENESIS, checkpoint_hash, signature_valid
from service.audit.integrity.slices import (
    CASE_STREAM,
    LINK,
    VERSION_KINDS,
    Closing,
    Finding,
    Opening,
    Segment,
    SliceResult,
    link_problem,
)

MAX_REPORTED = 100
# The phases of the walk, in order: what is reported before the events (the witness), the
# events and checkpoints (by seq), the heads (case rows by id, then named streams), the grants
# (by case), the identity-access seal, and what `finish` reports (missing heads by the seq of
# their stream's first event, then cut-back checkpoints, then the witness's newer ones).
BEFORE, EVENTS, HEADS, GRANTS, SEAL, FINISH = range(6)
CHECKPOINT = 2  # a checkpoint's problems follow its last event's hash (0) and link (LINK, 1)
Place = tuple[Any, ...]  # (phase, position in it...); equal places keep the order reported
Record = Mapping[str, Any]


@dataclass(frozen=True)
class Broken:
    """One problem, named by the event (`seq`) or checkpoint where it shows."""

    code: str
    reason: str
    seq: int | None = None
    stream: str | None = None
    stream_seq: int | None = None
    case_id: str | None = None
    checkpoint: int | None = None
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        where = []
        if self.seq is not None:
            where.append(f"event seq {self.seq}")
        if self.case_id is not None:
            where.append(f"case {self.case_id}")
        elif self.stream is not None:
            where.append(f"stream {self.stream}")
        if self.stream_seq is not None:
            where.append(f"stream_seq {self.stream_seq}")
        if self.checkpoint is not None:
            where.append(f"checkpoint {self.checkpoint}")
        if self.line is not None:
            where.append(f"line {self.line}")
        return f"{', '.join(where) or 'the log'}: {self.code}: {self.reason}"


@dataclass(frozen=True)
class Verdict:
    events_checked: int
    checkpoints_checked: int
    streams_checked: int
    unsealed_events: int
    problem_count: int
    problems: tuple[Broken, ...]
    first_broken: Broken | None

    @property
    def ok(self) -> bool:
        return self.problem_count == 0


class StreamState:
    """A stream as the walk has seen it so far."""

    __slots__ = ("case_id", "count", "first_seq", "head", "last_seq", "state", "transitions")

    def __init__(self, case_id: str | None, first_seq: int | None = None) -> None:
        self.case_id = case_id
        self.first_seq = first_seq
        self.count = 0
        self.head = GENESIS
        self.last_seq: int | None = None
        self.state: str | None = None
        self.transitions = 0


class _Tree(Protocol):
    """The events since the last checkpoint: a tree being built, or one a slice built."""

    @property
    def count(self) -> int: ...

    def root(self) -> bytes: ...


class _Sealed:
    __slots__ = ("_root", "count")

    def __init__(self, count: int, root: bytes) -> None:
        self.count, self._root = count, root

    def root(self) -> bytes:
        return self._root


class _Counted(_Sealed):
    """Events after the last checkpoint position, counted only: no checkpoint asks their root."""

    def __init__(self, count: int) -> None:
        super().__init__(count, b"")

    def root(self) -> bytes:
        raise RuntimeError("the events after the last checkpoint have no root here")


class Verifier:
    """Feed it `event`, `checkpoint` and `head` records in log order, then call `finish`."""

    def __init__(
        self,
        public_keys: Mapping[str, bytes],
        trusted: Iterable[Record] = (),
        witnessed: Iterable[Record] = (),
    ) -> None:
        self._keys = dict(public_keys)
        self._trusted = {c["number"]: c["hash"] for c in trusted}
        self._streams: dict[str, StreamState] = {}
        self._headed: set[str] = set()
        self._last_seq = 0
        self._cp_number = 0
        self._cp_head = GENESIS
        self._sealed_upto = 0
        self._pending: _Tree = TreeBuilder()
        self._pending_last: int | None = None
        self._sealed_position: int | None = None
        self._problems: list[tuple[Place, int, Broken]] = []  # the first MAX_REPORTED, and more
        self._problem_count = 0
        self._first: tuple[tuple[int, int], Place, int, Broken] | None = None
        self.place: Place = (BEFORE,)  # where the problems reported now go in the walk's order
        self.events_checked = 0
        self.checkpoints_checked = 0
        self.broken_streams: set[str] = set()  # streams with a problem reported already
        self._streams_elsewhere = 0
        self._witness = iter(witnessed)
        self._witnessed = self._next_witnessed()

    def _next_witnessed(self) -> Record | None:
        """The witness's next checkpoint that is intact and signed by a trusted key; a damaged
        one is itself a problem to report."""
        for witnessed in self._witness:
            number = witnessed.get("number")
            try:
                intact = checkpoint_hash(witnessed) == witnessed["hash"]
                key = self._keys.get(witnessed["key_id"])
                signed = key is not None and signature_valid(key, witnessed, witnessed["signature"])
            except (KeyError, TypeError, ValueError, AttributeError):
                intact = signed = False
            if intact and signed and type(number) is int:
                return witnessed
            self.problem(Broken("witness_invalid", "the witness holds a checkpoint that is "
                                "damaged or not signed by a trusted key",
                                checkpoint=number if type(number) is int else None))  # fmt: skip
        return None

    def problem(self, broken: Broken, place: Place | None = None) -> None:
        """Report a problem where the walk is now, or at `place` (found out of the walk's order)."""
        if broken.stream is not None:
            self.broken_streams.add(broken.stream)
        where = self.place if place is None else place
        number = self._problem_count
        self._problem_count += 1
        entry = (where, number, broken)
        problems = self._problems
        problems.append(entry)
        if len(problems) >= 8 * MAX_REPORTED:  # keep the first MAX_REPORTED in the walk's order
            self._problems = heapq.nsmallest(MAX_REPORTED, problems)
        first = (_rank(broken), where, number, broken)
        if self._first is None or first[:3] < self._first[:3]:
            self._first = first

    def add_streams(self, count: int) -> None:
        """Streams checked elsewhere (case by case), for the verdict's count."""
        self._streams_elsewhere += count

    def event(self, e: Record) -> None:
        """One event; the hot path, so the problem's details are only gathered if there is one."""
        self.events_checked += 1
        try:
            self._event(e)
        except (TypeError, ValueError, AttributeError, OverflowError):  # garbage stored
            self.problem(Broken("malformed", "a field of the wrong type", **_where(e)))

    def _event(self, e: Record) -> None:
        seq, stored = e["seq"], e["hash"]
        if event_hash(e) != stored:
            self.problem(
                Broken("hash_mismatch", "its content does not match its hash", **_where(e))
            )
        if seq <= self._last_seq:
            reason = f"it comes after seq {self._last_seq}: out of order"
            self.problem(Broken("seq_order", reason, **_where(e)))
        else:
            self._last_seq = seq
        stream, stream_seq = e["stream"], e["stream_seq"]
        state = self._streams.get(stream)
        if state is None:
            case_id = e["case_id"]
            case_text = None if case_id is None else str(case_id)
            state = self._streams[stream] = StreamState(case_text, seq)
        if stream_seq != state.count + 1 or e["prev_hash"] != state.head:
            self._link(state, e, _where(e))
        state.count, state.head, state.last_seq = stream_seq, stored, seq
        if e["to_state"] is not None:
            state.state = e["to_state"]
        if e["kind"] in VERSION_KINDS:
            state.transitions += 1
        pending = self._pending
        if not isinstance(pending, TreeBuilder):  # a walk and slices are never mixed
            raise RuntimeError("an event walked after slices")
        pending.add(leaf_of(seq, stored))
        self._pending_last = seq

    def _link(self, state: StreamState, e: Record, where: dict[str, Any]) -> None:
        code, reason = link_problem(state.count, state.head, e["stream_seq"], e["prev_hash"])
        self.problem(Broken(code, reason, **where))

    def slice(self, result: SliceResult, checkpoints: Sequence[tuple[int, Record]]) -> None:
        """A slice of the log checked on its own (integrity/slices.py) and the checkpoints
        placed in it (position, record), in number order: the same checks, in the same order,
        as feeding its events and checkpoints one by one."""
        self.events_checked += result.events
        segments = {segment.position: segment for segment in result.segments}
        closings = result.closings
        items: Iterator[tuple[int, int, Opening | Finding]] = heapq.merge(
            ((f.seq, f.order, f) for f in result.findings),
            ((o[0], LINK, o) for o in result.openings),
            key=lambda item: (item[0], item[1]),
        )
        pending = iter(checkpoints)
        upcoming = next(pending, None)
        for seq, _order, item in items:
            while upcoming is not None and seq > upcoming[0]:
                self._sealed(segments, *upcoming)
                upcoming = next(pending, None)
            if isinstance(item, Finding):
                self.problem(Broken(item.code, item.reason, seq=item.seq, stream=item.stream,
                                    stream_seq=item.stream_seq, case_id=item.case_id),
                             (EVENTS, seq, item.order))  # fmt: skip
            else:
                self._open(item, closings[item[1]])
        while upcoming is not None:
            self._sealed(segments, *upcoming)
            upcoming = next(pending, None)
        if result.tail_count:  # events after the last checkpoint: counted, never sealed here
            self._pending = _Counted(self._pending.count + result.tail_count)
            self._pending_last = result.tail_last

    def _open(self, opening: Opening, closing: Closing) -> None:
        seq, stream, stream_seq, prev_hash, case_id = opening
        state = self._streams.get(stream)
        if state is None:
            state = self._streams[stream] = StreamState(case_id, seq)
        if stream_seq != state.count + 1 or prev_hash != state.head:
            code, reason = link_problem(state.count, state.head, stream_seq, prev_hash)
            self.problem(Broken(code, reason, seq=seq, stream=stream, stream_seq=stream_seq,
                                case_id=case_id), (EVENTS, seq, LINK))  # fmt: skip
        state.count, state.head, state.last_seq, to_state, transitions = closing
        if to_state is not None:
            state.state = to_state
        state.transitions += transitions

    def _sealed(self, segments: Mapping[int, Segment], position: int, c: Record) -> None:
        """A checkpoint at its position: the first one there gets the events before it, as
        the slice counted them; any other there, none (the previous one took them)."""
        self.place = (EVENTS, position, CHECKPOINT)
        if position != self._sealed_position:
            if isinstance(self._pending, _Counted) and self._pending.count:
                raise RuntimeError("a checkpoint after a slice cut mid-range")  # planner's bug
            segment = segments[position]
            self._pending = _Sealed(segment.size, segment.root)
            self._pending_last = segment.last_seq
            self._sealed_position = position
        self.checkpoint(c)

    def checkpoint(self, c: Record) -> None:
        self.checkpoints_checked += 1
        try:
            self._checkpoint(c)
        except (TypeError, ValueError, AttributeError, OverflowError):  # garbage stored
            number = c.get("number")
            self.problem(Broken("checkpoint_malformed", "a field of the wrong type",
                                checkpoint=number if type(number) is int else None))  # fmt: skip
            self._pending, self._pending_last = TreeBuilder(), None

    def _checkpoint(self, c: Record) -> None:
        number = c["number"]

        def report(code: str, reason: str) -> None:
            self.problem(Broken(code, reason, seq=c["first_seq"], checkpoint=number))

        if number != self._cp_number + 1:
            report("checkpoint_chain", f"it follows checkpoint {self._cp_number}")
        if c["prev_hash"] != self._cp_head:
            report("checkpoint_chain", "its prev_hash is not the previous checkpoint's hash")
        if c["first_seq"] != self._sealed_upto + 1 or c["last_seq"] < c["first_seq"]:
            report(
                "checkpoint_range",
                f"it covers seq {c['first_seq']}..{c['last_seq']} but the previous one ended "
                f"at {self._sealed_upto}",
            )
        if checkpoint_hash(c) != c["hash"]:
            report("checkpoint_hash", "its content does not match its hash")
        key = self._keys.get(c["key_id"])
        if key is None:
            report("checkpoint_key", f"it names key {c['key_id']!r}, which is not trusted")
        elif not signature_valid(key, c, c["signature"]):
            report("checkpoint_signature", "its signature does not verify with the public key")
        found = self._pending.count
        if (
            found != c["event_count"]
            or self._pending.root().hex() != c["root"]
            or (found and self._pending_last != c["last_seq"])
        ):
            report(
                "checkpoint_root",
                f"the {found} event(s) found in seq {c['first_seq']}..{c['last_seq']} do not "
                f"match its Merkle root over {c['event_count']}: an event in this range was "
                "changed, deleted, inserted or moved",
            )
        trusted = self._trusted.pop(number, None)
        if trusted is not None and trusted != c["hash"]:
            report("checkpoint_untrusted", "it differs from the trusted copy you kept")
        while self._witnessed is not None and self._witnessed["number"] <= number:
            if self._witnessed["number"] == number and self._witnessed["hash"] != c["hash"]:
                report(
                    "witness_differs",
                    f"it differs from the checkpoint {number} the witness holds (hash "
                    f"{self._witnessed['hash']}): the log was rewritten and sealed again",
                )
            self._witnessed = self._next_witnessed()
        self._cp_number, self._cp_head = number, c["hash"]
        self._sealed_upto = max(self._sealed_upto, c["last_seq"])
        self._pending, self._pending_last = TreeBuilder(), None

    def head(self, h: Record) -> None:
        try:
            stream = h["stream"]
            self._headed.add(stream)
            state = self._streams.get(stream)
        except (TypeError, KeyError):  # garbage stored: head_problems says so
            state = None
        for broken in head_problems(h, state):
            self.problem(broken)

    def finish(self, *, heads_given: bool = True) -> Verdict:
        if heads_given:
            for stream, state in self._streams.items():
                if stream not in self._headed:
                    self.problem(head_missing(stream, state), (FINISH, 0, state.first_seq))
        self.place = (FINISH, 1)
        for number in sorted(self._trusted):
            self.problem(
                Broken(
                    "checkpoint_missing",
                    "the trusted copy you kept is not in the log: it was cut back",
                    checkpoint=number,
                )
            )
        self.place = (FINISH, 2)
        newest = self._witnessed
        while (following := self._next_witnessed()) is not None:
            newest = following
        if newest is not None:
            self.problem(
                Broken(
                    "witness_missing",
                    f"the witness holds checkpoint {newest['number']} (hash {newest['hash']}) "
                    f"but the log's newest is checkpoint {self._cp_number}: checkpoints were "
                    "deleted, and what they sealed may have been rewritten",
                    checkpoint=newest["number"],
                )
            )
            self._witnessed = None
        return Verdict(
            events_checked=self.events_checked,
            checkpoints_checked=self.checkpoints_checked,
            streams_checked=len(self._streams) + self._streams_elsewhere,
            unsealed_events=self._pending.count,
            problem_count=self._problem_count,
            problems=tuple(b for _place, _n, b in heapq.nsmallest(MAX_REPORTED, self._problems)),
            first_broken=None if self._first is None else self._first[3],
        )

    @property
    def streams_held(self) -> int:
        """How many streams this verifier keeps the state of (until `finish`)."""
        return len(self._streams)


def head_problems(h: Record, state: StreamState | None) -> list[Broken]:
    """A head (a case row's or named stream's count, last hash, and for a case its version and
    state) against its stream as the log left it (None: no event)."""
    try:
        return _head_problems(h, state or StreamState(h["case_id"]))
    except (TypeError, ValueError, AttributeError, OverflowError, KeyError):  # garbage stored
        return [Broken("head_mismatch", "a field of the wrong type",
                       stream=str(h.get("stream")), case_id=h.get("case_id"))]  # fmt: skip


def _head_problems(h: Record, state: StreamState) -> list[Broken]:
    stream = h["stream"]
    where = {"seq": state.last_seq, "stream": stream, "case_id": h["case_id"]}
    recorded = h["event_count"]
    if _case_of(stream) != h["case_id"] or (
        h["case_id"] is None and (h["version"], h["state"]) != (None, None)
    ):
        return [Broken("head_mismatch", "the head names another case", **where)]
    if recorded != state.count or h["head_hash"] != state.head:
        return [Broken("head_mismatch", _head_reason(recorded, state), **where)]
    problems = []
    if h["case_id"] is not None:
        if h["version"] != 1 + state.transitions:
            reason = (f"the case row is at version {h['version']} but its log holds "
                      f"{state.transitions} transition(s)")  # fmt: skip
            problems.append(Broken("head_version", reason, **where))
        if h["state"] != state.state:
            reason = f"the case row is in {h['state']!r} but its log ends in {state.state!r}"
            problems.append(Broken("head_state", reason, **where))
    return problems


def head_missing(stream: str, state: StreamState) -> Broken:
    """A stream whose events no head accounts for (a case row deleted, or a stream's head)."""
    return Broken("head_missing", f"its {state.count} event(s) belong to no case row or stream "
                  "head", seq=state.last_seq, stream=stream, case_id=state.case_id)  # fmt: skip


def interleave(
    events: Iterable[Record], checkpoints: Iterable[Record]
) -> Iterator[tuple[str, Record]]:
    """Events in seq order, each checkpoint right after the last event of its range."""
    pending = iter(checkpoints)
    upcoming = next(pending, None)
    for event in events:
        while upcoming is not None and event["seq"] > last_seq_of(upcoming):
            yield "checkpoint", upcoming
            upcoming = next(pending, None)
        yield "event", event
    while upcoming is not None:
        yield "checkpoint", upcoming
        upcoming = next(pending, None)


def last_seq_of(checkpoint: Record) -> int:
    """Where a checkpoint goes in the log; one whose range is garbage goes first (and fails)."""
    last = checkpoint["last_seq"]
    return last if type(last) is int else -1


def _where(e: Record) -> dict[str, Any]:
    """Where an event is, as far as its (perhaps garbage) fields can say."""
    seq, stream_seq, case_id = e.get("seq"), e.get("stream_seq"), e.get("case_id")
    return {
        "seq": seq if type(seq) is int else None,
        "stream": str(e.get("stream")),
        "stream_seq": stream_seq if type(stream_seq) is int else None,
        "case_id": None if case_id is None else str(case_id),
    }


def _head_reason(recorded: int, state: StreamState) -> str:
    if state.count == 0:
        return f"the row records {recorded} event(s) but the log holds none: they were deleted"
    if recorded > state.count:
        return (
            f"the row records {recorded} event(s) but the log ends at event {state.count}: the "
            "last event(s) were deleted"
        )
    if recorded < state.count:
        return f"the log holds {state.count} event(s) but the row records only {recorded}"
    return "the row's head hash is not the hash of the last event in the log"


def _rank(broken: Broken) -> tuple[int, int]:
    """Problems at a named event first, by seq; then checkpoints, which only know a range;
    then the rest (a case whose events are all gone, a malformed line)."""
    if broken.code.startswith(("checkpoint_", "witness_")):
        return (1, broken.checkpoint or 0)
    if broken.seq is not None:
        return (0, broken.seq)
    return (2, broken.line or 0)


def _case_of(stream: str) -> str | None:
    """A case's stream is its id in hex; any other stream is a named one."""
    if not CASE_STREAM.fullmatch(stream):
        return None
    return f"{stream[:8]}-{stream[8:12]}-{stream[12:16]}-{stream[16:20]}-{stream[20:]}"
