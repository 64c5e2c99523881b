"""compose.yaml holds together (there is no Docker engine here: its database part is run for
real by tests/test_db_roles.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

COMPOSE = Path(__file__).resolve().parent.parent / "compose.yaml"


def test_compose_runs_migrate_as_the_owner_and_the_api_as_the_app_role() -> None:
    compose: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert services["db"]["image"] == "postgres:15"
    migrate_url = services["migrate"]["environment"]["NRM_DATABASE_URL"]
    api_url = services["api"]["environment"]["NRM_DATABASE_URL"]
    assert "//nrm_owner:" in migrate_url and "//nrm_app:" in api_url
    assert services["migrate"]["environment"]["NRM_DB_APP_ROLE"] == "nrm_app"
    assert services["api"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    for key in ("NRM_SECRET_KEY", "NRM_DATA_KEY", "NRM_AUDIT_SIGNING_KEY"):
        assert ":?" in services["api"]["environment"][key]  # refuses to start without it


def test_the_api_healthcheck_asks_readiness() -> None:
    compose: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    probe = " ".join(compose["services"]["api"]["healthcheck"]["test"])
    assert "/health/ready" in probe
