"""The case as one unit: what every read and every transition of a case loads and keeps true."""

from __future__ import annotations

from dataclasses import dataclass, field

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
    units: UnitsOfCase = field(default_factory=lambda: UnitsOfCase())
    witness: WitnessFacts = field(default_factory=lambda: WitnessFacts())


@dataclass
class WitnessFacts:
    """The victim as a witness (service/legal's `legal_track`): what the witness hold reads."""

    status: str | None = None
    agreed_to_testify: bool = False


@dataclass
class UnitsOfCase:
    """Where the case stands among units: who leads its step, who a hand-over waits for, and
    which units may see the victim's identity now (cases/presenters)."""

    lead_code: str = ""
    lead_path: str = ""
    transfer_code: str | None = None
    transfer_path: str | None = None
    identity: set[int] = field(default_factory=set)

    @property
    def responsible_path(self) -> str:
        """The unit that acts on the step: the receiving one once a hand-over waits for it."""
        return self.transfer_path or self.lead_path
