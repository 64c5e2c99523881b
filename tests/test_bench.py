"""The benchmark harness's pure parts: reading wrk's result line, reducing a profile, and
ranking latencies. No timing is asserted anywhere."""

from __future__ import annotations

import pytest

from bench import dataset, measure, profile, rawloop, report, throughput, wrk
from bench.rawloop import percentile

WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:8000
  16 threads and 16 connections
  Latency Distribution
     50%   80.47ms
BENCH_RESULT {"requests":927,"duration_us":5098848,"ok":920,"conflicts":5,"failed":2,\
"socket_errors":1,"timeouts":0,"p50_us":80467,"p90_us":150043,"p95_us":171540,\
"p99_us":204136,"max_us":246138,"mean_us":90000.5}
Requests/sec:    181.80
"""


def test_wrk_result_line_gives_rates_and_percentiles_in_ms() -> None:
    result = wrk.parse(WRK_OUTPUT, connections=16)
    assert (result.requests, result.ok, result.conflicts, result.failed) == (927, 920, 5, 2)
    assert result.socket_errors == 1
    assert result.p95_ms == pytest.approx(171.54)
    assert result.rate == pytest.approx(920 / 5.098848)


def test_wrk_output_without_result_line_is_refused() -> None:
    with pytest.raises(ValueError, match="BENCH_RESULT"):
        wrk.parse("unable to connect to 127.0.0.1:8000 Connection refused\n", connections=1)


def test_wrk_runs_one_thread_per_connection() -> None:
    argv = wrk.command("http://127.0.0.1:1", "transition.lua", 32, 15)
    assert "-t32" in argv and "-c32" in argv and "--latency" in argv


COLLAPSED = """\
Thread._bootstrap (threading.py:1002);_transition (service/cases/firing.py:74);\
Session.execute (sqlalchemy/orm/session.py:2555) 6
Thread._bootstrap (threading.py:1002);_transition (service/cases/firing.py:80);\
event_hash (service/audit/integrity/chain.py:46) 3
Runner.run (asyncio/runners.py:118) 1
not a stack line
"""


def test_profile_shares_by_function_package_and_stack() -> None:
    found = profile.summarize(COLLAPSED)
    assert found.samples == 10
    assert found.self_time[0] == ("Session.execute (sqlalchemy/orm/session.py)", 0.6)
    assert dict(found.packages) == {"sqlalchemy": 0.6, "service": 0.3, "asyncio": 0.1}
    inclusive = dict(found.inclusive)
    assert inclusive["_transition (service/cases/firing.py)"] == 0.9  # lines merged per function
    assert set(inclusive) == {
        "_transition (service/cases/firing.py)",
        "event_hash (service/audit/integrity/chain.py)",
    }


def test_profile_names_files_from_their_package_whatever_the_path() -> None:
    frame = "Session.get (/x/.venv/lib/python3.11/site-packages/sqlalchemy/orm/session.py:3934)"
    assert profile.function_of(frame) == "Session.get (sqlalchemy/orm/session.py)"
    assert profile.package_of(frame) == "sqlalchemy"
    assert profile.package_of("wait (threading.py:320)") == "python (stdlib)"


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile(values, 99) == 99.0
    assert percentile([], 99) == 0.0


def test_profile_stages_name_the_steps_of_a_transition() -> None:
    pool = (
        "WorkerThread.run (anyio/_backends/_asyncio.py:1);Run.now (service/auth/dependencies.py:9);"
    )
    collapsed = (
        f"{pool}_transition (service/cases/firing.py:5);"
        "load_readable (service/cases/repository.py:60);_load (service/cases/repository.py:1) 3\n"
        f"{pool}Run.principal (service/auth/dependencies.py:95) 1\n"
        f"{pool}apply (service/cases/transition_core.py:1);"
        "append_case_event_now (service/audit/log.py:88) 2\n"
        f"{pool}apply (service/cases/transition_core.py:1);seal (service/cases/erasable.py:1) 1\n"
        "Runner.run (asyncio/runners.py:118);FastAPI.__call__ (fastapi/applications.py:1);"
        "solve_dependencies (fastapi/dependencies/utils.py:1) 2\n"
        "Runner.run (asyncio/runners.py:118);FastAPI.__call__ (fastapi/applications.py:1) 1\n"
    )
    stages = dict(profile.summarize(collapsed).stages)
    named = {name.split(" (")[0]: share for name, share in stages.items()}
    assert named["pool thread: loading the case"] == 0.3
    assert named["pool thread: the caller"] == 0.1
    assert named["pool thread: event and compare-and-set"] == 0.2
    assert named["pool thread: the rest of the move"] == 0.1
    assert named["event loop: FastAPI solving dependencies, reading the body"] == 0.2
    assert named["event loop: ASGI app"] == 0.1


def _load_run(rate: float, p99_ms: float, workers_cores: float = 1.5) -> measure.LoadRun:
    result = wrk.LoadResult(
        connections=16, seconds=10.0, requests=int(rate * 10), ok=int(rate * 10), conflicts=0,
        failed=0, socket_errors=0, p50_ms=1.0, p90_ms=2.0, p95_ms=3.0, p99_ms=p99_ms,
        max_ms=p99_ms,
    )  # fmt: skip
    return measure.LoadRun("transitions", "postgresql", result, {"workers": workers_cores})


def _raw(rate: float, p99_ms: float) -> rawloop.RawResult:
    latencies = [p99_ms] * int(rate * 10)  # every percentile is p99_ms
    return rawloop.RawResult(16, 10.0, len(latencies), 0, latencies, 5.0, {})


def test_issue_17_targets_compare_the_service_with_the_raw_loop_of_the_same_run() -> None:
    pg = throughput.Throughput("postgresql", 4)
    pg.http[16], pg.raw[16], pg.lean[16] = (
        _load_run(900, 30.0),
        _raw(2000, 10.0),
        _load_run(700, 20.0),
    )
    sqlite = throughput.Throughput("sqlite", 1)
    sqlite.http[16], sqlite.raw[16] = _load_run(100, 300.0), _raw(2000, 5.0)
    found = {t.line: t for t in report.targets(pg, dataset.Dataset(), sqlite)}
    ratio = found["postgresql: service / raw loop, 16 clients"]
    assert (ratio.measured, ratio.ok) == ("0.45", True)
    assert found["postgresql: p99 at 16 clients, service / raw loop's"].ok is True  # 30 <= 4 x 10
    assert found["sqlite: service / raw loop, 16 clients"].ok is False  # 0.05 < 0.15
    assert found["sqlite: p99 at 16 clients"].ok is False  # 300 ms
    printed = throughput.summary(pg)
    assert "2,000 (p99 10.0)" in printed and "700 (p99 20.0) = 0.35x raw" in printed
    assert "900 (p99 30.0) = 0.45x raw" in printed


def test_results_table_shows_the_lean_probe_beside_the_service() -> None:
    pg = throughput.Throughput("postgresql", 4)
    pg.http[16], pg.raw[16], pg.lean[16] = (
        _load_run(300, 90.0),
        _raw(3000, 12.0),
        _load_run(1000, 40.0),
    )
    table = report._transitions(pg, None)
    assert "| lean tr/s | lean p99 | lean/raw |" in table
    assert "| 1,000 | 40.0 | 0.33 |" in table


def test_intake_is_compared_with_the_raw_loop_of_its_inserts() -> None:
    pg = throughput.Throughput("postgresql", 4)
    pg.http[16], pg.raw[16] = _load_run(300, 90.0), _raw(3000, 12.0)
    pg.intake, pg.raw_intake = _load_run(120, 200.0), _raw(400, 50.0)
    sqlite = throughput.Throughput("sqlite", 1)
    sqlite.http[16], sqlite.raw[16] = _load_run(100, 200.0), _raw(2000, 5.0)
    sqlite.intake, sqlite.raw_intake = _load_run(50, 200.0), _raw(1000, 50.0)
    found = {t.line: t for t in report.targets(pg, dataset.Dataset(), sqlite)}
    share = found["postgresql: intake / raw loop of its inserts, 16 clients"]
    assert (share.measured, share.ok) == ("0.30", True)
    assert found["sqlite: intake / raw loop of its inserts, 16 clients"].ok is False  # 0.05
    table = report._intake(pg, sqlite)
    assert "| postgresql | 16 | 120 | 1.0 | 3.0 | 200.0 | 400 | 50.0 | **0.30** |" in table
    assert "intake, 16 clients, cases/s (p99 ms): raw loop 400 (p99 50.0) | service 120" in (
        throughput.summary(pg)
    )
