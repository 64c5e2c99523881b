"""`nrm workflows migrate MAPPING.yaml` as an operator runs it: the dry run, the apply with the
dry run's checksum, one case at a time, and a refused mapping. The demonstration's cases run on
the latest version, so the tool (generic over any two published versions) moves those in the
states both versions have back to version 1 here; the API's tests move real version 1 cases
forward."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.test_cli import cli_env, nrm_here
from workflows import Definition, load_directory

__all__ = ["cli_env"]
NAME = "nrm-indonesia"
CASE_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CHECKSUM = re.compile(r"mapping checksum: ([0-9a-f]{64})")


@pytest.fixture
def demo_env(cli_env: dict[str, str]) -> Iterator[dict[str, str]]:
    assert nrm_here(cli_env, "db", "upgrade")[0] == 0
    code, _out, err = nrm_here(cli_env, "demo")
    assert code == 0, err
    yield {**cli_env, "COLUMNS": "250"}  # rich: the table's case ids on one line


def latest_and_first() -> tuple[Definition, Definition]:
    versions = sorted((d for d in load_directory() if d.name == NAME), key=lambda d: d.version)
    return versions[-1], versions[0]


def write_mapping(tmp_path: Path, **changes: Any) -> Path:
    """The latest version (the demo's) back to version 1: each live state both have."""
    latest, first = latest_and_first()
    mapping: dict[str, Any] = {
        "from": {"name": NAME, "version": latest.version},
        "to": {"name": NAME, "version": first.version},
        "states": {
            name: name
            for name, state in latest.states.items()
            if name in first.states and not state.terminal and not first.state(name).terminal
        },
        **changes,
    }
    path = tmp_path / "mapping.yaml"
    path.write_text(yaml.safe_dump(mapping))
    return path


@pytest.mark.slow
def test_the_dry_run_then_the_apply_with_its_checksum(
    demo_env: dict[str, str], tmp_path: Path
) -> None:
    mapping = write_mapping(tmp_path)
    code, _out, err = nrm_here(demo_env, "workflows", "migrate", str(mapping))
    assert code == 0, err
    assert "would_move" in err and "refused" in err  # the demo has closed cases too
    checksum = CHECKSUM.search(err)
    assert checksum is not None, err
    moving = [line for line in err.splitlines() if "would_move" in line and CASE_ID.search(line)]
    first = CASE_ID.search(moving[0])
    assert first is not None

    code, _out, err = nrm_here(demo_env, "workflows", "migrate", str(mapping), "--apply")
    assert code == 2 and "checksum" in err

    args = ["workflows", "migrate", str(mapping), "--apply", "--checksum", checksum[1]]
    code, _out, err = nrm_here(demo_env, *args, "--case", first[0])
    assert code == 0, err
    on_latest = f"case(s) on v{latest_and_first()[0].version}:"
    assert f"1 {on_latest} 1 moved" in err
    code, _out, err = nrm_here(demo_env, *args)
    assert code == 0, err
    assert f"{len(moving) - 1} moved" in err and first[0] not in err
    code, _out, err = nrm_here(demo_env, *args)
    assert code == 0 and "moved" not in err.split(on_latest)[1]  # nothing moves twice

    code, out, err = nrm_here(demo_env, "audit", "verify")
    assert code == 0, out + err


def test_a_refused_mapping_names_the_field_and_moves_nothing(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    assert nrm_here(cli_env, "db", "upgrade")[0] == 0
    mapping = write_mapping(tmp_path, states={"nowhere": "referred"})
    code, _out, err = nrm_here(cli_env, "workflows", "migrate", str(mapping))
    assert code == 2
    assert "states.nowhere:" in err and "has no state 'nowhere'" in err
    (tmp_path / "broken.yaml").write_text("from: [")
    code, _out, err = nrm_here(cli_env, "workflows", "migrate", str(tmp_path / "broken.yaml"))
    assert code == 2 and "cannot read" in err
