"""Named streams (admin actions, exports) chain like case streams."""

from __future__ import annotations

from sqlmodel import Session, col, select

from service.audit.integrity.chain import GENESIS, event_hash
from service.audit.log import append_stream_event
from service.kit.principal import SYSTEM
from service.models import CaseEvent, utcnow


def test_a_named_stream_chains_its_events_in_order(session: Session) -> None:
    for n in range(3):
        append_stream_event(
            session, "users", actor=SYSTEM, at=utcnow(), kind="test", payload={"n": n}
        )
    session.flush()
    events = session.exec(
        select(CaseEvent).where(col(CaseEvent.stream) == "users").order_by(col(CaseEvent.seq))
    ).all()
    assert [e.stream_seq for e in events] == [1, 2, 3]
    assert events[0].prev_hash == GENESIS
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    for event in events:
        assert event.hash == event_hash(event.model_dump())
