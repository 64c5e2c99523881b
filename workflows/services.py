"""The small machine every service request runs, beside the case's main pathway.

requested → started → completed, or declined (by the provider, before it starts), or withdrawn
(the victim no longer wants it, or it is no longer needed; before it ends). The same machine for
every kind of service: what differs between kinds (owner, start deadline, lawful bases) is data
in the definition's `services:` block. Built once, with `transitions`, on no model; it answers
where an action leads from a status and refuses what does not leave it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast, get_args

from transitions import Machine

from workflows.errors import InvalidTransition

ServiceStatus = Literal["requested", "started", "completed", "declined", "withdrawn"]
ServiceAction = Literal["start", "complete", "decline", "withdraw"]
SERVICE_STATUSES: tuple[ServiceStatus, ...] = get_args(ServiceStatus)
SERVICE_ACTIONS: tuple[ServiceAction, ...] = get_args(ServiceAction)
OPEN_STATUSES: tuple[ServiceStatus, ...] = ("requested", "started")
# Who may take each action: the provider (the owning ministry) or the case's side (the lead
# ministry of the case's step, which speaks for the victim's choice).
PROVIDER_ACTIONS: frozenset[ServiceAction] = frozenset({"start", "complete", "decline"})

_ROWS: tuple[tuple[ServiceAction, tuple[ServiceStatus, ...], ServiceStatus], ...] = (
    ("start", ("requested",), "started"),
    ("complete", ("started",), "completed"),
    ("decline", ("requested",), "declined"),
    ("withdraw", ("requested", "started"), "withdrawn"),
)


@dataclass
class _View:
    state: str


_MACHINE = Machine(
    model=None,
    states=list(SERVICE_STATUSES),
    transitions=[
        {"trigger": action, "source": list(sources), "dest": dest}
        for action, sources, dest in _ROWS
    ],
    initial="requested",
    auto_transitions=False,
)


def next_status(status: str, action: str) -> ServiceStatus:
    """Where `action` takes a request in `status`; InvalidTransition if it does not leave it."""
    event = _MACHINE.events.get(action)
    if event is None or status not in event.transitions:
        raise InvalidTransition(trigger=action, state=status)
    view = _View(state=status)
    event.trigger(view)
    return cast(ServiceStatus, view.state)


def is_final(status: str) -> bool:
    return status not in OPEN_STATUSES


def machine_rows() -> list[tuple[str, str, str]]:
    """(action, source, dest) of the machine: what the diagram draws."""
    return [(action, source, dest) for action, sources, dest in _ROWS for source in sources]
