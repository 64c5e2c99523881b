"""Named guards: pure functions that return why they refuse a transition, or None to allow it.

A definition names its guards; the loader refuses a name that is not registered here. Guards see
only plain facts (no database, no web request), so a lawyer can read each rule in a few lines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from workflows.legal import is_witness_held
from workflows.model import StateSpec

INDONESIA = "ID"
GUARDIANS = frozenset({"parent", "guardian", "substitute_guardian"})


@dataclass(frozen=True)
class CaseFacts:
    """What a guard may know about a case: no names, no identity."""

    is_child: bool
    nationality: str
    referring_ministry: str
    ministries_involved: frozenset[str]
    consent_recipients: frozenset[str]
    objects_to_country_notification: bool
    # the legal track (service/legal): the victim's witness status, and whether they agreed
    witness_status: str | None = None
    agreed_to_testify: bool = False


@dataclass(frozen=True)
class Actor:
    ministry: str | None
    role: str


@dataclass(frozen=True)
class GuardContext:
    case: CaseFacts
    actor: Actor
    payload: Mapping[str, Any]
    source: StateSpec
    dest: StateSpec
    override_reason: str | None = None


Guard = Callable[[GuardContext], str | None]
GUARDS: dict[str, Guard] = {}


def guard(func: Guard) -> Guard:
    """Register `func` under its own name, the name a definition uses."""
    GUARDS[func.__name__] = func
    return func


@guard
def consent_from_the_right_person(ctx: GuardContext) -> str | None:
    """UU PDP Art. 25: a child's consent comes from a parent or guardian, never the child."""
    consent = ctx.payload.get("consent", ctx.payload)
    given_by = consent.get("by")
    if ctx.case.is_child:
        if given_by not in GUARDIANS:
            return "a child's consent must come from a parent or guardian"
        if consent.get("family_implicated") and given_by != "substitute_guardian":
            return (
                "the family is implicated: a child's consent must come from a substitute guardian"
            )
        return None
    if given_by != "victim":
        return "an adult victim gives their own consent"
    return None


@guard
def requested_by_referrer_or_provider(ctx: GuardContext) -> str | None:
    """Reconsideration is asked for by the referring agency or a service provider only."""
    allowed = ctx.case.ministries_involved | {ctx.case.referring_ministry}
    if ctx.actor.ministry not in allowed:
        return "reconsideration may only be requested by the referring agency or a service provider"
    return None


@guard
def indonesian_national(ctx: GuardContext) -> str | None:
    if ctx.case.nationality != INDONESIA:
        return (
            "this path is for Indonesian nationals; a foreign victim returns through their embassy"
        )
    return None


@guard
def foreign_national(ctx: GuardContext) -> str | None:
    if ctx.case.nationality == INDONESIA:
        return "return through an embassy is for foreign nationals; an Indonesian victim goes home"
    return None


@guard
def country_may_be_notified(ctx: GuardContext) -> str | None:
    """ACTIP Art. 14: the victim's country is notified unless the victim objects."""
    if ctx.case.objects_to_country_notification:
        return "the victim objects to notifying their country (ACTIP Art. 14)"
    return None


@guard
def child_best_interest_assessed(ctx: GuardContext) -> str | None:
    """A child goes home only after a best-interest assessment of the family."""
    if ctx.case.is_child and not ctx.payload.get("best_interest_assessed"):
        return "a child's return needs a best-interest assessment of the family first"
    return None


@guard
def consent_covers_recipient(ctx: GuardContext) -> str | None:
    """A hand-over needs the victim's consent to share with the receiving ministry.

    A supervisor may override with a recorded reason (for example, a danger to life).
    """
    recipient = ctx.dest.ministry
    if recipient == ctx.source.ministry or recipient in ctx.case.consent_recipients:
        return None
    if ctx.override_reason and ctx.actor.role == "supervisor":
        return None
    return (
        f"the victim has not agreed to share their case with {recipient}; "
        "record their consent, or a supervisor may override with a reason"
    )


@guard
def no_witness_hold(ctx: GuardContext) -> str | None:
    """A victim summoned as a witness who AGREED to testify is not repatriated until they have
    testified or are released (design choice, within ACTIP Art. 14(7)-(8): a victim who did not
    agree is never held, and legal proceedings hold up no other service)."""
    if is_witness_held(ctx.case.witness_status, ctx.case.agreed_to_testify):
        return (
            "the victim agreed to testify and is summoned as a witness: repatriation waits "
            "until they have testified or are released"
        )
    return None
