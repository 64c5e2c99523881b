"""The pages' menu per role: which pages a person is shown (the pages themselves still check)."""

from __future__ import annotations

from service.kit.context import AppContext
from service.kit.principal import Principal
from workflows.legal import POLICE, PROSECUTION

LEGAL_MINISTRIES = (POLICE, PROSECUTION)  # who works criminal cases (service/legal)

Link = tuple[str, str]  # (path, catalogue key)


def navigation(context: AppContext, principal: Principal) -> list[Link]:
    if principal.role == "admin":
        return [
            ("/admin/users", "nav.users"),
            ("/admin/units", "nav.units"),
            ("/admin/webhooks", "nav.webhooks"),
        ]
    if principal.role == "auditor":
        return [
            ("/audit", "nav.audit"),
            ("/audit/verify", "nav.verify"),
            ("/audit/checkpoints", "nav.checkpoints"),
            ("/audit/identity-access", "nav.identity_access"),
            ("/escalations", "nav.escalations"),
            ("/figures", "nav.figures"),
            ("/criminal-cases", "legal.nav"),
            ("/arrivals", "nav.arrivals"),
            ("/reports", "nav.reports"),
        ]
    links = [("/work", "nav.work"), ("/cases/new", "nav.register"), ("/approvals", "nav.approvals")]
    links += [("/arrivals", "nav.arrivals")]
    if principal.role == "supervisor":
        links += [("/group-approvals", "nav.groups")]
    task_force = principal.ministry in {d.escalate_to for d in context.registry.definitions()}
    if principal.role == "supervisor" or task_force:
        links += [("/escalations", "nav.escalations"), ("/figures", "nav.figures")]
        links += [("/reports", "nav.reports")]
    if principal.ministry in LEGAL_MINISTRIES:
        links.append(("/criminal-cases", "legal.nav"))
    if principal.role == "supervisor":
        links.append(("/duplicates", "nav.duplicates"))
    return links


def home(context: AppContext, principal: Principal) -> str:
    """Where a person lands after logging in."""
    return navigation(context, principal)[0][0]
