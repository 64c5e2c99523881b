"""The web pages at size: server time (p50, p95) of each main page and the bytes a browser
transfers for it, first load and after, with 100k cases on PostgreSQL.

    .venv/bin/python -m bench.web_pages [--pg URL] [--cases 100000] [--requests 60]

It makes a scratch database `nrm_bench_*` on the server (dropped afterwards), loads the demo
(users, real cases with victims, approvals, escalations) and then bulk-loads cases into the
KEMENPPPA queue (bench/bulk.py, plus the `case_ministry` rows the loader leaves out, so that
the figures page folds every one of them). It serves the app with `nrm serve` (one worker, no
periodic jobs), logs in through the login form as the demo users, and asks each page
`--requests` times, one at a time, on loopback: the time is the server's (plus ~0.2 ms of
loopback). Bytes are what goes over the wire with gzip: a first load fetches the page and its
assets; after, the assets come from the browser's cache (immutable, a year) and only the HTML
travels. Writes bench/PAGES.md.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

from bench._setup import scratch_database
from bench.bulk import Loader
from bench.measure import user_id
from bench.rawloop import Actor
from bench.server import Server, nrm, service_env
from service.bootstrap import bootstrap
from service.demo.service import DEMO_PASSWORD
from service.kit.config import generate_keys, settings_for

HERE = Path(__file__).resolve().parent
BUDGET_FIRST, BUDGET_AFTER = 150_000, 30_000


@dataclass(frozen=True)
class Measured:
    name: str
    path: str
    status: int
    p50_ms: float
    p95_ms: float
    html_bytes: int  # gzipped, as transferred
    asset_bytes: int  # the page's CSS and scripts, gzipped, first load only


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default="postgresql+psycopg://root@127.0.0.1:5432/postgres")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--output", type=Path, default=HERE / "PAGES.md")
    args = parser.parse_args()
    keys = generate_keys()
    started = time.perf_counter()
    with scratch_database(args.pg, "nrm_bench") as url:
        env = {**service_env(url, keys), "NRM_RUN_JOBS": "false"}
        nrm(env, "db", "upgrade")
        print("loading the demo", flush=True)
        nrm(env, "demo")
        libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        print(f"loading {args.cases} cases", flush=True)
        _bulk(url, keys, libpq, args.cases)
        server = Server(env, 1, HERE / "out" / "server-pages.log")
        (HERE / "out").mkdir(exist_ok=True)
        server.start()
        try:
            results = _measure_all(server.base_url, args.requests)
        finally:
            server.stop()
        total = _count(libpq)
    args.output.write_text(_report(results, total, args, time.perf_counter() - started))
    print(f"wrote {args.output}", flush=True)


def _bulk(url: str, keys: dict[str, str], libpq: str, count: int) -> None:
    context = bootstrap(settings_for(url, keys))
    try:
        engine = context.registry.latest("nrm-indonesia")
        assert engine is not None
        loader = Loader(
            url=libpq, definition=engine.definition, calendar=context.calendar,
            referrer=Actor(user_id(libpq, "kemlu.worker"), "kemlu.worker", "KEMLU"),
            police=Actor(user_id(libpq, "polri.worker"), "polri.worker", "POLRI"),
            now=datetime.now(UTC),
        )  # fmt: skip
        loader.add(count)
    finally:
        context.database.engine.dispose()
    with psycopg.connect(libpq, autocommit=True) as db:  # who handled them (the loader skips it)
        for ministry, column in (("KEMENPPPA", "ministry"), ("KEMLU", "referring_ministry")):
            db.execute(
                f"INSERT INTO case_ministry (case_id, ministry, since) "
                f"SELECT id, %s, created_at FROM case_file WHERE {column} = %s "
                f"ON CONFLICT DO NOTHING",
                (ministry, ministry),
            )
        db.execute("VACUUM (ANALYZE) case_ministry")


def _count(libpq: str) -> int:
    with psycopg.connect(libpq) as db:
        row = db.execute("SELECT count(*) FROM case_file").fetchone()
    return int(row[0]) if row else 0


def _login(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, headers={"Accept-Encoding": "gzip"}, timeout=60)
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    answer = client.post("/login", data={"username": username, "password": DEMO_PASSWORD,
                                         "csrf": token.group(1), "next": "/home"})  # fmt: skip
    assert answer.status_code in (200, 303), answer.status_code
    return client


def _measure_all(base: str, requests: int) -> list[Measured]:
    worker = _login(base, "kemenpppa.worker")
    kemlu = _login(base, "kemlu.worker")
    case = _first_case(kemlu)
    plan = [
        ("login", None, "/login"),
        ("queue (KEMENPPPA, bulk)", worker, "/work"),
        ("queue, filtered: overdue", worker, "/work?overdue=true"),
        ("my cases", kemlu, "/work?tab=mine"),
        ("case", kemlu, case),
        ("history", kemlu, case + "/history"),
        ("workflow position", kemlu, case + "/diagram"),
        ("register form", kemlu, "/cases/new"),
        ("approvals inbox", _login(base, "kemlu.supervisor"), "/approvals"),
        ("escalations (Task Force)", _login(base, "gugus_tugas.worker"), "/escalations"),
        ("figures (KEMENPPPA, bulk)", _login(base, "kemenpppa.supervisor"),
         "/figures/KEMENPPPA"),
        ("audit search", _login(base, "auditor"), "/audit"),
        ("identity-access log", _login(base, "auditor"), "/audit/identity-access"),
        ("users", _login(base, "admin"), "/admin/users"),
    ]  # fmt: skip
    anonymous = httpx.Client(base_url=base, headers={"Accept-Encoding": "gzip"}, timeout=60)
    results = []
    for name, client, path in plan:
        results.append(_measure(name, client or anonymous, path, requests))
        print(f"  {results[-1]}", flush=True)
    return results


def _first_case(client: httpx.Client) -> str:
    page = client.get("/work?tab=queue")
    found = re.search(r'href="(/cases/[0-9a-f-]{36})"', page.text)
    assert found is not None
    return found.group(1)


def _measure(name: str, client: httpx.Client, path: str, requests: int) -> Measured:
    for _ in range(3):
        client.get(path)
    times, status, transferred, html = [], 0, 0, ""
    for _ in range(requests):
        started = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        status, transferred, html = answer.status_code, answer.num_bytes_downloaded, answer.text
    assets = 0
    for href in re.findall(r'(?:href|src)="(/static/[^"]+)"', html):
        assets += client.get(href).num_bytes_downloaded
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return Measured(name, path, status, statistics.median(times), p95, transferred, assets)


def _report(results: list[Measured], cases: int, args: argparse.Namespace, wall: float) -> str:
    lines = [
        "# Web pages at size",
        "",
        f"`python -m bench.web_pages --cases {args.cases} --requests {args.requests}`, "
        f"{datetime.now(UTC):%Y-%m-%d}, {cases:,} cases on PostgreSQL (the demo plus the bulk "
        f"load), `nrm serve` with one worker, one request at a time on loopback; "
        f"{wall:.0f} s in all.",
        "",
        "Bytes are gzipped, as transferred. *First load*: the HTML and its CSS and scripts "
        "(htmx 2, app.js, app.css). *After*: the HTML only (the assets are cached for a year "
        f"under versioned URLs). Budget: first load < {BUDGET_FIRST // 1000} KB, after < "
        f"{BUDGET_AFTER // 1000} KB.",
        "",
        "| page | status | p50 ms | p95 ms | first load KB | after KB |",
        "|---|---|---|---|---|---|",
    ]
    for m in results:
        first = (m.html_bytes + m.asset_bytes) / 1000
        lines.append(
            f"| {m.name} | {m.status} | {m.p50_ms:.1f} | {m.p95_ms:.1f} | {first:.1f} | "
            f"{m.html_bytes / 1000:.1f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
