"""Every schema change is a migration: the models match the migrations, and they round-trip."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from service.kit import migrate
from service.kit.db import create_db_engine
from service.models import metadata
from tests.conftest import fresh_database


def test_the_migrated_schema_matches_the_models(engine: Engine) -> None:
    """What `alembic check` asserts: autogenerate would find nothing to do."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_upgrade_downgrade_upgrade_round_trip(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as url:
        migrate.upgrade(url)
        engine = create_db_engine(url)
        try:
            assert "case_event" in inspect(engine).get_table_names()
            migrate.downgrade(url, "base")
            assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
            migrate.upgrade(url)
            assert "case_event" in inspect(engine).get_table_names()
        finally:
            engine.dispose()
