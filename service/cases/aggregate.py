"""The case as one unit: what every read and every transition of a case loads and keeps true."""

from __future__ import annotations

from dataclasses import dataclass

from service.models import CaseFile, Victim


@dataclass
class LoadedCase:
    """A case with all that a read or a transition needs of it, fetched in one round trip."""

    case: CaseFile
    victim: Victim
    handled: set[str]  # the ministries that referred or led it: they may see the identity
    consent_recipients: set[str]  # active consents
    assignee: str | None
    approval_pending: bool
