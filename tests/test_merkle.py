"""The Merkle tree is RFC 6962's: known roots, and proofs that hold only for the truth."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.audit.integrity.merkle import (
    TreeBuilder,
    event_leaf,
    inclusion_path,
    leaf_hash,
    node_hash,
    root_of,
    verify_inclusion,
)

# The leaves and roots of the Certificate Transparency test vectors (RFC 6962 implementations).
CT_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
             "606162636465666768696a6b6c6d6e6f"]  # fmt: skip
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 2.1, word for word (leaves already leaf-hashed)."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_certificate_transparency_vectors(size: int) -> None:
    leaves = [leaf_hash(bytes.fromhex(data)) for data in CT_LEAVES[:size]]
    assert root_of(leaves).hex() == CT_ROOTS[size - 1]


def test_the_empty_tree_is_the_hash_of_nothing() -> None:
    assert TreeBuilder().root() == hashlib.sha256(b"").digest()


def test_leaves_and_nodes_are_domain_separated() -> None:
    """A node's preimage can never be mistaken for a leaf's (second-preimage defence)."""
    left, right = leaf_hash(b"a"), leaf_hash(b"b")
    assert leaf_hash(left + right) != node_hash(left, right)


def test_an_event_leaf_binds_its_seq() -> None:
    digest = "ab" * 32
    assert event_leaf(7, digest) == leaf_hash((7).to_bytes(8, "big") + bytes.fromhex(digest))
    assert event_leaf(7, digest) != event_leaf(8, digest)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=8), min_size=1, max_size=70), st.data())
def test_streamed_root_and_every_proof_agree_with_the_rfc(
    data: list[bytes], draw: st.DataObject
) -> None:
    leaves = [leaf_hash(d) for d in data]
    root = mth(leaves)
    assert root_of(leaves) == root
    index = draw.draw(st.integers(0, len(leaves) - 1))
    path = inclusion_path(leaves, index)
    assert verify_inclusion(leaves[index], index, len(leaves), path, root)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=8), min_size=2, max_size=40, unique=True), st.data())
def test_a_proof_holds_for_nothing_but_its_own_leaf_place_and_tree(
    data: list[bytes], draw: st.DataObject
) -> None:
    leaves = [leaf_hash(d) for d in data]
    root, size = root_of(leaves), len(leaves)
    index = draw.draw(st.integers(0, size - 1))
    other = draw.draw(st.integers(0, size - 1).filter(lambda i: i != index))
    path = inclusion_path(leaves, index)
    assert not verify_inclusion(leaves[other], index, size, path, root)
    assert not verify_inclusion(leaves[index], other, size, path, root)
    # (the tree size alone is not bound by the path, e.g. leaf 0 of 3 and of 4: the signed
    # checkpoint binds it, and check_proof requires it to be the checkpoint's event_count)
    assert not verify_inclusion(leaves[index], index, size, path, leaf_hash(b"other root"))
    assert not verify_inclusion(leaves[index], index, size, [*path, root], root)
    if path:
        position = draw.draw(st.integers(0, len(path) - 1))
        bent = [*path]
        bent[position] = hashlib.sha256(bent[position]).digest()
        assert not verify_inclusion(leaves[index], index, size, bent, root)
        assert not verify_inclusion(leaves[index], index, size, path[:-1], root)


def test_an_index_outside_the_tree_proves_nothing() -> None:
    leaves = [leaf_hash(bytes([i])) for i in range(5)]
    with pytest.raises(IndexError):
        inclusion_path(leaves, 5)
    assert not verify_inclusion(leaves[0], -1, 5, [], root_of(leaves))
    assert not verify_inclusion(leaves[0], 5, 5, [], root_of(leaves))
