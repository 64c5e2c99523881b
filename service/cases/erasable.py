"""The free text of a case's events, sealed under the case's own key so that it can be erased.

What a person types (every `note`, every free-text payload field: workflows/payload.py's
`is_free_text`, e.g. the district of `hand_to_district`, `grounds`, `summary`, `wishes`, and
the reasons given on approvals, overrides and declined hand-overs) is written to the append-only
log only as `{"enc": "<base64url>"}`: AES-256-GCM under a random key of the case's own, kept
wrapped by the service's data key on the victim row. The note travels in the payload as
`_note`. The hash covers the ciphertext, so destroying the key (cases/erasure.py) removes the
text for good while the chain still verifies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from service.kit.context import AppContext
from service.kit.encryption import TextSealer, is_sealed, new_case_key
from service.kit.errors import CaseErased
from service.kit.principal import Principal
from service.models import CaseFile, Victim
from workflows import Definition
from workflows.payload import map_free_text
from workflows.registry import Registry

ERASED = "[erased]"
UNREADABLE = "[unreadable]"
MASKED = "[sealed]"  # shown to auditors where a mutable row holds text the log seals
NOTE = "_note"


def sealer(context: AppContext, case: CaseFile, victim: Victim) -> TextSealer:
    """The case's sealer; a case written before keys existed gets its key now (the case row's
    compare-and-set keeps two writers from both giving it one)."""
    if victim.erased_at is not None:
        raise CaseErased("the case is erased: nothing more is written about the victim")
    if victim.data_key is None:
        victim.data_key = new_case_key(context.cipher, case.id.bytes)
    return TextSealer(context.cipher.unwrap(victim.data_key, case.id.bytes), case.id.bytes)


def seal(
    context: AppContext,
    case: CaseFile,
    victim: Victim,
    payload: Mapping[str, Any],
    *,
    schema: Mapping[str, Any] | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """`payload` as the log keeps it: its free text (by `schema`) and the note (as `_note`)
    sealed."""
    box = sealer(context, case, victim)
    sealed: dict[str, Any] = dict(payload)
    if schema is not None:
        sealed = map_free_text(schema, sealed, box.seal)
    if note is not None:
        sealed[NOTE] = box.seal(note)
    return sealed


def seal_text(context: AppContext, case: CaseFile, victim: Victim, text: str) -> dict[str, str]:
    return sealer(context, case, victim).seal(text)


Opener = Callable[[dict[str, Any], str | None], tuple[dict[str, Any], str | None]]


def opener(context: AppContext, principal: Principal, case: CaseFile, victim: Victim) -> Opener:
    """How `principal` sees the payload and note of the case's events. Case workers and
    supervisors who may see the case read the text; auditors see the ciphertext, as the export
    has it; once the key is erased everyone sees "[erased]". (An event written before sealing
    existed keeps its clear text: the log cannot be rewritten.)"""
    if victim.data_key is None:
        return lambda payload, note: _shown(payload, note, lambda _sealed: ERASED)
    if not principal.works_cases:
        return lambda payload, note: (payload, note)
    box = TextSealer(context.cipher.unwrap(victim.data_key, case.id.bytes), case.id.bytes)

    def open_one(sealed: dict[str, str]) -> str:
        try:
            return box.open(sealed)
        except ValueError:  # altered: `nrm audit verify` names the event
            return UNREADABLE

    return lambda payload, note: _shown(payload, note, open_one)


class Mask:
    """The free text of an approval request (a mutable row, scrubbed by erasure) hidden from
    those who see the log's ciphertext only: auditors."""

    def __init__(self, context: AppContext) -> None:
        self._registry = context.registry

    def payload(self, case: CaseFile, trigger: str, payload: dict[str, Any]) -> dict[str, Any]:
        versions = lineage(self._registry, case.workflow_name, case.workflow_version)
        schema = trigger_schema(versions, trigger)
        masked: dict[str, Any] = map_free_text(schema, payload, lambda _text: MASKED)
        return masked

    def text(self, value: str | None) -> str | None:
        return None if value is None else MASKED


def lineage(registry: Registry, name: str, version: int) -> list[Definition]:
    """A case's definition version first, then the other versions of its workflow, newest
    first: a case migrated between versions keeps legal facts and requests of triggers its
    current version may not have, and their free text must still be found to hide or erase."""
    return sorted(
        (d for d in registry.definitions() if d.name == name),
        key=lambda d: (d.version != version, -d.version),
    )


def trigger_schema(definitions: list[Definition], trigger: str) -> Mapping[str, Any] | None:
    """The payload schema of `trigger` in the first of `definitions` that has it."""
    for definition in definitions:
        for row in definition.transitions:
            if row.trigger == trigger:
                return row.payload_schema
    return None


def masking(context: AppContext, principal: Principal) -> Mask | None:
    return None if principal.works_cases else Mask(context)


def _shown(
    payload: dict[str, Any], note: str | None, open_one: Callable[[dict[str, str]], str]
) -> tuple[dict[str, Any], str | None]:
    shown: dict[str, Any] = _walk(payload, open_one)
    sealed_note = shown.pop(NOTE, None)
    return shown, note if sealed_note is None else str(sealed_note)


def _walk(value: Any, open_one: Callable[[dict[str, str]], str]) -> Any:
    if is_sealed(value):
        return open_one(value)
    if isinstance(value, dict):
        return {key: _walk(item, open_one) for key, item in value.items()}
    if isinstance(value, list):
        return [_walk(item, open_one) for item in value]
    return value
