"""The pages' menu per role: which pages a person is shown (the pages themselves still check)."""

from __future__ import annotations

from service.kit.context import AppContext
from service.kit.principal import Principal

Link = tuple[str, str]  # (path, catalogue key)


def navigation(context: AppContext, principal: Principal) -> list[Link]:
    if principal.role == "admin":
        return [("/admin/users", "nav.users"), ("/admin/units", "nav.units")]
    if principal.role == "auditor":
        return [
            ("/audit", "nav.audit"),
            ("/audit/verify", "nav.verify"),
            ("/audit/checkpoints", "nav.checkpoints"),
            ("/audit/identity-access", "nav.identity_access"),
            ("/escalations", "nav.escalations"),
            ("/figures", "nav.figures"),
            ("/reports", "nav.reports"),
        ]
    links = [("/work", "nav.work"), ("/cases/new", "nav.register"), ("/approvals", "nav.approvals")]
    task_force = principal.ministry in {d.escalate_to for d in context.registry.definitions()}
    if principal.role == "supervisor" or task_force:
        links += [("/escalations", "nav.escalations"), ("/figures", "nav.figures")]
        links += [("/reports", "nav.reports")]
    return links


def home(context: AppContext, principal: Principal) -> str:
    """Where a person lands after logging in."""
    return navigation(context, principal)[0][0]
