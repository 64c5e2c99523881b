"""`nrm audit ...` as an auditor runs it: export, keep the key and a checkpoint, prove later."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from migrations import append_only
from tests.test_cli import cli_env, nrm, nrm_here

__all__ = ["cli_env"]


@pytest.fixture
def demo_env(cli_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """A database with the demo loaded (cases at every stage) and everything sealed."""
    assert nrm_here(cli_env, "db", "upgrade")[0] == 0
    code, _out, err = nrm_here(cli_env, "demo")
    assert code == 0, err
    yield cli_env


def rewrite_one_event(url: str) -> int:
    """Someone with the database's owner rights changes the note of one event; its seq."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            seq = connection.execute(text("SELECT min(seq) FROM case_event")).scalar_one() + 5
            if connection.dialect.name == "postgresql":
                connection.execute(text("SET LOCAL session_replication_role = replica"))
                connection.execute(
                    text("UPDATE case_event SET note = 'x' WHERE seq = :s"), {"s": seq}
                )
            else:
                for statement in append_only.drop_statements("sqlite", "case_event"):
                    connection.execute(text(statement))
                connection.execute(
                    text("UPDATE case_event SET note = 'x' WHERE seq = :s"), {"s": seq}
                )
                for statement in append_only.statements("sqlite", "case_event"):
                    connection.execute(text(statement))
    finally:
        engine.dispose()
    return int(seq)


def test_an_auditor_exports_keeps_the_key_and_a_checkpoint_and_proves_nothing_changed(
    demo_env: dict[str, str], tmp_path: Path
) -> None:
    done = nrm(demo_env, "audit", "verify")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "audit trail intact" in done.stdout
    key = tmp_path / "nrm-audit.pub"
    code, out, _err = nrm_here(demo_env, "audit", "public-key")
    key.write_text(out)
    export = tmp_path / "nrm-audit.jsonl"
    code, _out, err = nrm_here(demo_env, "audit", "export", str(export))
    assert code == 0, err
    kept = tmp_path / "checkpoint.json"
    last = [line for line in export.read_text().splitlines() if '"type":"checkpoint"' in line][-1]
    kept.write_text(last)
    # later, with no database at all: only the file, the key and the kept checkpoint
    offline = {k: v for k, v in demo_env.items() if not k.startswith("NRM_")}
    done = nrm(offline, "audit", "verify", "--offline", str(export), "--public-key", str(key),
               "--checkpoint", str(kept))  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "audit trail intact" in done.stdout and "(0 events not yet sealed)" in done.stdout


def test_verify_exits_1_and_names_the_first_broken_event(demo_env: dict[str, str]) -> None:
    seq = rewrite_one_event(demo_env["NRM_DATABASE_URL"])
    done = nrm(demo_env, "audit", "verify")
    assert done.returncode == 1
    assert f"first broken: event seq {seq}" in done.stdout and "hash_mismatch" in done.stdout
    code, out, _err = nrm_here(demo_env, "audit", "verify", "--json")
    assert code == 1 and json.loads(out)["first_broken"]["seq"] == seq


def test_an_edited_export_fails_offline_with_the_line_named(
    demo_env: dict[str, str], tmp_path: Path
) -> None:
    export = tmp_path / "nrm-audit.jsonl"
    assert nrm_here(demo_env, "audit", "export", str(export))[0] == 0
    key = nrm_here(demo_env, "audit", "public-key")[1].strip()
    text_ = export.read_text(encoding="utf-8")
    export.write_text(text_.replace('"kind":"transition"', '"kind":"transitioN"', 1))
    code, out, _err = nrm_here({}, "audit", "verify", "--offline", str(export), "--public-key", key)
    assert code == 1 and "hash_mismatch" in out
    lines = text_.splitlines(keepends=True)
    export.write_text("".join(lines[:10] + lines[11:]))
    code, out, _err = nrm_here({}, "audit", "verify", "--offline", str(export), "--public-key", key)
    assert code == 1 and "first broken" in out


def test_a_proof_printed_by_the_cli_checks_with_the_key_alone(
    demo_env: dict[str, str], tmp_path: Path
) -> None:
    key = nrm_here(demo_env, "audit", "public-key", "--pem")[1]
    (tmp_path / "key.pem").write_text(key)
    code, out, err = nrm_here(demo_env, "audit", "proof", "3")
    assert code == 0, err
    proof = tmp_path / "proof.json"
    proof.write_text(out)
    args = ["audit", "check-proof", str(proof), "--public-key", str(tmp_path / "key.pem")]
    code, out, _err = nrm_here({}, *args)
    assert code == 0 and "proof OK: event seq 3" in out
    proof.write_text(_bend(proof))
    assert nrm_here({}, *args)[0] == 1


@pytest.mark.parametrize(
    "args",
    [
        ["audit", "verify", "--offline", "missing.jsonl", "--public-key", "AAAA"],
        ["audit", "verify", "--offline", "missing.jsonl"],
        ["audit", "verify", "--offline", "/dev/null", "--public-key", "not a key"],
        ["audit", "check-proof", "missing.json", "--public-key", "x"],
        ["audit", "export", "x.out", "--format", "xml"],
    ],
)
def test_offline_usage_errors_exit_2(args: list[str], tmp_path: Path) -> None:
    code, _out, err = nrm_here({}, *args)
    assert code == 2, err


def _bend(proof: Path) -> str:
    data = json.loads(proof.read_text())
    data["event"]["actor"] = "someone.else"
    return json.dumps(data)
