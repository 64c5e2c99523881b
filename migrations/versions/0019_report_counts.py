"""report counts: each move of a case once per ministry whose scope holds it (`ministry_move`)

A ministry's monthly report counted the creations and milestone transitions of the cases in its
scope with a semi-join of the event index with `case_ministry`: a million cases in one scope
took 3.8 s (load 16) where the national count takes 1.2 s. `ministry_move` holds, for every
creation and every transition to another state, one row per ministry of `case_ministry` for
its case, indexed (ministry, kind, at, trigger, from_state, to_state): a ministry's range is
then one index-only range scan, like the national one on `ix_case_event_moves`.

The rows are derived, never written by the application: triggers add them in the same
statement's transaction when an event or a `case_ministry` row is inserted (whichever comes
second makes the pair, so a ministry that joins a case later gets its whole history, as the
scope always did), and remove them with a `case_ministry` row. PostgreSQL: statement triggers
over the inserted rows (a COPY of a million events is one set-based insert); SQLite: row
triggers. Upgrade fills the table from the events; `reports.repository.
rebuild_ministry_moves` recomputes it the same way at any time.

Revision ID: 0019_report_counts
Revises: 0017_outbox
Create Date: 2026-11-30 03:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit sequence
BigIntegerPK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = "0019_report_counts"
down_revision: str | Sequence[str] | None = "0017_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = "ministry, event_seq, kind, at, trigger, from_state, to_state"
MOVE = "e.kind = 'created' OR (e.kind = 'transition' AND e.from_state <> e.to_state)"
BACKFILL = f"""
INSERT INTO ministry_move ({COLUMNS})
SELECT m.ministry, e.seq, e.kind, e.at, e.trigger, e.from_state, e.to_state
FROM case_event e JOIN case_ministry m ON m.case_id = e.case_id
WHERE {MOVE}
"""

POSTGRESQL = [
    f"""CREATE FUNCTION ministry_move_of_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ministry_move ({COLUMNS})
    SELECT m.ministry, e.seq, e.kind, e.at, e.trigger, e.from_state, e.to_state
    FROM added e JOIN case_ministry m ON m.case_id = e.case_id
    WHERE {MOVE};
    RETURN NULL;
END
$$""",
    "CREATE TRIGGER case_event_ministry_move AFTER INSERT ON case_event "
    "REFERENCING NEW TABLE AS added FOR EACH STATEMENT "
    "EXECUTE FUNCTION ministry_move_of_events()",
    f"""CREATE FUNCTION ministry_move_of_scope() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ministry_move ({COLUMNS})
    SELECT m.ministry, e.seq, e.kind, e.at, e.trigger, e.from_state, e.to_state
    FROM added m JOIN case_event e ON e.case_id = m.case_id
    WHERE {MOVE};
    RETURN NULL;
END
$$""",
    "CREATE TRIGGER case_ministry_ministry_move AFTER INSERT ON case_ministry "
    "REFERENCING NEW TABLE AS added FOR EACH STATEMENT "
    "EXECUTE FUNCTION ministry_move_of_scope()",
    """CREATE FUNCTION ministry_move_out_of_scope() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM ministry_move USING removed m, case_event e
    WHERE ministry_move.ministry = m.ministry AND ministry_move.event_seq = e.seq
      AND e.case_id = m.case_id;
    RETURN NULL;
END
$$""",
    "CREATE TRIGGER case_ministry_ministry_move_out AFTER DELETE ON case_ministry "
    "REFERENCING OLD TABLE AS removed FOR EACH STATEMENT "
    "EXECUTE FUNCTION ministry_move_out_of_scope()",
]
SQLITE = [
    f"""CREATE TRIGGER case_event_ministry_move AFTER INSERT ON case_event
WHEN NEW.kind = 'created' OR (NEW.kind = 'transition' AND NEW.from_state <> NEW.to_state)
BEGIN
    INSERT INTO ministry_move ({COLUMNS})
    SELECT m.ministry, NEW.seq, NEW.kind, NEW.at, NEW.trigger, NEW.from_state, NEW.to_state
    FROM case_ministry m WHERE m.case_id = NEW.case_id;
END""",
    f"""CREATE TRIGGER case_ministry_ministry_move AFTER INSERT ON case_ministry
BEGIN
    INSERT INTO ministry_move ({COLUMNS})
    SELECT NEW.ministry, e.seq, e.kind, e.at, e.trigger, e.from_state, e.to_state
    FROM case_event e WHERE e.case_id = NEW.case_id AND ({MOVE});
END""",
    """CREATE TRIGGER case_ministry_ministry_move_out AFTER DELETE ON case_ministry
BEGIN
    DELETE FROM ministry_move WHERE ministry = OLD.ministry
      AND event_seq IN (SELECT seq FROM case_event WHERE case_id = OLD.case_id);
END""",
]
TRIGGERS = [
    ("case_event_ministry_move", "case_event", "ministry_move_of_events"),
    ("case_ministry_ministry_move", "case_ministry", "ministry_move_of_scope"),
    ("case_ministry_ministry_move_out", "case_ministry", "ministry_move_out_of_scope"),
]


def upgrade() -> None:
    op.create_table(
        "ministry_move",
        sa.Column("ministry", sa.String(length=20), nullable=False),
        sa.Column("event_seq", BigIntegerPK, autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("trigger", sa.String(length=64), nullable=True),
        sa.Column("from_state", sa.String(length=64), nullable=True),
        sa.Column("to_state", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ministry", "event_seq", name=op.f("pk_ministry_move")),
    )
    # the triggers first: on PostgreSQL they lock both tables against writes until this
    # transaction commits, so no event slips between the backfill and the triggers
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL if postgresql else SQLITE:
        op.execute(statement)
    op.execute(BACKFILL)
    op.create_index(
        "ix_ministry_move_range",
        "ministry_move",
        ["ministry", "kind", "at", "trigger", "from_state", "to_state"],
    )
    if postgresql:  # statistics now; the visibility map waits for (auto)vacuum (docs/operations)
        op.execute("ANALYZE ministry_move")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for trigger, table, function in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}" + (f" ON {table}" if postgresql else ""))
        if postgresql:
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.drop_index("ix_ministry_move_range", table_name="ministry_move")
    op.drop_table("ministry_move")
