"""The Merkle tree against RFC 6962's recursive definition, and its proofs, for every size up to
33 and every leaf; a proof fails for another leaf, index, size or root."""

from __future__ import annotations

import hashlib

import pytest

from services.ledger.merkle import (
    Frontier,
    inclusion_proof,
    inclusion_proofs,
    leaf_hash,
    root,
    verify_inclusion,
)


def reference_root(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) exactly as RFC 6962 2.1 writes it (recursive split at a power of two)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(
        b"\x01" + reference_root(leaves[:k]) + reference_root(leaves[k:])
    ).digest()


LEAVES = [leaf_hash(f"run-{i}", i + 1, f"{i:064x}") for i in range(33)]


def test_root_is_rfc_6962s_for_every_size() -> None:
    for n in range(len(LEAVES) + 1):
        assert root(LEAVES[:n]) == reference_root(LEAVES[:n]), n
    assert root([]) == hashlib.sha256(b"").digest()
    # The prefixes: a leaf is not hashed like a node.
    assert leaf_hash("r", 1, "h") != hashlib.sha256(b'["r",1,"h"]').digest()


def test_a_leaf_is_the_documented_bytes() -> None:
    """An outsider recomputes leaves from the docstring: 0x00, then the canonical JSON of
    ``[run_id, seq, head]``."""
    assert leaf_hash("r", 1, "h") == hashlib.sha256(b'\x00["r",1,"h"]').digest()
    assert len(set(LEAVES)) == len(LEAVES)


@pytest.mark.parametrize("index", [-1, 3])
def test_a_proof_of_a_leaf_outside_the_tree_is_refused(index: int) -> None:
    with pytest.raises(IndexError, match=f"^leaf {index} is not in a tree of 3$"):
        inclusion_proof(LEAVES[:3], index)
    with pytest.raises(IndexError, match=f"^leaf {index} is not in a tree of 3$"):
        inclusion_proofs(LEAVES[:3], [0, index])


def test_every_leaf_has_a_proof_and_only_its_own() -> None:
    for n in range(1, len(LEAVES) + 1):
        tree = LEAVES[:n]
        top = root(tree)
        for i in range(n):
            proof = inclusion_proof(tree, i)
            assert verify_inclusion(tree[i], i, n, proof, top), (n, i)
            other = (i + 1) % n
            if other != i:
                assert not verify_inclusion(tree[other], i, n, proof, top)
                assert not verify_inclusion(tree[i], other, n, proof, top)
            assert not verify_inclusion(tree[i], i, n, proof, LEAVES[-1])
            if proof:
                assert not verify_inclusion(tree[i], i, n, proof[:-1], top)
                assert not verify_inclusion(tree[i], i, n, [*proof, proof[0]], top)
    assert not verify_inclusion(LEAVES[0], 1, 1, [], LEAVES[0])


def test_the_frontier_grows_to_the_same_root() -> None:
    frontier = Frontier()
    assert frontier.root() == root([])
    for n, leaf in enumerate(LEAVES, start=1):
        frontier.append(leaf)
        assert (frontier.size, frontier.root()) == (n, reference_root(LEAVES[:n]))


def test_proofs_in_one_pass_are_the_proofs() -> None:
    # An archive proves many leaves of one tree at once (services.archive.writer).
    for n in range(1, len(LEAVES) + 1):
        proofs = inclusion_proofs(LEAVES[:n], list(range(n)))
        assert proofs == {i: inclusion_proof(LEAVES[:n], i) for i in range(n)}, n


def test_a_frontiers_copy_grows_on_its_own() -> None:
    frontier = Frontier()
    for leaf in LEAVES[:5]:
        frontier.append(leaf)
    twin = frontier.copy()
    assert (twin.size, twin.root()) == (5, frontier.root())
    twin.append(LEAVES[5])
    assert (twin.size, twin.root()) == (6, reference_root(LEAVES[:6]))
    assert (frontier.size, frontier.root()) == (5, reference_root(LEAVES[:5]))
