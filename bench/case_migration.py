"""How long a workflow migration takes: the dry run, the apply case by case, and the audit
verification after it.

    .venv/bin/python -m bench.case_migration [--pg URL] [--cases 500]

Fills a fresh database, while version 1 is the latest, with the demonstration's cases (every
stage, closed ones too) and `--cases` more referrals made by intake, then moves them to version 2
with the reviewed mapping file: times `migrations.plan` (one snapshot) and `migrations.apply`
(one transaction per case), then `audit.verify` over the whole log.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import TypeVar

import yaml
from sqlmodel import col, select

from bench._setup import fresh_context
from schemas.workflow import MigrationRead
from service.audit import service as audit
from service.auth import service as accounts
from service.demo import service as demo_service
from service.kit.context import AppContext
from service.kit.principal import SYSTEM_ROLE, Principal
from service.models import UserAccount
from service.workflow import migrations
from workflows.loader import DEFINITIONS_DIR

MAPPING = DEFINITIONS_DIR / "migrations" / "nrm-indonesia-v1-to-v2.yaml"
OPERATOR = Principal(user_id=None, username="bench", role=SYSTEM_ROLE, ministry=None)
T = TypeVar("T")


def fill_on_v1(context: AppContext, referrals: int) -> None:
    """The demo and `referrals` intakes, all pinned to version 1."""
    registry = context.registry
    engines = dict(registry.engines)
    for name, version in engines:
        if name == "nrm-indonesia" and version > 1:
            del registry.engines[(name, version)]
    registry.memo.clear()
    try:
        demo_service.load_demo(context)
        demo = demo_service.Demo(context)
        demo.users["kemlu.worker"] = _principal(context, "kemlu.worker")
        now = context.clock()
        for n in range(referrals):
            demo.intake("kemlu.worker", now, demo_service._body(f"Bench {n}"))
    finally:
        registry.engines.update(engines)
        registry.memo.clear()


def _principal(context: AppContext, username: str) -> Principal:
    """The demo's account, as the service sees it when it acts."""
    with context.database.snapshot() as session:
        user = session.exec(select(UserAccount).where(col(UserAccount.username) == username)).one()
        assert user.id is not None
        return accounts.principal_of(session, user.id, user.ministry)


def timed(label: str, call: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = call()
    elapsed = time.perf_counter() - started
    print(f"{label:<28} {elapsed * 1000:9.1f} ms")
    return result, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", help="a PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--cases", type=int, default=500, help="referrals besides the demo's")
    args = parser.parse_args()
    raw = yaml.safe_load(MAPPING.read_text(encoding="utf-8"))
    with fresh_context(args.pg) as context:
        print(f"database: {context.database.engine.dialect.name}")
        timed("fill (demo + intakes)", lambda: fill_on_v1(context, args.cases))

        def dry_run() -> MigrationRead:
            with context.database.snapshot() as session:
                return migrations.plan(session, context, "nrm-indonesia", raw)

        plan, _ = timed("dry run (plan)", dry_run)
        print(f"  cases on v1: {len(plan.cases)} {plan.counts}")
        result, took = timed(
            "apply",
            lambda: migrations.apply(context, OPERATOR, "nrm-indonesia", raw, plan.checksum),
        )
        moved = result.counts.get("moved", 0)
        print(f"  {result.counts}; {took * 1000 / max(moved, 1):.1f} ms per moved case")
        verdict, _ = timed("audit verify", lambda: audit.verify(context))
        print(f"  ok={verdict.ok} events={verdict.events_checked}")


if __name__ == "__main__":
    main()
