"""`nrm audit ...`: verify (online or offline), export, seal, publish the key, check a proof.

The offline commands read files only: no settings, no keys of the service, no database.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, cast

import typer

from service.audit import checkpoints, witness
from service.audit import service as audit
from service.audit.integrity import signing
from service.audit.integrity.export_format import verify_export
from service.audit.integrity.proofs import check_proof
from service.audit.integrity.verifier import Record, Verdict
from service.bootstrap import command_context, console
from service.kit.config import Settings
from service.kit.errors import DomainError
from service.kit.principal import SYSTEM

audit_app = typer.Typer(help="The audit trail: verify, export, seal, publish the key.",
                        no_args_is_help=True)  # fmt: skip

PublicKeys = Annotated[
    list[str] | None,
    typer.Option(
        "--public-key",
        help="the service's Ed25519 public key, or a file holding it (base64, hex or PEM); "
        "repeat for keys used before a rotation",
    ),
]
Trusted = Annotated[
    list[Path] | None,
    typer.Option(
        "--checkpoint",
        help="a checkpoint you kept (JSON, as GET /api/v1/audit/checkpoints gave it): the log "
        "must still hold it unchanged; repeatable",
    ),
]


@audit_app.command("verify")
def verify(
    offline: Annotated[
        Path | None,
        typer.Option("--offline", help="check this export file instead, with no database"),
    ] = None,
    public_key: PublicKeys = None,
    checkpoint: Trusted = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the verdict as JSON")] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=0,
            help="processes checking slices of the log (PostgreSQL; default: one per CPU for "
            "a long log); 1 checks them in this process, 0 walks the log event by event",
        ),
    ] = None,
) -> None:
    """Check the whole audit trail: exit 0 when intact, 1 with the first broken event."""
    trusted = [c for path in checkpoint or [] for c in _read_checkpoints(path)]
    if offline is not None:
        if not public_key:
            console.print("[red]--offline needs --public-key (the key you kept)[/red]")
            raise typer.Exit(2)
        keys = _keys(public_key)
        _check_trusted(trusted, keys)
        try:
            with offline.open("rb") as lines:
                verdict = verify_export(lines, keys, trusted)
        except OSError as exc:
            console.print(f"[red]cannot read {offline}:[/red] {exc.strerror}")
            raise typer.Exit(2) from exc
    else:
        with command_context() as context:
            _check_trusted(trusted, audit.public_keys(context))
            verdict = audit.verify(context, trusted, workers=workers)
    _report(verdict, as_json)


@audit_app.command("export")
def export(
    file: Annotated[Path, typer.Argument(help="where to write it (- for standard output)")],
    fmt: Annotated[str, typer.Option("--format", help="jsonl (verifiable) or csv")] = "jsonl",
) -> None:
    """Write the log, its checkpoints and the case heads as JSON Lines (or the events as CSV).

    The export is recorded on the "audit" stream and everything is sealed before it is written.
    """
    if fmt not in ("jsonl", "csv"):
        console.print("[red]--format is jsonl or csv[/red]")
        raise typer.Exit(2)
    kind = cast(audit.ExportFormat, fmt)
    with command_context() as context:
        with context.database.transaction() as session:
            audit.record_export(session, context, SYSTEM, kind, via="cli")
        lines = audit.export(context, kind)
        if str(file) == "-":
            count = sum(sys.stdout.write(text) >= 0 for text in lines)
        else:
            with file.open("w", encoding="utf-8", newline="") as out:
                count = sum(out.write(text) >= 0 for text in lines)
    console.print(f"wrote {count} lines to {file}")


@audit_app.command("checkpoint")
def checkpoint() -> None:
    """Seal the events not yet in a checkpoint, now, and publish it to the witnesses."""
    with command_context() as context:
        with context.database.transaction() as session:
            result = checkpoints.checkpoint_now(session, context)
        witness.publish(context)
    typer.echo(result.model_dump_json(indent=2))


@audit_app.command("public-key")
def public_key(
    pem: Annotated[bool, typer.Option("--pem", help="print it as PEM")] = False,
) -> None:
    """Print the public key that verifies checkpoints; keep it outside the system."""
    raw = signing.public_key_of(Settings().keys.audit_signing_key)
    typer.echo(signing.public_key_pem(raw) if pem else signing.encode_public_key(raw))


@audit_app.command("proof")
def proof(seq: Annotated[int, typer.Argument(min=1, help="the event's seq")]) -> None:
    """Print an inclusion proof of event SEQ (sealing it first if need be), as JSON."""
    with command_context() as context:
        try:
            with context.database.transaction() as session:
                result = audit.prove(session, context, seq)
        except DomainError as exc:
            console.print(f"[red]{exc.detail}[/red]")
            raise typer.Exit(1) from exc
    typer.echo(result.model_dump_json(indent=2))


@audit_app.command("check-proof")
def check_proof_file(
    file: Annotated[Path, typer.Argument(help="an inclusion proof as the API gave it (JSON)")],
    public_key: PublicKeys = None,
) -> None:
    """Check an inclusion proof offline: exit 0 if it proves the event, 1 otherwise."""
    if not public_key:
        console.print("[red]give --public-key[/red]")
        raise typer.Exit(2)
    try:
        proof = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        console.print(f"[red]cannot read {file}:[/red] {exc}")
        raise typer.Exit(2) from exc
    problems = check_proof(proof, _keys(public_key)) if isinstance(proof, dict) else ["not JSON"]
    if problems:
        typer.echo("proof REFUSED: " + "; ".join(problems))
        raise typer.Exit(1)
    typer.echo(f"proof OK: event seq {proof['event']['seq']} is in checkpoint "
               f"{proof['checkpoint']['number']}")  # fmt: skip


def _report(verdict: Verdict, as_json: bool) -> None:
    if as_json:
        typer.echo(audit.present_verdict(verdict).model_dump_json(indent=2))
    elif verdict.ok:
        typer.echo(
            f"audit trail intact: {verdict.events_checked} events in {verdict.streams_checked} "
            f"streams, {verdict.checkpoints_checked} checkpoints "
            f"({verdict.unsealed_events} events not yet sealed)"
        )
    else:
        assert verdict.first_broken is not None
        typer.echo(f"audit trail BROKEN ({verdict.problem_count} problem(s), "
                   f"{verdict.events_checked} events checked)")  # fmt: skip
        typer.echo(f"first broken: {verdict.first_broken.describe()}")
        for problem in verdict.problems[1:10]:
            typer.echo(f"also: {problem.describe()}")
    if not verdict.ok:
        raise typer.Exit(1)


def _keys(given: list[str]) -> dict[str, bytes]:
    keys = {}
    for text in given:
        path = Path(text)
        try:
            value = path.read_text(encoding="utf-8") if path.is_file() else text
            raw = signing.decode_public_key(value)
        except (OSError, ValueError) as exc:
            console.print(f"[red]--public-key {text[:20]!r}:[/red] {exc}")
            raise typer.Exit(2) from exc
        keys[signing.key_id(raw)] = raw
    return keys


def _read_checkpoints(path: Path) -> list[Record]:
    try:
        text = path.read_text(encoding="utf-8")
        parsed: Any = json.loads(text) if text.lstrip()[:1] in ("{", "[") else None
        if parsed is None or (isinstance(parsed, dict) and "items" in parsed):
            parsed = parsed["items"] if parsed else [json.loads(x) for x in text.splitlines() if x]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        console.print(f"[red]cannot read the checkpoint file {path}:[/red] {exc}")
        raise typer.Exit(2) from exc
    items = parsed if isinstance(parsed, list) else [parsed]
    if not all(isinstance(c, dict) and {"number", "hash"} <= c.keys() for c in items):
        console.print(f"[red]{path} holds no checkpoints[/red]")
        raise typer.Exit(2)
    return items


def _check_trusted(trusted: list[Record], keys: dict[str, bytes]) -> None:
    """A kept checkpoint must itself be intact and signed by a given key."""
    for kept in trusted:
        try:
            fields = {**kept, "format": kept.get("format", signing.FORMAT)}
            intact = signing.checkpoint_hash(fields) == kept["hash"]
            key = keys.get(kept["key_id"])
            signed = key is not None and signing.signature_valid(key, fields, kept["signature"])
        except (KeyError, TypeError):
            intact = signed = False
        if not (intact and signed):
            console.print(f"[red]the kept checkpoint {kept.get('number')} is damaged or not "
                          "signed by the given key[/red]")  # fmt: skip
            raise typer.Exit(2)
