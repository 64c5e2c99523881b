"""Schemathesis against the app's own OpenAPI document, on the suite's database (SQLite, or
PostgreSQL under NRM_TEST_DATABASE_URL): no server error, no answer outside the schema, no
status the document does not list. Every built-in check runs; the seed is fixed.

Each operation is called with a token of each role (a case worker and a supervisor of KEMLU,
an auditor, an admin), and statefully: cases registered, read, moved, assigned, approved.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.core.result import Ok
from sqlalchemy import Connection

from tests.factories import Actors

pytestmark = pytest.mark.fuzz
SEED = 20261129
EXAMPLES = 12  # per operation; the whole run stays within a few minutes per database
SCENARIOS = 150  # stateful scenarios of up to 10 linked calls
ROLES = (("case_worker", "KEMLU"), ("supervisor", "KEMLU"), ("auditor", None), ("admin", None))
# What valid input may still meet: the workflow's own rules (a guard, a payload for another
# trigger, a state the trigger does not leave) are not JSON Schema, so 409 and 422 are
# acceptable answers to input the schema allows.
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "401", "403", "404", "409", "422", "429"]
            },
        },
    }
)


@pytest.fixture
def tokens(actors: Actors) -> dict[str, dict[str, str]]:
    return {role: actors.get(role, ministry).headers for role, ministry in ROLES}


def test_every_operation_answers_as_documented_for_every_role(
    client: TestClient, connection: Connection, tokens: dict[str, dict[str, str]]
) -> None:
    api = schemathesis.openapi.from_asgi("/openapi.json", client.app, config=CONFIG)
    failures: dict[str, str] = {}
    for result in api.get_all_operations():
        assert isinstance(result, Ok), f"the document has an invalid operation: {result.err()}"
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
            database=None,
        )
        def fuzz(case: Any) -> None:
            # each example starts from the same data: a logout, a deactivation or a password
            # reset of one of the callers is undone before the next
            savepoint = connection.begin_nested()
            try:
                for headers in tokens.values():
                    case.call_and_validate(headers=headers)
            finally:
                savepoint.rollback()

        try:
            fuzz()
        except (
            Exception,
            BaseExceptionGroup,
        ) as exc:  # every operation's failure, not only the first one's
            failures[operation.label] = _summary(exc)
    assert not failures, "\n\n".join(f"== {label}\n{text}" for label, text in failures.items())


def _summary(exc: BaseException) -> str:
    return str(exc)[:2500]


def test_scenarios_of_linked_calls_answer_as_documented(
    client: TestClient, connection: Connection, tokens: dict[str, dict[str, str]]
) -> None:
    """Stateful: cases registered, then read, moved, claimed, handed over, approved through
    the links schemathesis infers from the document, by a KEMLU case worker and supervisor in
    turn (the supervisor approves what the worker asked). Each scenario is rolled back."""
    api = schemathesis.openapi.from_asgi("/openapi.json", client.app, config=CONFIG)
    callers = [tokens["case_worker"], tokens["supervisor"]]

    class Scenario(api.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            self.savepoint = connection.begin_nested()
            self.calls = 0

        def teardown(self) -> None:
            self.savepoint.rollback()

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            self.calls += 1
            return {"headers": callers[self.calls % 2]}

    Scenario.run(
        settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=10,
            derandomize=True,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.generate],
            database=None,
        )
    )
