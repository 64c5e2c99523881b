"""Published versions are immutable, and a case stays on the version it started on."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.app import create_app
from service.kit.context import AppContext
from service.workflow.publishing import publish
from tests.factories import Actors, fire, register
from workflows import DefinitionError, parse
from workflows.loader import DEFINITIONS_DIR

V1 = DEFINITIONS_DIR / "nrm-indonesia-v1.yaml"


def _document(**state_changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(V1.read_text())
    document["states"]["screening"].update(state_changes)
    return document


def test_a_changed_file_under_a_published_version_is_refused(session: Session) -> None:
    tampered = parse(_document(deadline={"business_days": 10}))
    with pytest.raises(DefinitionError, match=r"nrm-indonesia v1 changed after it was published"):
        publish(session, [tampered])


def test_publishing_the_same_file_again_changes_nothing(
    session: Session, context: AppContext
) -> None:
    registry = publish(session, [parse(_document())])
    assert set(registry.engines) == set(context.registry.engines)


def test_a_new_version_serves_new_cases_and_changes_no_running_case(
    context: AppContext, session: Session
) -> None:
    latest = max(v for (_, v) in context.registry.engines)
    v2_document = _document(deadline={"business_days": 10})
    v2_document["version"] = latest + 1
    registry = publish(session, [parse(v2_document)])
    session.commit()
    assert {v for (_, v) in registry.engines} == {*range(1, latest + 1), latest + 1}
    with TestClient(create_app(context), raise_server_exceptions=False) as old_client:
        actors = Actors(old_client, context)
        old_case = register(old_client, actors.worker("KEMLU"))
    upgraded = replace(context, registry=registry)
    with TestClient(create_app(upgraded), raise_server_exceptions=False) as client:
        actors = Actors(client, upgraded)
        new_case = register(client, actors.worker("KEMLU"))
        assert old_case["workflow_version"] == latest
        assert new_case["workflow_version"] == latest + 1
        kemenpppa = actors.worker("KEMENPPPA")
        moved_old = fire(client, kemenpppa, old_case, "begin_screening", {}).json()
        moved_new = fire(client, kemenpppa, new_case, "begin_screening", {}).json()
        assert moved_old["workflow_version"] == latest
        assert moved_new["workflow_version"] == latest + 1
        old_days = _days(moved_old)
        new_days = _days(moved_new)
        assert new_days > old_days  # the new version: 10 business days to screen, not 5
        listed = client.get("/api/v1/workflows", headers=kemenpppa.headers).json()
        assert [(w["version"], w["current"]) for w in listed] == [
            *((v, False) for v in range(1, latest + 1)),
            (latest + 1, True),
        ]


def _days(case: dict[str, Any]) -> float:
    due = datetime.fromisoformat(case["due_at"])
    entered = datetime.fromisoformat(case["state_entered_at"])
    return (due - entered).total_seconds() / 86400
