"""Every published version of every workflow, one engine each: what a running process consults.

Pure: the service fills it from the database at start-up (service/workflow/publishing.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workflows.engine import Engine
from workflows.legal import LEGAL_ACTORS
from workflows.model import Definition

DEFAULT_WORKFLOW = "nrm-indonesia"


@dataclass
class Registry:
    engines: dict[tuple[str, int], Engine] = field(default_factory=dict)
    memo: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)
    """Values derived from the published definitions (they never change in a running process)."""

    def engine(self, name: str, version: int) -> Engine:
        return self.engines[(name, version)]

    def latest(self, name: str) -> Engine | None:
        versions = [v for (n, v) in self.engines if n == name]
        return self.engines[(name, max(versions))] if versions else None

    def definitions(self) -> list[Definition]:
        return [engine.definition for engine in self.engines.values()]

    def ministries(self) -> set[str]:
        """The ministries of every published definition, and the legal track's own actors."""
        return {code for d in self.definitions() for code in d.ministries} | set(LEGAL_ACTORS)
