"""Disclosure control for what is published: k-anonymous records and tables with small cells
suppressed. Pure functions over plain values: no database, no web.

Records (`k_anonymise`): every combination of the released quasi-identifier values is shared
by at least k records, as the CTDC publishes (k = 11). A record in a smaller class first has
its quasi-identifiers generalised one rung at a time, in `ladders`' order (the rarest detail
first: province, country of exploitation, exploitation type, then nationality and age are
coarsened, sex and year last); a record still in a class smaller than k is left out. Classes
that already reach k are never touched, so nothing is coarsened that did not need to be; and
an attacker who knows a victim's every quasi-identifier finds the victim's class among the
records that match what they know: at least k records, never one.

Tables (`suppress_table`): a cell with 1 to k-1 victims is suppressed (primary), and so is a
margin (a row's, a column's, the grand total) below k. Then every line (a row with its total,
a column with its total, the margins with the grand total) is an equation; while one of them
has exactly one unknown, the smallest other non-zero cell of that line is suppressed too
(complementary), or its total if no cell is left; so no line gives a suppressed cell away by
subtraction. A zero is published: an empty cell says nothing about a person.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

K = 11
SUPPRESSED = None

Record = dict[str, str]
Generaliser = Callable[[str], str]


@dataclass(frozen=True)
class Rung:
    """One step up one quasi-identifier's ladder: its column, and what a value becomes."""

    column: str
    coarser: Generaliser


def k_anonymise(
    records: Sequence[Record], quasi: Sequence[str], ladders: Sequence[Rung], k: int = K
) -> tuple[list[Record], int]:
    """The records with quasi-identifiers generalised until every class has k members, and how
    many records had to be left out. The order of the records is kept."""
    current = [dict(record) for record in records]
    for rung in ladders:
        small = _small_classes(current, quasi, k)
        if not small:
            break
        for record in current:
            if _class_of(record, quasi) in small:
                record[rung.column] = rung.coarser(record[rung.column])
    small = _small_classes(current, quasi, k)
    kept = [record for record in current if _class_of(record, quasi) not in small]
    return kept, len(current) - len(kept)


def _class_of(record: Record, quasi: Sequence[str]) -> tuple[str, ...]:
    return tuple(record[column] for column in quasi)


def _small_classes(records: list[Record], quasi: Sequence[str], k: int) -> set[tuple[str, ...]]:
    sizes = Counter(_class_of(record, quasi) for record in records)
    return {key for key, size in sizes.items() if size < k}


Key = tuple[str, ...]


@dataclass
class Table:
    """Cells keyed by one or two values; margins keyed by a row value, `("*", column)` for a
    column, and `()` for the grand total. None: suppressed."""

    cells: dict[Key, int | None]
    margins: dict[Key, int | None]


def suppress_table(counts: dict[Key, int], k: int = K) -> Table:
    """`counts` keyed by tuples of one or two values, zeros included where a line has them."""
    cells: dict[Key, int] = dict(counts)
    margins = _margins(cells)
    hidden = {key for key, n in cells.items() if 0 < n < k}
    hidden_margins = {key for key, n in margins.items() if 0 < n < k}

    def value(key: Key) -> int:
        return cells[key] if key in cells else margins[key]

    changed = True
    while changed:
        changed = False
        for total, members in _lines(cells):
            known = [m for m in members if m not in hidden and m not in hidden_margins]
            if len(members) - len(known) + (total in hidden_margins) != 1:
                continue
            candidates = sorted((value(m), m) for m in known if value(m))
            if candidates:
                chosen = candidates[0][1]
                (hidden if chosen in cells else hidden_margins).add(chosen)
                changed = True
            elif total not in hidden_margins:
                hidden_margins.add(total)
                changed = True
    return Table(
        cells={key: (SUPPRESSED if key in hidden else n) for key, n in cells.items()},
        margins={key: (SUPPRESSED if key in hidden_margins else n) for key, n in margins.items()},
    )


def _margins(cells: dict[Key, int]) -> dict[Key, int]:
    margins: Counter[Key] = Counter()
    for key, n in cells.items():
        margins[()] += n
        if len(key) == 2:
            margins[(key[0],)] += n
            margins[("*", key[1])] += n
    return dict(margins)


def _lines(cells: dict[Key, int]) -> list[tuple[Key, list[Key]]]:
    """Each equation `total = sum(members)`: members are cells or (for the margins' own lines)
    row and column totals."""
    if all(len(key) == 1 for key in cells):
        return [((), sorted(cells))]
    rows = sorted({key[0] for key in cells})
    columns = sorted({key[1] for key in cells})
    lines: list[tuple[Key, list[Key]]] = []
    for row in rows:
        lines.append(((row,), [key for key in cells if key[0] == row]))
    for column in columns:
        lines.append((("*", column), [key for key in cells if key[1] == column]))
    lines.append(((), [(row,) for row in rows]))
    lines.append(((), [("*", column) for column in columns]))
    return lines
