"""Which criminal cases (perkara) a caller may see: decided here, once, for every read.

- POLRI: the criminal cases of their own unit and of every unit below it (the national unit,
  Bareskrim, sees them all); their investigators see the suspects' identities.
- KEJAKSAAN: every criminal case the prosecution service was told of: once the SPDP is
  recorded (KUHAP Art. 109(1): the investigator notifies the public prosecutor when an
  investigation starts) or the case has gone past investigation (design choice: the
  prosecution service has no units in this service yet, so all its users see these).
- Auditors: every criminal case, never a suspect's identity.
- Everyone else: none (and a criminal case they may not see answers 404, like a missing one).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, false, or_, true
from sqlalchemy.orm import aliased
from sqlmodel import col

from schemas.auth import Role
from service.kit.principal import Principal
from service.models import CriminalCase, Unit
from workflows.legal import POLICE, PROSECUTION


def criminal_case_visibility(principal: Principal) -> ColumnElement[bool]:
    if principal.role == Role.AUDITOR:
        return true()
    if not principal.works_cases:
        return false()
    if principal.ministry == POLICE and principal.unit_path:
        path, unit = principal.unit_path, aliased(Unit)
        return (
            exists()
            .where(
                col(unit.id) == col(CriminalCase.police_unit_id),
                or_(col(unit.path) == path, col(unit.path).startswith(path + ".")),
            )
            .correlate(CriminalCase)
        )
    if principal.ministry == PROSECUTION:
        return or_(
            col(CriminalCase.spdp_on).is_not(None), col(CriminalCase.stage) != "investigation"
        )
    return false()


def sees_suspect_identity(principal: Principal) -> bool:
    """Among those who see a criminal case: its investigators and prosecutors, not auditors."""
    return principal.works_cases and principal.ministry in (POLICE, PROSECUTION)
