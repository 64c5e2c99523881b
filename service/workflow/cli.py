"""`nrm workflows migrate MAPPING.yaml`: the dry run (the default) and the apply, with rich.

Exit codes: 0 done (cases the mapping leaves where they are are not a failure); 1 some case
changed while it was being applied and was skipped (run it again); 2 the mapping, the checksum
or the service's configuration was refused.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.table import Table

from schemas.workflow import MigrationRead
from service.bootstrap import command_context, console
from service.kit.errors import DomainError
from service.kit.principal import SYSTEM_ROLE, Principal
from service.workflow import migrations

workflows_app = typer.Typer(
    help="Workflow versions: migrating running cases.", no_args_is_help=True
)
OPERATOR = Principal(user_id=None, username="nrm-cli", role=SYSTEM_ROLE, ministry=None)
_STYLE = {"would_move": "green", "moved": "green", "refused": "yellow", "skipped": "red"}


@workflows_app.command("migrate")
def migrate(
    mapping_file: Annotated[Path, typer.Argument(help="the reviewed mapping (YAML)")],
    apply: Annotated[bool, typer.Option("--apply", help="move the cases (default: dry run)")] = (
        False
    ),
    checksum: Annotated[
        str | None, typer.Option(help="the dry run's mapping checksum (required with --apply)")
    ] = None,
    case: Annotated[
        list[str] | None, typer.Option("--case", help="only this case id (repeatable)")
    ] = None,
) -> None:
    """Move running cases to another version of their workflow by a reviewed state mapping."""
    raw = _read(mapping_file)
    case_ids = _case_ids(case)
    name = raw.get("from", {}).get("name") if isinstance(raw.get("from"), dict) else None
    with command_context() as context:
        try:
            if apply:
                result = migrations.apply(
                    context, OPERATOR, str(name), raw, checksum, case_ids, field=""
                )
            else:
                with context.database.snapshot() as session:
                    result = migrations.plan(session, context, str(name), raw, case_ids, field="")
        except DomainError as exc:
            console.print(f"[red]{mapping_file.name}: {exc.detail}[/red]")
            raise typer.Exit(2) from exc
    _print(result)
    if result.counts.get("skipped"):
        raise typer.Exit(1)


def _read(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        console.print(f"[red]{path}: cannot read: {exc}[/red]")
        raise typer.Exit(2) from exc
    if not isinstance(raw, dict):
        console.print(f"[red]{path}: a mapping file has from, to and states[/red]")
        raise typer.Exit(2)
    return raw


def _case_ids(raw: list[str] | None) -> list[uuid.UUID] | None:
    if not raw:
        return None
    try:
        return [uuid.UUID(value) for value in raw]
    except ValueError as exc:
        console.print(f"[red]--case: not a case id: {exc}[/red]")
        raise typer.Exit(2) from exc


def _print(result: MigrationRead) -> None:
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
