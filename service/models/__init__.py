"""The tables. Import from here so that every model is registered on the shared metadata."""

from service.models.access import AuthSession, IdentityAccess, LoginFailure, RetiredRefreshToken
from service.models.account_request import AccountRequest
from service.models.approval import Approval
from service.models.arrival import Arrival, GroupDecision, ManifestRow
from service.models.base import metadata, utcnow
from service.models.case import CaseFile, CaseMinistry, Consent, Victim
from service.models.checkpoint import AuditCheckpoint, AuditWitness
from service.models.event import AuditStream, CaseEvent
from service.models.idempotency import IdempotencyRecord
from service.models.unit import UNIT_LEVELS, CaseEscalation, CaseUnit, Unit
from service.models.user import ROLES, UserAccount
from service.models.workflow import WorkflowDefinitionRow

__all__ = [
    "ROLES",
    "UNIT_LEVELS",
    "AccountRequest",
    "Approval",
    "Arrival",
    "AuditCheckpoint",
    "AuditStream",
    "AuditWitness",
    "AuthSession",
    "CaseEscalation",
    "CaseEvent",
    "CaseFile",
    "CaseMinistry",
    "CaseUnit",
    "Consent",
    "GroupDecision",
    "IdempotencyRecord",
    "IdentityAccess",
    "LoginFailure",
    "ManifestRow",
    "RetiredRefreshToken",
    "Unit",
    "UserAccount",
    "Victim",
    "WorkflowDefinitionRow",
    "metadata",
    "utcnow",
]
