"""UUIDv7 identifiers: time-ordered, so ids sort by creation and index well."""

from __future__ import annotations

import os
import threading
import time
import uuid
from datetime import UTC, datetime

_lock = threading.Lock()
_last_ms = 0
_seq = 0
# Random bits come from os.urandom in blocks: one system call per ~400 ids instead of two per
# id (every envelope gets an id). A forked child starts a fresh block, never its parent's.
_BLOCK = 4096
_random = b""
_offset = 0


def _reset_random() -> None:
    global _random, _offset
    _random, _offset = b"", 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_random)


def _random_bits(nbytes: int) -> int:
    """``nbytes`` bytes from the CSPRNG as an int (call with ``_lock`` held)."""
    global _random, _offset
    if _offset + nbytes > len(_random):
        _random, _offset = os.urandom(_BLOCK), 0
    start, _offset = _offset, _offset + nbytes
    return int.from_bytes(_random[start:_offset], "big")


def _uuid7_int() -> int:
    global _last_ms, _seq
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms > _last_ms:
            _last_ms = ms
            _seq = _random_bits(2) & 0x7FF
        else:
            _seq += 1
            if _seq > 0xFFF:  # counter overflow: borrow the next millisecond
                _last_ms += 1
                _seq = 0
            ms = _last_ms
        rand_b = _random_bits(8) & ((1 << 62) - 1)
    return (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | _seq << 64 | 0b10 << 62 | rand_b


def uuid7() -> uuid.UUID:
    """Return a UUIDv7 (RFC 9562), monotonic within this process.

    The 12-bit ``rand_a`` field holds a counter seeded at random each millisecond, so ids made
    in the same millisecond still sort in creation order.
    """
    return uuid.UUID(int=_uuid7_int())


def new_id() -> str:
    """A new UUIDv7 as a string (formatted directly: no ``uuid.UUID`` object on the way)."""
    h = f"{_uuid7_int():032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def id_time(value: str) -> datetime:
    """When a UUIDv7 was made (its 48-bit millisecond timestamp), in UTC."""
    ms = int(value.replace("-", "")[:12], 16)
    return datetime.fromtimestamp(ms / 1000, UTC)
