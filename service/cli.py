"""The `nrm` command line: the contract's commands, and a few for operators."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from schemas.auth import UserCreate, UserRead
from service.arrivals.cli import arrivals_app, import_manifest_command
from service.audit.cli import audit_app
from service.bootstrap import command_context, console
from service.cases import erasure
from service.kit import migrate, serving
from service.kit.config import Settings
from service.kit.errors import DomainError
from service.kit.principal import SYSTEM_ROLE, Principal
from service.users import service as users_service

app = typer.Typer(help="NRM case workflow service.", no_args_is_help=True)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
sla_app = typer.Typer(help="Deadlines: warnings, breaches and escalations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(sla_app, name="sla")
app.add_typer(audit_app, name="audit")
CLI = Principal(user_id=None, username="nrm-cli", role=SYSTEM_ROLE, ministry=None)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration (Alembic upgrade head) to NRM_DATABASE_URL."""
    settings = Settings()
    migrate.upgrade(settings.database_url)
    console.print("database schema is up to date")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="worker processes")] = 1,
    access_log: Annotated[bool, typer.Option(help="log one line per request")] = True,
) -> None:
    """Serve the API (checks keys, schema and workflow files before any worker starts)."""
    with command_context() as context:  # fail fast, before any worker starts
        settings = context.settings
    options = serving.ServeOptions(
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        graceful_shutdown_seconds=settings.graceful_shutdown_seconds,
        worker_healthcheck_seconds=settings.worker_healthcheck_seconds,
        metrics=settings.metrics_token is not None,
    )
    try:
        serving.serve(options)
    except serving.ServeRefused as exc:
        console.print(f"[red]cannot start:[/red] {exc}")
        raise typer.Exit(2) from exc


@app.command()
def demo() -> None:
    """Load demonstration users and cases, and print how to log in."""
    from service.demo.service import load_demo

    with command_context() as context:
        typer.echo(load_demo(context))


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="the login name")],
    role: Annotated[str, typer.Option(help="case_worker, supervisor, auditor or admin")],
    ministry: Annotated[
        str | None, typer.Option(help="ministry code (case workers, supervisors)")
    ] = None,
    unit: Annotated[
        str | None, typer.Option(help="unit code (default: the ministry's national unit)")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input")
    ] = False,
) -> None:
    """Create a user; the password is read from standard input, never from the command line."""
    if not password_stdin:
        console.print("[red]give --password-stdin and pipe the password in[/red]")
        raise typer.Exit(2)
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        data = UserCreate.model_validate(
            {
                "username": name,
                "role": role,
                "ministry": ministry,
                "unit": unit,
                "password": password,
            }
        )
    except ValidationError as exc:
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"])
            console.print(f"[red]{field}:[/red] {error['msg']}")
        raise typer.Exit(2) from exc
    with command_context() as context:
        try:
            with context.database.transaction() as session:
                user = users_service.create_user(session, context, CLI, data)
                # the operator on the server is the bootstrap path: no second admin to wait for
                assert isinstance(user, UserRead)
        except DomainError as exc:
            console.print(f"[red]{exc.detail}[/red]")
            raise typer.Exit(2) from exc
    ministry = f", {user.ministry}" if user.ministry else ""
    unit = f" in {user.unit}" if user.unit else ""
    typer.echo(f"created {user.username} ({user.role}{ministry}){unit}")


@sla_app.command("sweep")
def sla_sweep(
    batch_size: Annotated[
        int | None, typer.Option(min=1, help="cases per transaction (default NRM_SLA_SWEEP_BATCH)")
    ] = None,
) -> None:
    """Record every warning, breach and escalation due by now (idempotent; safe under cron)."""
    from service.sla.sweep import sweep

    with command_context() as context:
        report = sweep(context, batch_size=batch_size)
    typer.echo(f"SLA sweep: {report}")


if __name__ == "__main__":
    app()


# --- erasure and legal holds (cases/erasure.py): each run is an event on the case's chain ---

cases_app = typer.Typer(help="Cases: import, erasure and legal holds.", no_args_is_help=True)
retention_app = typer.Typer(help="Retention of closed cases.", no_args_is_help=True)
Reason = Annotated[str, typer.Option(help="why (recorded in the audit log: no personal data)")]


@cases_app.command("erase")
def erase(case_id: Annotated[str, typer.Argument(help="the case's id")], reason: Reason) -> None:
    """Erase a closed case's identity and the case's key (its events' free text), now."""
    with command_context() as context:
        try:
            with context.database.transaction() as session:
                done = erasure.erase_case(session, context, CLI, case_id, _text(reason))
        except DomainError as exc:
            console.print(f"[red]{exc.detail}[/red]")
            raise typer.Exit(1) from exc
    console.print(f"erased {done.reference} ({done.case_id}): event {done.event_seq}")


@cases_app.command("hold")
def hold(case_id: Annotated[str, typer.Argument(help="the case's id")], reason: Reason) -> None:
    """Set a legal hold: retention does not erase the case until it is released."""
    _hold(case_id, _text(reason))
    console.print("legal hold set")


@cases_app.command("release-hold")
def release_hold(case_id: Annotated[str, typer.Argument(help="the case's id")]) -> None:
    """Release a legal hold: retention erases the case when it is due."""
    _hold(case_id, None)
    console.print("legal hold released")


@retention_app.command("run")
def run() -> None:
    """Erase every closed case past retention (NRM_RETENTION_YEARS) and not on hold."""
    with command_context() as context:
        count = erasure.erase_past_retention(context)
    console.print(f"erased {count} case(s) past retention")


def _hold(case_id: str, reason: str | None) -> None:
    with command_context() as context:
        try:
            with context.database.transaction() as session:
                erasure.set_legal_hold(session, context, CLI, case_id, reason)
        except DomainError as exc:
            console.print(f"[red]{exc.detail}[/red]")
            raise typer.Exit(1) from exc


def _text(reason: str) -> str:
    reason = reason.strip()
    if not reason or len(reason) > 500 or "\x00" in reason:
        console.print("[red]--reason: between 1 and 500 characters, no NUL[/red]")
        raise typer.Exit(2)
    return reason


cases_app.command("import")(import_manifest_command)
app.add_typer(cases_app, name="cases")
app.add_typer(arrivals_app, name="arrivals")
app.add_typer(retention_app, name="retention")


# --- keys (docs/operations.md, "Rotating the data key") ---

keys_app = typer.Typer(help="Key rotation.", no_args_is_help=True)


@keys_app.command("rotate-data-key")
def rotate_data_key() -> None:
    """Seal every identity and case key again under NRM_DATA_KEY (those that open only with a
    key of NRM_DATA_KEYS_READ_ONLY); batched, while the service runs, safe to run again."""
    from service.cases.rekey import rotate_data_key as rotate
    from service.webhooks.service import reseal_secrets

    with command_context() as context:
        report = rotate(context)
        secrets = reseal_secrets(context)
    console.print(
        f"examined {report.examined}, sealed again {report.resealed}, "
        f"changed meanwhile {report.changed}" + (" (run it again)" if report.changed else "")
    )
    console.print(f"webhook secrets sealed again: {secrets}")
    if report.changed:
        raise typer.Exit(1)


@keys_app.command("reindex")
def reindex() -> None:
    """Compute every victim's blind index and duplicate-search blocks again under the index key
    (after NRM_INDEX_KEY changed, or the data key it derives from); batched, safe to run again."""
    from service.cases.duplicates.service import reindex as run_reindex

    with command_context() as context:
        report = run_reindex(context)
    console.print(f"examined {report.examined}, of them erased (nothing to index) {report.erased}")


app.add_typer(keys_app, name="keys")


# --- migrating running cases between workflow versions (workflow/migrations.py) ---

workflows_app = typer.Typer(
    help="Workflow versions: migrating running cases.", no_args_is_help=True
)


@workflows_app.command("migrate")
def workflows_migrate(
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
    """Move running cases to another version of their workflow by a reviewed state mapping:
    a dry run by default. Exit 0 done (cases the mapping leaves where they are included), 1 a
    case changed meanwhile and was skipped (run it again), 2 mapping or checksum refused."""
    from service.workflow import cli as shown
    from service.workflow import migrations

    raw = shown.read_mapping(console, mapping_file)
    only = shown.case_ids(console, case)
    source = raw.get("from")
    name = str(source.get("name")) if isinstance(source, dict) else ""
    with command_context() as context:
        try:
            if apply:
                result = migrations.apply(context, CLI, name, raw, checksum, only, field="")
            else:
                with context.database.snapshot() as session:
                    result = migrations.plan(session, context, name, raw, only, field="")
        except DomainError as exc:
            console.print(f"[red]{mapping_file.name}: {exc.detail}[/red]")
            raise typer.Exit(2) from exc
    shown.print_result(console, result)
    if result.counts.get("skipped"):
        raise typer.Exit(1)


app.add_typer(workflows_app, name="workflows")
# --- webhooks (service/webhooks/): the delivery worker for operators and tests ---

webhooks_app = typer.Typer(help="Webhooks: deliver the outbox.", no_args_is_help=True)


@webhooks_app.command("deliver")
def webhooks_deliver(
    once: Annotated[
        bool, typer.Option("--once", help="deliver what is due now, then exit")
    ] = False,
) -> None:
    """Fan the outbox out and deliver what is due (what `nrm serve` does in the background);
    safe beside running servers: a delivery is leased to one worker at a time."""
    from service.webhooks import delivery

    with command_context() as context:
        while True:
            report = delivery.deliver(context)
            delivery.refresh_metrics(context)
            console.print(
                f"fanned out {report.fanned_out}, delivered {report.delivered}, "
                f"failed {report.failed} (retried later), dead-lettered {report.dead}"
            )
            if once:
                return
            time.sleep(context.settings.webhook_deliver_seconds)


app.add_typer(webhooks_app, name="webhooks")


# --- reports (service/reports/): the derived index a ministry's monthly report counts from ---

reports_app = typer.Typer(help="Reports: what they count from.", no_args_is_help=True)


@reports_app.command("rebuild")
def reports_rebuild() -> None:
    """Recompute `ministry_move` (each case's moves once per ministry of its scope) from the
    events and `case_ministry`, in one transaction; triggers keep it, so this only repairs
    or proves it. Says how many rows it holds and how many differed."""
    from service.reports import service as reports

    with command_context() as context, context.database.transaction() as session:
        rows, differed = reports.rebuild_ministry_moves(session)
    console.print(f"ministry_move rebuilt from the events: {rows} rows, {differed} differed")


app.add_typer(reports_app, name="reports")
