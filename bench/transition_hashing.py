"""What the hash chain costs a transition: the same workload with hashing on and off.

    .venv/bin/python -m bench.transition_hashing [--pg URL] [--threads 4] [--transitions 1500]

Each round fires in-place transitions (`record_police_report`, POLRI) on its own cases,
through the real use case, one transaction each; rounds alternate hashing on and off so that
a busy machine hurts both alike. "Off" replaces the event hash by a constant: everything else
(the event row, the case row's compare-and-set) is the same.
"""

from __future__ import annotations

import argparse
import statistics
import time
import timeit
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from bench._setup import fresh_context
from schemas.case import CaseCreate, TransitionRequest
from service.audit import log as events
from service.audit.integrity.chain import event_hash
from service.cases import firing as transitions
from service.cases import service as cases
from service.kit.context import AppContext
from service.kit.principal import Principal
from service.users.service import seed_account
from tests.factories import SAMPLE_PAYLOADS, intake_body

PAYLOAD = SAMPLE_PAYLOADS["record_police_report"]
ENDPOINT = "bench"  # as the identity-access log names where a look came from


def principal(context: AppContext, name: str, ministry: str) -> Principal:
    with context.database.transaction() as session:
        return seed_account(session, name, "x", "case_worker", ministry)


def new_case(context: AppContext, who: Principal) -> dict[str, Any]:
    with context.database.transaction() as session:
        body = cases.register_case(
            session, context, who, CaseCreate.model_validate(intake_body()), endpoint=ENDPOINT
        )
    return body.body


def fire_many(context: AppContext, police: Principal, case: dict[str, Any], count: int) -> None:
    version = case["version"]
    for _ in range(count):
        request = TransitionRequest(
            trigger="record_police_report", expected_version=version, payload=PAYLOAD
        )
        with context.database.transaction() as session:
            answer = transitions.fire_transition(
                session, context, police, case["id"], request, endpoint=ENDPOINT
            )
        version = answer.body["version"]


def round_(context: AppContext, police: Principal, kemlu: Principal, threads: int,
           transitions: int) -> float:  # fmt: skip
    mine = [new_case(context, kemlu) for _ in range(threads)]
    each = transitions // threads
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(fire_many, context, police, case, each) for case in mine]:
            future.result()
    return each * threads / (time.perf_counter() - started)


def hash_cost_us() -> float:
    fields = {
        "actor": "polri.worker", "actor_id": 12, "actor_role": "case_worker",
        "at": datetime.now(UTC), "case_id": uuid.uuid4(), "from_state": "referred",
        "kind": "transition", "ministry": "POLRI", "note": "laporan polisi diterima",
        "payload": PAYLOAD, "prev_hash": "ab" * 32, "stream": uuid.uuid4().hex,
        "stream_seq": 7, "to_state": "referred", "trigger": "record_police_report",
    }  # fmt: skip
    runs = 20_000
    return min(timeit.repeat(lambda: event_hash(fields), number=runs, repeat=3)) / runs * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", help="a PostgreSQL server URL (a database is made and dropped)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--transitions", type=int, default=200, help="per round")
    parser.add_argument("--rounds", type=int, default=10, help="per mode")
    args = parser.parse_args()
    real_hash = events.event_hash
    with fresh_context(args.pg) as context:
        backend = context.database.engine.dialect.name
        kemlu = principal(context, "kemlu.bench", "KEMLU")
        police = principal(context, "polri.bench", "POLRI")
        round_(context, police, kemlu, args.threads, 200)  # warm up
        rates: dict[str, list[float]] = {"hashing": [], "no hashing": []}
        for _ in range(args.rounds):
            for mode in rates:
                events.event_hash = real_hash if mode == "hashing" else (lambda _f: "0" * 64)
                rates[mode].append(round_(context, police, kemlu, args.threads, args.transitions))
        events.event_hash = real_hash
    on, off = (statistics.median(rates[m]) for m in ("hashing", "no hashing"))
    print(f"{backend}, {args.threads} thread(s), {args.transitions} transitions x "
          f"{args.rounds} rounds per mode (median):")  # fmt: skip
    cost = hash_cost_us()
    print(f"  with hashing    {on:8.0f} transitions/s")
    print(f"  without hashing {off:8.0f} transitions/s")
    print(
        f"  difference      {100 * (off - on) / off:+8.1f} % (noise included: rounds spread "
        f"{_spread(rates['hashing']):.0f} % and {_spread(rates['no hashing']):.0f} %)"
    )
    print(
        f"  event_hash alone: {cost:.1f} us per transition, "
        f"{100 * cost * 1e-6 * on:.2f} % of a transition's time at this rate"
    )


def _spread(rates: list[float]) -> float:
    return 100 * (max(rates) - min(rates)) / statistics.median(rates)


if __name__ == "__main__":
    main()
