"""The national figure out of the legal track: 1,443 criminal cases, 3,682 victims and 1,844
suspects reported in 2024-2025 (the seed's figure), loaded through the service's own use cases,
then counted by province and in total.

    .venv/bin/python -m bench.legal_counts [--server postgresql+psycopg://root@127.0.0.1:5432/postgres]

Without --server: SQLite in a temporary directory. Prints the load time, the counts' totals
(checked against the figure), and the median and worst of 20 counts queries.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import date, timedelta

from bench._setup import fresh_context
from schemas.case import CaseCreate
from schemas.legal import CriminalCaseCreate, SuspectCreate, VictimLink
from service.auth.security import hash_password
from service.cases import service as cases
from service.legal import service as legal
from service.users.service import seed_account
from workflows.regions import load_regions

CRIMINAL_CASES, VICTIMS, SUSPECTS = 1_443, 3_682, 1_844
BATCH = 100


def spread(total: int, bins: int, rng: random.Random) -> list[int]:
    """`total` items over `bins`, at least one each."""
    counts = [1] * bins
    for _ in range(total - bins):
        counts[rng.randrange(bins)] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", default=None)
    args = parser.parse_args()
    rng = random.Random(2025)
    provinces = [r.code for r in load_regions().provinces()]
    with fresh_context(args.server) as context:
        with context.database.transaction() as session:
            password = hash_password("a bench passphrase, never used")
            police = seed_account(session, "bench.polri", password, "case_worker", "POLRI")
            kemlu = seed_account(session, "bench.kemlu", password, "case_worker", "KEMLU")
        started = time.perf_counter()
        victim_ids: list[str] = []
        victim = {"full_name": "Bench Victim", "sex": "female", "nationality": "ID",
                  "age_estimate": 24}  # fmt: skip
        referral = {"channel": "police", "exploitation_types": ["forced_criminality"]}
        body = {"victim": victim, "referral": referral}
        for first in range(0, VICTIMS, BATCH):
            with context.database.transaction() as session:
                for _ in range(min(BATCH, VICTIMS - first)):
                    answer = cases.register_case(
                        session, context, kemlu, CaseCreate.model_validate(body), endpoint="bench"
                    )
                    victim_ids.append(answer.body["id"])
        intake = time.perf_counter() - started
        victims_per_case = spread(VICTIMS, CRIMINAL_CASES, rng)
        suspects_per_case = spread(SUSPECTS, CRIMINAL_CASES, rng)
        rng.shuffle(victim_ids)
        started = time.perf_counter()
        next_victim = 0
        for first in range(0, CRIMINAL_CASES, BATCH):
            with context.database.transaction() as session:
                for index in range(first, min(first + BATCH, CRIMINAL_CASES)):
                    reported = date(2024, 1, 1) + timedelta(days=rng.randrange(731))
                    made = legal.create_criminal_case(session, context, police, CriminalCaseCreate(
                        police_report_number=f"LP/B/{index}/{reported.year}",
                        reported_on=reported, region_code=rng.choice(provinces)))  # fmt: skip
                    for n in range(suspects_per_case[index]):
                        suspect = SuspectCreate.model_validate(
                            {"identity": {"full_name": f"Suspect {index}-{n}"}, "sex": "male",
                             "nationality": "ID", "role": "recruiter"})  # fmt: skip
                        legal.add_suspect(session, context, police, made.id, suspect)
                    for _ in range(victims_per_case[index]):
                        link = VictimLink(case_id=victim_ids[next_victim])
                        legal.link_victim(session, context, police, made.id, link)
                        next_victim += 1
        load = time.perf_counter() - started
        timings = []
        for _ in range(20):
            with context.database.snapshot() as session:
                started = time.perf_counter()
                counted = legal.count_criminal_cases(
                    session, context, police, date(2024, 1, 1), date(2025, 12, 31), "province"
                )
                timings.append(time.perf_counter() - started)
        total = counted.total
        figure = (total.criminal_cases, total.victims, total.suspects)
        backend = context.database.engine.dialect.name
        print(f"backend: {backend}")
        print(f"intake of {VICTIMS:,} victims' cases: {intake:.1f} s")
        print(f"{CRIMINAL_CASES:,} criminal cases with their suspects and links: {load:.1f} s")
        print(f"counted 2024-01-01..2025-12-31: {figure[0]:,} criminal cases, {figure[1]:,} "
              f"victims, {figure[2]:,} suspects in {len(counted.rows)} provinces")  # fmt: skip
        print(f"counts query: median {statistics.median(timings) * 1000:.1f} ms, "
              f"worst {max(timings) * 1000:.1f} ms (20 runs)")  # fmt: skip
        assert figure == (CRIMINAL_CASES, VICTIMS, SUSPECTS), figure


if __name__ == "__main__":
    main()
