"""A Merkle tree over events, as RFC 6962 (Certificate Transparency) defines it; pure, no I/O.

Hashing is domain-separated so that a leaf can never pass for an inner node:

    leaf_hash(data)   = SHA-256(0x00 || data)
    node_hash(l, r)   = SHA-256(0x01 || l || r)
    event leaf data   = seq as 8 bytes big-endian || the event's SHA-256 hash (32 raw bytes)

The root of n leaves is RFC 6962's MTH: for n > 1, split at k, the largest power of two below
n, and hash MTH(first k) with MTH(the rest). Putting `seq` in the leaf binds each event to its
place in the global order, which the event hash alone (per stream) does not.
Inclusion proofs are RFC 6962 audit paths, checked with RFC 9162 section 2.1.3.2.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

_LEAF = b"\x00"
_NODE = b"\x01"
_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    return _sha256(_LEAF + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(_NODE + left + right).digest()


def event_leaf(seq: int, event_hash: str) -> bytes:
    """The leaf of one event; `event_hash` is its 64-character lowercase hex hash."""
    return _sha256(_LEAF + seq.to_bytes(8, "big") + bytes.fromhex(event_hash)).digest()


def leaf_of(seq: int, stored_hash: str) -> bytes:
    """The Merkle leaf of an event; a stored hash that is not hex (tampered, and so reported
    as a hash mismatch) still gets a defined leaf, so sealing and checking never crash."""
    try:
        return event_leaf(seq, stored_hash)
    except ValueError:
        return leaf_hash(seq.to_bytes(8, "big") + str(stored_hash).encode())


class TreeBuilder:
    """Builds MTH one leaf at a time, keeping only the O(log n) perfect subtrees on the right."""

    __slots__ = ("_stack", "count")

    def __init__(self) -> None:
        self.count = 0
        self._stack: list[tuple[int, bytes]] = []

    def add(self, leaf: bytes) -> None:
        self.add_subtree(1, leaf)

    def add_subtree(self, size: int, digest: bytes) -> None:
        """The root of a perfect subtree of `size` leaves (a power of two) at once, the same as
        adding its leaves one by one; only where the count so far is a multiple of `size`."""
        if self.count % size or size & (size - 1):
            raise ValueError(f"a subtree of {size} cannot follow {self.count} leaves")
        added, stack = size, self._stack
        while stack and stack[-1][0] == size:
            digest = node_hash(stack.pop()[1], digest)
            size *= 2
        stack.append((size, digest))
        self.count += added

    def root(self) -> bytes:
        """MTH of the leaves so far; the empty tree's root is SHA-256 of nothing."""
        if not self._stack:
            return _sha256(b"").digest()
        digest = self._stack[-1][1]
        for _size, left in reversed(self._stack[:-1]):
            digest = node_hash(left, digest)
        return digest


def perfect_root(leaves: Sequence[bytes]) -> bytes:
    """MTH of a power-of-two number of leaves, a level at a time (fewer Python steps than
    `TreeBuilder.add` for each)."""
    if not leaves or len(leaves) & (len(leaves) - 1):
        raise ValueError(f"{len(leaves)} leaves are not a perfect tree")
    level = list(leaves)
    while len(level) > 1:
        pairs = iter(level)
        level = [
            _sha256(_NODE + left + right).digest()
            for left, right in zip(pairs, pairs, strict=False)
        ]
    return level[0]


def root_of(leaves: Sequence[bytes]) -> bytes:
    builder = TreeBuilder()
    for leaf in leaves:
        builder.add(leaf)
    return builder.root()


def inclusion_path(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """RFC 6962 PATH(index, leaves): the sibling hashes from the leaf up to the root."""
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf {index} is not in a tree of {len(leaves)}")
    path: list[bytes] = []
    low, high = 0, len(leaves)
    while high - low > 1:
        split = _largest_power_of_two_below(high - low)
        if index < low + split:
            path.append(root_of(leaves[low + split : high]))
            high = low + split
        else:
            path.append(root_of(leaves[low : low + split]))
            low += split
    path.reverse()
    return path


def verify_inclusion(
    leaf: bytes, index: int, tree_size: int, path: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 2.1.3.2: does `path` prove that `leaf` is leaf `index` of the tree with `root`?"""
    if not 0 <= index < tree_size:
        return False
    fn, sn, digest = index, tree_size - 1, leaf
    for sibling in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            digest = node_hash(sibling, digest)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            digest = node_hash(digest, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and digest == root


def _largest_power_of_two_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)
