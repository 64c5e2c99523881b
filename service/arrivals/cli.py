"""`nrm arrivals add` and `nrm cases import`: an arrival and its manifest from the command line,
acting as a named user (their ministry and unit, like a request of theirs), with a progress bar.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from schemas.arrival import ArrivalCreate
from service.arrivals import intake
from service.arrivals import service as arrivals
from service.arrivals.intake import UseCase
from service.arrivals.manifest import open_manifest
from service.auth.service import principal_named
from service.bootstrap import command_context, console
from service.kit.context import AppContext
from service.kit.errors import DomainError, NotAuthenticated

arrivals_app = typer.Typer(help="Mass arrivals: the record that groups a manifest's cases.")
AsUser = Annotated[
    str, typer.Option("--as", help="the user who acts (a case worker or supervisor)")
]


def runner(context: AppContext, username: str) -> Any:
    """`Run.now` for the command line: one transaction per call, the user loaded in it."""

    def now(use_case: UseCase[Any]) -> Any:
        with context.database.transaction() as session:
            principal = principal_named(session, username)
            if principal is None:
                raise NotAuthenticated(f"--as: no active user is called {username!r}")
            return use_case(session, context, principal)

    return now


@arrivals_app.command("add")
def add_arrival(
    on: Annotated[str, typer.Option("--date", help="the arrival date, YYYY-MM-DD")],
    place: Annotated[str, typer.Option(help="the port or airport of arrival")],
    source_country: Annotated[str, typer.Option("--from", help="ISO 3166 code, e.g. MM")],
    operation: Annotated[str, typer.Option(help="the operation's name")],
    as_user: AsUser,
) -> None:
    """Record an arrival; prints its id for `nrm cases import --arrival`."""
    try:
        data = ArrivalCreate(
            arrival_date=date.fromisoformat(on), place=place, source_country=source_country,
            operation_name=operation,
        )  # fmt: skip
    except (ValueError, ValidationError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    with command_context() as context:
        try:
            made = runner(context, as_user)(
                lambda session, ctx, principal: arrivals.create_arrival(
                    session, ctx, principal, data
                )
            )
        except DomainError as exc:
            console.print(f"[red]{exc.detail}[/red]")
            raise typer.Exit(1) from exc
    typer.echo(made.id)


def import_manifest_command(
    file: Annotated[
        Path,
        typer.Argument(
            help="the manifest: CSV (UTF-8) or XLSX", exists=True, dir_okay=False, readable=True
        ),
    ],
    arrival: Annotated[str, typer.Option(help="the arrival's id (nrm arrivals add)")],
    as_user: AsUser,
    report: Annotated[Path | None, typer.Option(help="write the full JSON report here")] = None,
) -> None:
    """Import an arrival's manifest: each valid row becomes a case (once, however often the
    file is imported); refused rows are listed by row and column. Exit 1 if any was refused."""
    with command_context() as context, file.open("rb") as stream:
        try:
            counted = open_manifest(stream)
            total = sum(1 for _ in counted.rows())
            counted.close()
            stream.seek(0)
            with Progress(
                TextColumn("rows"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=console,
            ) as bar:  # fmt: skip
                task = bar.add_task("import", total=total)
                answer = intake.import_manifest(
                    runner(context, as_user), arrival, stream, file.stat().st_size,
                    max_bytes=context.settings.max_manifest_bytes, endpoint="nrm cases import",
                    progress=lambda done: bar.update(task, completed=done),
                )  # fmt: skip
        except DomainError as exc:
            console.print(f"[red]{exc.detail}[/red]")
            raise typer.Exit(2 if exc.status_code in (413, 422) else 1) from exc
    console.print(
        f"{answer.rows_total} rows: {answer.created} cases created, "
        f"{answer.already_imported} already imported, {answer.refused} refused"
    )
    for problem in answer.problems[:20]:
        where = f"row {problem.row}" + (f", {problem.column}" if problem.column else "")
        console.print(f"  {where}: {problem.message}", highlight=False, markup=False)
    if answer.problems_total > 20:
        console.print(f"  ... and {answer.problems_total - 20} more (--report FILE lists them)")
    if report is not None:
        report.write_text(json.dumps(answer.model_dump(mode="json"), indent=1))
    if answer.refused:
        raise typer.Exit(1)
