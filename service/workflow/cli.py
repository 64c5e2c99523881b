"""What `nrm workflows migrate MAPPING.yaml` reads and prints (the command is in service/cli.py,
which holds the command context): the mapping file, the case ids, the plan or results with rich.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import typer
import yaml
from rich.console import Console
from rich.table import Table

from schemas.workflow import MigrationRead

_STYLE = {"would_move": "green", "moved": "green", "refused": "yellow", "skipped": "red"}


def read_mapping(console: Console, path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        console.print(f"[red]{path}: cannot read: {exc}[/red]")
        raise typer.Exit(2) from exc
    if not isinstance(raw, dict):
        console.print(f"[red]{path}: a mapping file has from, to and states[/red]")
        raise typer.Exit(2)
    return raw


def case_ids(console: Console, raw: list[str] | None) -> list[uuid.UUID] | None:
    if not raw:
        return None
    try:
        return [uuid.UUID(value) for value in raw]
    except ValueError as exc:
        console.print(f"[red]--case: not a case id: {exc}[/red]")
        raise typer.Exit(2) from exc


def print_result(console: Console, result: MigrationRead) -> None:
    verb = "dry run" if result.dry_run else "applied"
    versions = f"v{result.from_version} -> v{result.to_version}"
    table = Table(title=f"{result.workflow} {versions} ({verb})")
    for column in ("case", "reference", "from", "to", "outcome", "why"):
        table.add_column(column)
    for item in result.cases:
        style = _STYLE[item.outcome]
        services = f" + services {', '.join(item.services)}" if item.services else ""
        why = f"{item.code}: {item.reason}" if item.code else ""
        table.add_row(
            item.case_id, item.reference, item.from_state, (item.to_state or "-") + services,
            f"[{style}]{item.outcome}[/{style}]", why,
        )  # fmt: skip
    console.print(table)
    counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(result.counts.items()))
    console.print(f"{len(result.cases)} case(s) on v{result.from_version}: {counts or 'none'}")
    console.print(f"mapping checksum: {result.checksum}")
    if result.dry_run:
        console.print("apply with: --apply --checksum " + result.checksum)
