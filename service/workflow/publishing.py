"""Published workflow versions: frozen in the database, one engine each, loaded once at start-up."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, select

from service.kit.db import insert_if_absent
from service.models import WorkflowDefinitionRow, utcnow
from workflows import Definition, DefinitionError, Engine, parse
from workflows.registry import Registry


def publish(session: Session, definitions: Iterable[Definition]) -> Registry:
    """Store new versions, refuse a changed one, and return every published version.

    Versions that are in the database but no longer on disk stay loadable from their stored
    body, so cases pinned to them keep working.
    """
    for definition in definitions:
        insert_if_absent(  # concurrent workers may publish at once: the first insert wins
            session,
            WorkflowDefinitionRow,
            {
                "name": definition.name,
                "version": definition.version,
                "checksum": definition.checksum,
                "body": dict(definition.source),
                "published_at": utcnow(),
            },
        )
        stored = session.get(WorkflowDefinitionRow, (definition.name, definition.version))
        assert stored is not None
        if stored.checksum != definition.checksum:
            raise DefinitionError(
                f"{definition.name} v{definition.version} changed after it was published "
                f"(published checksum {stored.checksum[:12]}, file {definition.checksum[:12]}); "
                "publish the change as a new version instead"
            )
    registry = Registry()
    for row in session.exec(select(WorkflowDefinitionRow)):
        definition = parse(row.body)
        if definition.checksum != row.checksum:
            raise DefinitionError(
                f"{row.name} v{row.version}: stored body does not match its checksum"
            )
        registry.engines[(row.name, row.version)] = Engine(definition)
    return registry
