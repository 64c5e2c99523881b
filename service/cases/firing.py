"""Firing a transition: the use case behind `POST /cases/{id}/transitions`.

It checks the trigger against the case as it is, then either moves the case (the transition
core) or, when the definition marks the trigger sensitive, records a request that a second
person, a supervisor of the same ministry, decides (four eyes).
"""

from __future__ import annotations

from sqlmodel import Session

from schemas.case import TransitionRequest
from service.cases import four_eyes
from service.cases.command import Command
from service.cases.idempotency import Answer, idempotent
from service.cases.service import checked_replay, present, readable
from service.cases.transition_core import apply, check
from service.kit.context import AppContext
from service.kit.errors import VersionConflict
from service.kit.principal import Principal


def fire_transition(
    session: Session,
    context: AppContext,
    principal: Principal,
    case_id: str,
    request: TransitionRequest,
    *,
    endpoint: str,
    idempotency_key: str | None = None,
    reveal: bool = True,
) -> Answer:
    """`reveal=False` (the pages) answers without the identity, so no look is logged."""
    return idempotent(
        session, context, principal, idempotency_key,
        f"POST /cases/{case_id}/transitions", request.model_dump(mode="json"),
        lambda: _transition(session, context, principal, case_id, request, endpoint, reveal),
        lambda stored: checked_replay(session, context, principal, stored, endpoint),
    )  # fmt: skip


def _transition(
    session: Session,
    context: AppContext,
    principal: Principal,
    case_id: str,
    request: TransitionRequest,
    endpoint: str,
    reveal: bool,
) -> Answer:
    loaded = readable(session, context, principal, case_id)
    if loaded.case.version != request.expected_version:
        raise VersionConflict(
            f"expected_version is {request.expected_version} but the case is at version "
            f"{loaded.case.version}; read it again"
        )
    command = Command(
        request.trigger, request.payload, request.note, request.consent_override_reason,
        request.to_unit,
    )  # fmt: skip
    row, dest = check(context, principal, loaded, command)
    if row.sensitive:
        return four_eyes.request(
            session, context, principal, loaded, row, command, endpoint, reveal
        )
    apply(session, context, principal, loaded, row, dest, command)
    read = present(session, context, principal, loaded, endpoint, reveal)
    return Answer(status_code=200, body=read.model_dump(mode="json"))
