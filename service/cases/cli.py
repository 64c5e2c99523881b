"""`nrm cases ...` and `nrm retention run`: erasure and legal holds, run by the operator.

Each command is one transaction and one event on the case's chain (the actor: `nrm-cli`).
"""

from __future__ import annotations

from typing import Annotated

import typer

from service.bootstrap import command_context, console
from service.cases import erasure
from service.kit.errors import DomainError
from service.kit.principal import SYSTEM_ROLE, Principal

cases_app = typer.Typer(help="Cases: erasure and legal holds.", no_args_is_help=True)
retention_app = typer.Typer(help="Retention of closed cases.", no_args_is_help=True)
CLI = Principal(user_id=None, username="nrm-cli", role=SYSTEM_ROLE, ministry=None)
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
