"""Group decisions alone, in one process, with an optional profile:
`python -m bench.group_decisions [--pg URL] [--cases 569] [--profile]`.

On a new PostgreSQL database (dropped after): an arrival of `--cases` returnees imported by
`nrm cases import`'s path, then the group use cases called as the HTTP routes call them (one
unit of work per `run`): `begin_screening_abroad` fired at the arrival's cases, `identify`
(sensitive: one group approval), and the approval by a KEMLU supervisor who did not ask. Prints
wall and CPU seconds of each step with the load average; `--profile` adds cProfile's top
functions by cumulative time. `bench.bulk_intake` measures the same steps over HTTP and writes
bench/RESULTS.md; this one is for finding where the time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from collections.abc import Callable
from typing import Any

from bench import procfs
from bench._setup import fresh_context
from bench.returnees import manifest_csv, returnees
from schemas.arrival import ArrivalCreate, GroupTransitionRequest
from service.arrivals import intake
from service.arrivals import service as arrivals
from service.arrivals.cli import runner
from service.groups import service as groups
from service.kit.context import AppContext
from service.users.service import seed_account

DEFAULT_PG = "postgresql+psycopg://root@127.0.0.1:5432/postgres"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL server (SQLAlchemy URL)")
    parser.add_argument("--cases", type=int, default=569, help="cases in the group")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions")
    args = parser.parse_args()
    print(f"load {procfs.load_average()} before; {args.cases} cases; {args.pg.split('@')[-1]}")
    with fresh_context(args.pg) as context:
        worker, supervisor = _setup(context, args.cases)
        arrival_id = _setup.arrival  # type: ignore[attr-defined]
        steps: list[tuple[str, Callable[[], Any], str]] = [
            ("begin_screening_abroad", lambda: _fire(worker, arrival_id,
             "begin_screening_abroad", {"mission": "KBRI Yangon"}), "moved"),
            ("identify (one group approval)", lambda: _fire(worker, arrival_id, "identify",
             {"indicators": ["deceptive_recruitment", "exploitation"]}), "pending"),
        ]  # fmt: skip
        answers = [_timed(name, step, key, args.profile) for name, step, key in steps]
        group_id = answers[-1].id
        _timed(
            "group approval, approved once",
            lambda: groups.decide_group(supervisor, group_id, True, "checked", "bench"),
            "approved",
            args.profile,
        )
    print(f"load {procfs.load_average()} after")


def _fire(run: Any, arrival_id: str, trigger: str, payload: dict[str, Any]) -> Any:
    request = GroupTransitionRequest(arrival_id=arrival_id, trigger=trigger, payload=payload)
    return groups.fire_group(run, request, "bench")


def _timed(name: str, step: Callable[[], Any], key: str, profile: bool) -> Any:
    profiler = cProfile.Profile() if profile else None
    started, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    answer = step()
    if profiler:
        profiler.disable()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"{name}: {getattr(answer, key)} {key} of {len(answer.results)}, "
          f"{seconds:.2f} s wall, {cpu:.2f} s CPU")  # fmt: skip
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
        print(out.getvalue())
    return answer


def _setup(context: AppContext, count: int) -> tuple[Any, Any]:
    from service.auth.security import hash_password

    with context.database.transaction() as session:
        for name, role in (("petugas.kemlu", "case_worker"), ("supervisor.kemlu", "supervisor")):
            seed_account(session, name, hash_password("a bench passphrase that is long"),
                         role, "KEMLU")  # fmt: skip
    worker = runner(context, "petugas.kemlu")
    data = ArrivalCreate(
        arrival_date="2025-03-18", place="Bandara Soekarno-Hatta", source_country="MM",
        operation_name="bench group decisions",
    )  # type: ignore[arg-type]  # fmt: skip
    made = worker(lambda s, c, p: arrivals.create_arrival(s, c, p, data))
    content = manifest_csv(list(returnees(count)))
    report = intake.import_manifest(
        worker, made.id, io.BytesIO(content), len(content),
        max_bytes=context.settings.max_manifest_bytes, endpoint="bench",
    )  # fmt: skip
    assert report.created == count, report
    _setup.arrival = made.id  # type: ignore[attr-defined]
    return worker, runner(context, "supervisor.kemlu")


if __name__ == "__main__":
    main()
