"""What privacy costs on a case read: the visibility predicate, and opening the identity.

    .venv/bin/python -m bench.access_cost [--pg URL] [--cases N] [--reads N]

Registers N cases (through the use cases, so rows are real), then times, per read:
the primary-key fetch alone; the load of a case for reading (case, victim, handlers, consents,
assignee) as an auditor, whose predicate is TRUE, and as ministries that must pass it (the
difference is the cost of visibility); AES-256-GCM opening of one identity; and whole
`read_case` calls that do and do not show (and so log) the identity.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from contextlib import ExitStack

from sqlmodel import Session

from schemas.case import CaseCreate
from service.auth.security import hash_password
from service.cases import repository as repo
from service.cases import service as cases
from service.kit.context import AppContext
from service.kit.principal import Principal
from service.models import CaseFile, Victim
from service.users.service import seed_account

BODY = {
    "victim": {"full_name": "Siti Rahayu", "sex": "female", "birth_date": "2003-04-12",
               "nationality": "ID", "province_of_origin": "Nusa Tenggara Timur",
               "contact": {"phone": "+62 812 3456 7890", "address": "Jl. Timor Raya 12, Kupang"}},
    "referral": {"channel": "embassy", "country_of_exploitation": "MM",
                 "exploitation_types": ["forced_criminality"]},
}  # fmt: skip


def _user(context: AppContext, name: str, role: str, ministry: str | None) -> Principal:
    with context.database.transaction() as session:
        return seed_account(session, name, hash_password("x" * 16), role, ministry)


def _per_call_us(fn: Callable[[], object], n: int) -> tuple[float, float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e6)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def run(context: AppContext, n_cases: int, n_reads: int) -> list[tuple[str, float, float]]:
    auditor = _user(context, "bench.auditor", "auditor", None)
    kemlu = _user(context, "bench.kemlu", "case_worker", "KEMLU")
    polri = _user(context, "bench.polri", "case_worker", "POLRI")
    body = CaseCreate.model_validate(BODY)
    ids = []
    for _ in range(n_cases):
        with context.database.transaction() as session:
            ids.append(
                cases.register_case(session, context, kemlu, body, endpoint="bench").body["id"]
            )
    rng = random.Random(1)
    case_ids = [repo.parse_case_id(i) for i in ids]
    rows: list[tuple[str, float, float]] = []

    def timed(label: str, fn: Callable[[Session, str], object]) -> None:
        with context.database.sessions() as session:

            def one() -> object:
                session.expunge_all()
                return fn(session, rng.choice(ids))

            rows.append((label, *_per_call_us(one, n_reads)))
            session.rollback()

    timed("fetch by primary key (no predicate)",
          lambda s, i: s.get(CaseFile, repo.parse_case_id(i)))  # fmt: skip
    timed("load a case for reading, as auditor (no visibility predicate)",
          lambda s, i: repo.load_readable(s, auditor, context.registry, i))  # fmt: skip
    timed("load a case through visibility (supporting ministry)",
          lambda s, i: repo.load_readable(s, polri, context.registry, i))  # fmt: skip
    timed("load a case through visibility (referring ministry)",
          lambda s, i: repo.load_readable(s, kemlu, context.registry, i))  # fmt: skip
    with context.database.sessions() as session:
        sealed = [session.get(Victim, c).identity_ciphertext for c in case_ids[:50]]  # type: ignore[union-attr]
    pairs = list(zip(sealed, case_ids, strict=False))
    opened = _per_call_us(lambda: context.cipher.decrypt(*_bytes(rng.choice(pairs))), n_reads * 10)
    rows.append(("open one identity (AES-256-GCM)", *opened))
    timed("read_case, pseudonymous (POLRI supports the state)",
          lambda s, i: cases.read_case(s, context, polri, i, endpoint="bench"))  # fmt: skip
    timed("read_case, identity shown and logged (KEMLU referred)",
          lambda s, i: cases.read_case(s, context, kemlu, i, endpoint="bench"))  # fmt: skip
    return rows


def _bytes(pair: tuple[bytes, object]) -> tuple[bytes, bytes]:
    sealed, case_id = pair
    return sealed, case_id.bytes  # type: ignore[attr-defined]


def main() -> None:
    from bench._setup import fresh_context

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pg", help="PostgreSQL server URL (a throwaway database is created)")
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--reads", type=int, default=2000)
    args = parser.parse_args()
    with ExitStack() as stack:
        context = stack.enter_context(fresh_context(args.pg))
        rows = run(context, args.cases, args.reads)
    backend = context.database.engine.dialect.name
    print(f"| per read ({backend}, {args.cases} cases) | p50 µs | p95 µs |")
    print("|---|---|---|")
    for label, p50, p95 in rows:
        print(f"| {label} | {p50:.0f} | {p95:.0f} |")


if __name__ == "__main__":
    main()
