"""The NRM workflow: definitions as data, the guards they name, and one engine per version.

Pure by rule: nothing here imports a web framework, an ORM or the service, so ministries,
lawyers and auditors can read and test it alone.
"""

from workflows.calendar import Calendar, load_calendar
from workflows.diagram import mermaid
from workflows.engine import Engine
from workflows.errors import (
    DefinitionError,
    GuardRefused,
    InvalidTransition,
    PayloadInvalid,
    WorkflowError,
)
from workflows.guards import Actor, CaseFacts
from workflows.loader import load_directory, load_file, parse
from workflows.model import PHASES, Deadline, Definition, Label, Rung, StateSpec, TransitionSpec
from workflows.sla import SLA_LABELS, Checkpoints, SlaLevel, checkpoints, label_of

__all__ = [
    "PHASES",
    "SLA_LABELS",
    "Actor",
    "Calendar",
    "CaseFacts",
    "Checkpoints",
    "Deadline",
    "Definition",
    "DefinitionError",
    "Engine",
    "GuardRefused",
    "InvalidTransition",
    "Label",
    "PayloadInvalid",
    "Rung",
    "SlaLevel",
    "StateSpec",
    "TransitionSpec",
    "WorkflowError",
    "checkpoints",
    "label_of",
    "load_calendar",
    "load_directory",
    "load_file",
    "mermaid",
    "parse",
]
