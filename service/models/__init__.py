"""The tables. Import from here so that every model is registered on the shared metadata."""

from service.models.access import AuthSession, IdentityAccess, LoginFailure, RetiredRefreshToken
from service.models.account_request import AccountRequest
from service.models.approval import Approval
from service.models.arrival import Arrival, GroupDecision, ManifestRow
from service.models.base import metadata, utcnow
from service.models.case import CaseFile, CaseMinistry, Consent, Victim
from service.models.checkpoint import AuditCheckpoint, AuditWitness
from service.models.duplicate import DuplicateMatch, VictimBlock
from service.models.event import AuditStream, CaseEvent
from service.models.idempotency import IdempotencyRecord
from service.models.legal import (
    CriminalCase,
    CriminalCaseVictim,
    LegalTrack,
    Suspect,
    SuspectIdentityAccess,
)
from service.models.report import MinistryMove
from service.models.service_request import ServiceRequest
from service.models.unit import UNIT_LEVELS, CaseEscalation, CaseUnit, Unit
from service.models.user import ROLES, UserAccount
from service.models.webhook import WebhookDelivery, WebhookOutbox, WebhookSubscription
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
    "CriminalCase",
    "CriminalCaseVictim",
    "DuplicateMatch",
    "GroupDecision",
    "IdempotencyRecord",
    "IdentityAccess",
    "LegalTrack",
    "LoginFailure",
    "ManifestRow",
    "MinistryMove",
    "RetiredRefreshToken",
    "ServiceRequest",
    "Suspect",
    "SuspectIdentityAccess",
    "Unit",
    "UserAccount",
    "Victim",
    "VictimBlock",
    "WebhookDelivery",
    "WebhookOutbox",
    "WebhookSubscription",
    "WorkflowDefinitionRow",
    "metadata",
    "utcnow",
]
