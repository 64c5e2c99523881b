"""The identity-access log against the checkpoints that seal it; pure, no database.

Each checkpoint of format /2 seals the `identity_access` rows (who was shown a victim's identity)
with ids after the previous seal's `access_last_id`, up to its own: their count and the Merkle
root of their leaves (signing.access_leaf), as RFC 6962 builds it for events. Fed the rows in id
order and the checkpoints in number order, `check` names each checkpoint whose rows are not
what it sealed: a row deleted ("who looked" erased), changed or slipped in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from service.audit.integrity.merkle import TreeBuilder, leaf_hash
from service.audit.integrity.signing import FORMAT_V2, access_leaf
from service.audit.integrity.verifier import Broken, Record


@dataclass(frozen=True)
class AccessVerdict:
    problems: tuple[Broken, ...]
    rows_checked: int
    unsealed_rows: int


def check(rows: Iterable[Record], checkpoints: Iterable[Record]) -> AccessVerdict:
    problems: list[Broken] = []
    pending = _Pending(iter(rows))
    upto = 0
    for c in checkpoints:
        if c.get("format") != FORMAT_V2:
            continue
        number, last_id = c.get("number"), c.get("access_last_id")
        if type(last_id) is not int or last_id < upto:
            problems.append(_broken(number, f"its access_last_id {last_id!r} is below the "
                                    f"previous seal's {upto}"))  # fmt: skip
            continue
        tree = pending.take_upto(last_id)
        if tree.count != c.get("access_count") or tree.root().hex() != c.get("access_root"):
            problems.append(
                _broken(
                    number,
                    f"the {tree.count} identity-access row(s) found with ids {upto + 1}.."
                    f"{last_id} do not match its seal over {c.get('access_count')}: a record "
                    "of who was shown a victim's identity was deleted, changed or inserted",
                )
            )
        upto = last_id
    unsealed = pending.take_upto(None).count
    return AccessVerdict(tuple(problems), pending.seen, unsealed)


class _Pending:
    """The rows not yet consumed, read one ahead."""

    def __init__(self, rows: Iterator[Record]) -> None:
        self._rows = rows
        self._next = next(rows, None)
        self.seen = 0

    def take_upto(self, last_id: int | None) -> TreeBuilder:
        tree = TreeBuilder()
        while self._next is not None and (last_id is None or _id(self._next) <= last_id):
            tree.add(_leaf(self._next))
            self.seen += 1
            self._next = next(self._rows, None)
        return tree


def _id(row: Record) -> int:
    value = row.get("id")
    return value if type(value) is int else 0


def _leaf(row: Record) -> bytes:
    """A row whose fields are garbage (tampered) still gets a leaf, which then fails."""
    try:
        return access_leaf(row)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
        return leaf_hash(repr(sorted(row.items())).encode())


def _broken(number: object, reason: str) -> Broken:
    return Broken("checkpoint_access", reason, checkpoint=number if type(number) is int else None)
