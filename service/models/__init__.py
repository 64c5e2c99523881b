"""The tables. Import from here so that every model is registered on the shared metadata."""

from service.models.base import metadata, utcnow
from service.models.case import CaseFile, CaseMinistry, Consent, Victim
from service.models.checkpoint import AuditCheckpoint
from service.models.event import AuditStream, CaseEvent
from service.models.idempotency import IdempotencyRecord
from service.models.user import ROLES, UserAccount
from service.models.workflow import WorkflowDefinitionRow

__all__ = [
    "ROLES",
    "AuditCheckpoint",
    "AuditStream",
    "CaseEvent",
    "CaseFile",
    "CaseMinistry",
    "Consent",
    "IdempotencyRecord",
    "UserAccount",
    "Victim",
    "WorkflowDefinitionRow",
    "metadata",
    "utcnow",
]
