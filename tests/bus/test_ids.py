"""UUIDv7 ids: format, order, and no repeats across a fork."""

from __future__ import annotations

import os
import uuid

import pytest

from bus.ids import new_id, uuid7


def test_ids_are_uuid7_strings_in_creation_order() -> None:
    ids = [new_id() for _ in range(10_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    for text in ids[::1000]:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant, str(parsed)) == (7, uuid.RFC_4122, text)
    assert uuid7().version == 7 and str(uuid7()) > ids[-1]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_does_not_repeat_its_parents_random_bits() -> None:
    new_id()  # the parent now holds a block of random bytes
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report one id and leave at once
        os.write(write, new_id().encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 100).decode()
    os.close(read)
    os.waitpid(pid, 0)
    rand_b = (1 << 62) - 1
    assert uuid.UUID(child).int & rand_b != uuid.UUID(new_id()).int & rand_b
