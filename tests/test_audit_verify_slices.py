"""The log checked in slices (and in worker processes) finds what the event-by-event walk finds,
in the same order, with the same first broken event, on both databases.

Each tampering below is checked twice on the same database: `workers=0` (the walk, the
reference) and sliced, with slices of a few events so that every stream, and every checkpoint
range, lies across several slices. The verdicts must be equal, field for field, problem for
problem; and the sliced path must have judged the log itself (not handed it to the walk).
"""

from __future__ import annotations

import dataclasses
import itertools
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from service.app import create_app
from service.audit import service as audit
from service.audit import verify_pool
from service.audit.integrity.merkle import TreeBuilder, perfect_root, root_of
from service.audit.integrity.slices import LINK, check_slice
from service.audit.integrity.verifier import EVENTS, SEAL, Broken, Verdict, Verifier
from service.kit.context import AppContext
from tests.auditlog import (
    Log,
    build_log,
    checkpoint_rows,
    delete_case,
    events,
    execute,
    rewrite_stream,
    store_checkpoint,
    update_case,
)
from tests.factories import Actors

Tamper = Callable[[Connection, Log, AppContext], None]


def _rewrite_in_two_cases(connection: Connection, log: Log, _context: AppContext) -> None:
    for name, index in (("A", 1), ("B", 0)):
        target = events(connection, log.case_id(name))[index]
        execute(connection, "UPDATE case_event SET note = 'rewritten' WHERE seq = :s",
                s=target["seq"])  # fmt: skip


def _rewrite_with_chain_recomputed(connection: Connection, log: Log, _c: AppContext) -> None:
    rewrite_stream(connection, log.case_id("A"), 2, note="screened by someone else")


def _delete_a_middle_event(connection: Connection, log: Log, _context: AppContext) -> None:
    stream = events(connection, log.case_id("A"))
    execute(connection, "DELETE FROM case_event WHERE seq = :s", s=stream[1]["seq"])


def _delete_the_last_event(connection: Connection, log: Log, _context: AppContext) -> None:
    stream = events(connection, log.case_id("A"))
    execute(connection, "DELETE FROM case_event WHERE seq = :s", s=stream[-1]["seq"])
    update_case(connection, log.case_id("A"), event_count=len(stream) - 1,
                head_hash=stream[-2]["hash"])  # fmt: skip


def _delete_a_whole_case(connection: Connection, log: Log, _context: AppContext) -> None:
    execute(connection, "DELETE FROM case_event WHERE stream = :s", s=log.case_id("C").hex)
    delete_case(connection, log.case_id("C"))


def _reorder_two_events(connection: Connection, log: Log, _context: AppContext) -> None:
    stream = events(connection, log.case_id("A"))
    first, second = stream[1]["seq"], stream[2]["seq"]
    execute(connection, "UPDATE case_event SET seq = -1 WHERE seq = :a", a=first)
    execute(connection, "UPDATE case_event SET seq = :a WHERE seq = :b", a=first, b=second)
    execute(connection, "UPDATE case_event SET seq = :b WHERE seq = -1", b=second)


def _head_mismatch(connection: Connection, log: Log, _context: AppContext) -> None:
    update_case(connection, log.case_id("B"), head_hash="f" * 64)
    update_case(connection, log.case_id("D"), event_count=7)


def _checkpoint_count_changed(connection: Connection, _log: Log, _context: AppContext) -> None:
    execute(connection, "UPDATE audit_checkpoint SET event_count = 2 WHERE number = 1")


def _checkpoint_resigned_over_a_rewrite(
    connection: Connection, log: Log, context: AppContext
) -> None:
    rewrite_stream(connection, log.case_id("A"), 1, actor="someone.else")
    forged = checkpoint_rows(connection)[0]
    forged["root"] = "0" * 64
    store_checkpoint(connection, forged, sign_with=context.settings.keys.audit_signing_key)


def _checkpoint_deleted(connection: Connection, _log: Log, _context: AppContext) -> None:
    execute(connection, "DELETE FROM audit_checkpoint WHERE number = 1")


def _event_moved_past_the_end(connection: Connection, log: Log, _context: AppContext) -> None:
    stream = events(connection, log.case_id("B"))
    execute(connection, "UPDATE case_event SET seq = 1000000 WHERE seq = :s", s=stream[0]["seq"])


def _grants_changed_behind_the_api(connection: Connection, log: Log, _c: AppContext) -> None:
    """A ministry given sight of a sound case (C) and of one whose stream is broken (A: its
    grants are not reported again), and a unit's row deleted from another (D)."""
    _rewrite_in_two_cases(connection, log, _c)
    for name in ("A", "C"):
        execute(connection, "INSERT INTO case_ministry (case_id, ministry, since) "
                "VALUES (:c, 'KEMENKES', :t)", c=_stored(connection, log.case_id(name)),
                t=datetime(2026, 1, 5, tzinfo=UTC))  # fmt: skip
    execute(connection, "DELETE FROM case_unit WHERE case_id = :c",
            c=_stored(connection, log.case_id("D")))  # fmt: skip


def _stored(connection: Connection, case_id: uuid.UUID) -> Any:
    """A case id as the column stores it (PostgreSQL uuid; SQLite 32 hex digits)."""
    return str(case_id) if connection.dialect.name == "postgresql" else case_id.hex


def _untouched(_connection: Connection, _log: Log, _context: AppContext) -> None:
    pass


TAMPERINGS: dict[str, Tamper] = {
    "untouched": _untouched,
    "rewritten in two cases": _rewrite_in_two_cases,
    "rewritten, chain recomputed": _rewrite_with_chain_recomputed,
    "a middle event deleted": _delete_a_middle_event,
    "the last event deleted, head moved back": _delete_the_last_event,
    "a whole case deleted": _delete_a_whole_case,
    "two events reordered": _reorder_two_events,
    "heads that do not match": _head_mismatch,
    "a checkpoint's count changed": _checkpoint_count_changed,
    "a checkpoint re-signed over a rewrite": _checkpoint_resigned_over_a_rewrite,
    "a checkpoint deleted": _checkpoint_deleted,
    "an event moved past the end": _event_moved_past_the_end,
    "grants changed behind the API": _grants_changed_behind_the_api,
}


@pytest.fixture
def walked_only_by_request(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Fails the test if the sliced path hands a log to the walk (it must judge it itself)."""
    walks: list[int] = []
    walk = audit._verify_walk

    def counted(context: AppContext, trusted: Any) -> Verdict:
        walks.append(1)
        return walk(context, trusted)

    monkeypatch.setattr(audit, "_verify_walk", counted)
    yield walks


@pytest.mark.parametrize("tamper", TAMPERINGS.values(), ids=TAMPERINGS.keys())
def test_slices_find_what_the_walk_finds(
    client: TestClient,
    actors: Actors,
    context: AppContext,
    connection: Connection,
    tamper: Tamper,
    walked_only_by_request: list[int],
) -> None:
    log = build_log(client, actors, context)
    tamper(connection, log, context)
    walked = audit.verify(context, workers=0)
    assert walked_only_by_request == [1]
    assert walked.ok is (tamper is _untouched), walked.problems
    for size in (1, 2, 3, 50_000):
        sliced = audit.verify(context, workers=1, slice_events=size)
        assert sliced == walked, f"slices of {size}"
    assert walked_only_by_request == [1]


@pytest.mark.parametrize("tamper", [_rewrite_in_two_cases, _delete_a_middle_event,
                                    _reorder_two_events, _head_mismatch,
                                    _checkpoint_resigned_over_a_rewrite,
                                    _grants_changed_behind_the_api])  # fmt: skip
def test_worker_processes_find_what_the_walk_finds(
    committed_context: Callable[..., AppContext],
    tamper: Tamper,
    walked_only_by_request: list[int],
) -> None:
    """Real processes, each on its own connection (PostgreSQL: reading the exported snapshot;
    SQLite checks its slices in process), on a committed log."""
    context = committed_context()
    with TestClient(create_app(context)) as client:
        log = build_log(client, Actors(client, context), context)
    with context.database.engine.begin() as connection:
        tamper(connection, log, context)
    walked = audit.verify(context, workers=0)
    assert not walked.ok
    sliced = audit.verify(context, workers=2, slice_events=2)
    assert sliced == walked
    assert walked_only_by_request == [1]


def _event_put_on_another_case_s_stream(connection: Connection, log: Log, _c: AppContext) -> None:
    stream = events(connection, log.case_id("A"))
    execute(connection, "UPDATE case_event SET stream = :b, stream_seq = 99 WHERE seq = :s",
            b=log.case_id("B").hex, s=stream[1]["seq"])  # fmt: skip


def _event_cut_from_its_case(connection: Connection, log: Log, _context: AppContext) -> None:
    stream = events(connection, log.case_id("B"))
    execute(connection, "UPDATE case_event SET case_id = NULL WHERE seq = :s", s=stream[1]["seq"])


@pytest.mark.parametrize("tamper", [_event_put_on_another_case_s_stream, _event_cut_from_its_case])
def test_a_log_whose_events_left_their_case_s_stream_is_walked(
    client: TestClient,
    actors: Actors,
    context: AppContext,
    connection: Connection,
    tamper: Tamper,
    walked_only_by_request: list[int],
) -> None:
    """Each case is checked on its own only if its events are on its stream (behind the API
    they need not be): such a log is handed to the walk, which reports it."""
    log = build_log(client, actors, context)
    tamper(connection, log, context)
    walked = audit.verify(context, workers=0)
    assert not walked.ok
    assert audit.verify(context, workers=1, slice_events=2) == walked
    assert walked_only_by_request == [1, 1]


def test_the_verifying_process_holds_the_named_streams_not_the_cases(
    client: TestClient,
    actors: Actors,
    context: AppContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the parent keeps until the end of the log is each named stream's state; each case
    is checked on its own (its links, head and grants) and forgotten."""
    log = build_log(client, actors, context)
    held: list[int] = []
    finish = Verifier.finish

    def recorded(self: Verifier, **options: Any) -> Verdict:
        held.append(self.streams_held)
        return finish(self, **options)

    monkeypatch.setattr(Verifier, "finish", recorded)
    walked = audit.verify(context, workers=0)
    sliced = audit.verify(context, workers=1, slice_events=2)
    assert sliced == walked and walked.ok
    named = walked.streams_checked - len(log.cases)
    assert named >= 1  # "users"
    assert held == [walked.streams_checked, named]


def test_problems_found_out_of_order_are_listed_in_the_walk_s() -> None:
    """A thousand link problems reported newest first (as ranges of cases may find them), then
    one of a later phase: the verdict lists the first hundred by seq, counts them all, and
    names the lowest seq first broken."""
    verifier = Verifier({})
    for seq in range(1000, 0, -1):
        verifier.problem(Broken("stream_gap", "missing", seq=seq, stream=f"s{seq}"),
                         (EVENTS, seq, LINK))  # fmt: skip
    verifier.place = (SEAL,)
    verifier.problem(Broken("access_unsealed", "an identity look is not sealed"))
    verdict = verifier.finish(heads_given=False)
    assert verdict.problem_count == 1001
    assert [p.seq for p in verdict.problems] == list(range(1, 101))
    assert verdict.first_broken is not None and verdict.first_broken.seq == 1


def test_a_malformed_row_is_left_to_the_walk() -> None:
    """A field of the wrong type (only SQLite can store one): the slice does not judge it."""
    row = (1, "users", "one", None, "k", None, None, None, None, "a", "r", None, "t", "{}", None,
           "0" * 64, "0" * 64)  # fmt: skip
    assert check_slice(0, 1, [], [row]).irregular


@pytest.mark.parametrize("count", [*range(0, 70), 1000, 4096, 4097, 5000])
def test_a_tree_built_from_perfect_subtrees_has_the_same_root(count: int) -> None:
    leaves = [bytes([n % 251]) * 32 for n in range(count)]
    builder, start = TreeBuilder(), 0
    while start < count:
        size = 1 << ((count - start).bit_length() - 1)
        builder.add_subtree(size, perfect_root(leaves[start : start + size]))
        start += size
    assert builder.count == count
    assert builder.root() == root_of(leaves)


def test_a_subtree_out_of_place_is_refused() -> None:
    builder = TreeBuilder()
    builder.add(b"\x00" * 32)
    with pytest.raises(ValueError):
        builder.add_subtree(2, b"\x01" * 32)


def test_slices_cover_every_event_and_end_at_checkpoint_positions() -> None:
    seqs = [*range(1, 40), 100, 101, 250]
    positions = [5, 12, 30, 101]

    def seq_after(after: int) -> int | None:
        later = [s for s in seqs if s > after]
        return later[2] if len(later) > 2 else None

    slices = list(audit.plan_slices(positions, min(seqs), max(seqs), 3, seq_after))
    assert slices[0][0] < min(seqs) and slices[-1][1] == max(seqs)
    for (_a, upto, _p), (after, _u, _q) in itertools.pairwise(slices):
        assert upto == after
    for after, upto, inside in slices:
        assert inside == [p for p in positions if after < p <= upto]
        if upto <= positions[-1]:
            assert upto in positions


def test_workers_that_fail_leave_the_slices_to_this_process(
    committed_context: Callable[..., AppContext],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A snapshot the workers cannot import (PostgreSQL; SQLite has no workers to fail): the
    parent checks the slices itself, and the verdict is the walk's."""
    context = committed_context()
    if context.database.engine.dialect.name != "postgresql":
        assert audit.verify(context, workers=2, slice_events=2) == audit.verify(context, workers=0)
        return
    with TestClient(create_app(context)) as client:
        log = build_log(client, Actors(client, context), context)
    with context.database.engine.begin() as connection:
        _rewrite_in_two_cases(connection, log, context)
    reader = audit._reader

    def unusable(session: Any, context: AppContext) -> Any:
        return dataclasses.replace(reader(session, context), snapshot="00000003-0000001B-1")

    monkeypatch.setattr(audit, "_reader", unusable)
    assert audit.verify(context, workers=2, slice_events=2) == audit.verify(context, workers=0)
    assert "a worker process failed" in caplog.text


def test_workers_that_cannot_connect_leave_the_slices_to_this_process(
    committed_context: Callable[..., AppContext],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The workers' connection refused as they start (the pool started before the first
    slice): the pool is shut down and the parent checks the log itself."""
    context = committed_context()
    with TestClient(create_app(context)) as client:
        build_log(client, Actors(client, context), context)
    if context.database.engine.dialect.name != "postgresql":  # no workers: the slices here
        assert audit.verify(context, workers=2, slice_events=2) == audit.verify(context, workers=0)
        return
    reader = audit._reader

    def refused(session: Any, context: AppContext) -> Any:
        return dataclasses.replace(
            reader(session, context), conninfo="postgresql://nobody@127.0.0.1:1/nowhere"
        )

    monkeypatch.setattr(audit, "_reader", refused)
    verdict = audit.verify(context, workers=2, slice_events=2)
    assert verdict.ok and verdict == audit.verify(context, workers=0)
    assert "a worker process failed" in caplog.text


def test_two_verifications_starting_together_leave_the_main_module_in_place() -> None:
    """While the workers start, `__main__` is a bare module (so that spawn does not run the
    parent's program in each worker); a second verification starting meanwhile in the same
    server process waits its turn, or it would keep the bare module as the one to restore."""
    original = sys.modules["__main__"]
    inside = threading.Event()

    def first() -> None:
        with verify_pool._main_module_hidden():
            assert sys.modules["__main__"] is not original
            inside.set()
            time.sleep(0.05)

    def second() -> None:
        inside.wait()
        with verify_pool._main_module_hidden():
            time.sleep(0.1)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sys.modules["__main__"] is original


def test_worker_processes_replay_the_grants_and_skip_the_broken_streams(
    committed_context: Callable[..., AppContext],
) -> None:
    """The grants checked by the workers, range by range: the ministry added to the sound case
    and the unit rows deleted are reported, the broken case's grants are not (its stream is);
    in the same order as the walk, which replays them in this process."""
    context = committed_context()
    with TestClient(create_app(context)) as client:
        log = build_log(client, Actors(client, context), context)
    with context.database.engine.begin() as connection:
        _grants_changed_behind_the_api(connection, log, context)
    sliced = audit.verify(context, workers=2, slice_events=2)
    grant_problems = [(p.code, p.case_id) for p in sliced.problems if p.code.startswith("grant_")]
    c, d = str(log.case_id("C")), str(log.case_id("D"))
    assert ("grant_ministry", c) in grant_problems and ("grant_unit", d) in grant_problems
    assert str(log.case_id("A")) not in {case for _code, case in grant_problems}
    assert sliced == audit.verify(context, workers=0)
