"""A Merkle tree over the heads of the runs' chains, hashed as in RFC 6962 / RFC 9162.

A leaf's hash is ``SHA-256(0x00 || leaf)``, an inner node's ``SHA-256(0x01 || left || right)``
(the prefixes keep a leaf from passing for a node); the tree over ``n`` leaves splits at the
largest power of two below ``n``; the empty tree's root is ``SHA-256("")``. Leaves are only
ever appended, so a checkpoint of size ``n`` covers every head recorded before it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from services.ledger.format import canonical


def leaf_hash(run_id: str, seq: int, head: str) -> bytes:
    """The hash of the leaf that says "run ``run_id``'s chain had ``seq`` entries, ending in
    ``head``"."""
    return hashlib.sha256(b"\x00" + canonical([run_id, seq, head])).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root(leaves: Sequence[bytes]) -> bytes:
    """The root over ``leaves`` (leaf hashes), level by level.

    Pairing neighbours and carrying an odd last node up unchanged builds the same tree as
    RFC 6962's split at the largest power of two.
    """
    if not leaves:
        return hashlib.sha256(b"").digest()
    level = list(leaves)
    while len(level) > 1:
        paired = [_node(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def _split(n: int) -> int:
    """The largest power of two below ``n`` (``n`` > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree over ``leaves`` (RFC 6962, 2.1.1)."""
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf {index} is not in a tree of {len(leaves)}")
    path: list[bytes] = []
    low, high = 0, len(leaves)
    while high - low > 1:
        k = _split(high - low)
        if index < low + k:
            path.append(root(leaves[low + k : high]))
            high = low + k
        else:
            path.append(root(leaves[low : low + k]))
            low += k
    path.reverse()  # from the leaf up
    return path


def inclusion_proofs(leaves: Sequence[bytes], indices: Sequence[int]) -> dict[int, list[bytes]]:
    """``inclusion_proof`` of each of ``indices``, from one pass over the tree (an archive proves
    thousands of leaves of one tree). Each level pairs neighbours and carries an odd last node
    up, so a node at ``j`` is at ``j // 2`` one level up and its sibling, if any, is ``j ^ 1``."""
    for index in indices:
        if not 0 <= index < len(leaves):
            raise IndexError(f"leaf {index} is not in a tree of {len(leaves)}")
    proofs: dict[int, list[bytes]] = {index: [] for index in indices}
    positions = {index: index for index in indices}
    level = list(leaves)
    while len(level) > 1:
        for index, at in positions.items():
            if at ^ 1 < len(level):
                proofs[index].append(level[at ^ 1])
            positions[index] = at // 2
        paired = [_node(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return proofs


def verify_inclusion(
    leaf: bytes, index: int, tree_size: int, proof: Sequence[bytes], expected_root: bytes
) -> bool:
    """True when ``proof`` shows ``leaf`` at ``index`` in the tree of ``tree_size`` whose root
    is ``expected_root`` (the verification of RFC 9162, 2.1.3.2)."""
    if not 0 <= index < tree_size:
        return False
    fn, sn, node = index, tree_size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            node = _node(sibling, node)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            node = _node(node, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and node == expected_root


class Frontier:
    """The root of a growing tree without keeping its leaves: the roots of its perfect
    subtrees, largest first (one per bit of the size), as in a binary counter."""

    def __init__(self) -> None:
        self.size = 0
        self._subtrees: list[tuple[int, bytes]] = []  # (leaf count, root)

    def copy(self) -> Frontier:
        """An independent copy (to grow without touching this one)."""
        twin = Frontier()
        twin.size, twin._subtrees = self.size, list(self._subtrees)
        return twin

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash."""
        count, node = 1, leaf
        while self._subtrees and self._subtrees[-1][0] == count:
            left_count, left = self._subtrees.pop()
            count, node = left_count + count, _node(left, node)
        self._subtrees.append((count, node))
        self.size += 1

    def root(self) -> bytes:
        """The root over every leaf appended: the subtrees folded from the smallest up."""
        if not self._subtrees:
            return hashlib.sha256(b"").digest()
        node = self._subtrees[-1][1]
        for _, left in reversed(self._subtrees[:-1]):
            node = _node(left, node)
        return node
