"""Per-key counts of a resource this process hands out (open streams, gateway subscriptions),
each key (a tenant, a token) bounded so that one of them cannot take what all of them share.

The counts live in this process: each API replica bounds what it holds itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class QuotaExceeded(RuntimeError):
    """A key holds its limit already; the message names the limit's setting."""

    def __init__(self, key: str, limit: int, setting: str) -> None:
        super().__init__(f"{key} holds {limit} already ({setting})")
        self.key = key
        self.limit = limit
        self.setting = setting


class Quota:
    """How many units each key holds, at most ``limit()`` each.

    Args:
        setting: The environment variable that sets the limit (for error messages).
        limit: Read at each ``take``, so a changed setting applies at once.
    """

    def __init__(self, setting: str, limit: Callable[[], int]) -> None:
        self.setting = setting
        self._limit = limit
        self._held: Counter[str] = Counter()

    def held(self, key: str) -> int:
        """Units ``key`` holds now."""
        return self._held[key]

    def take(self, key: str) -> None:
        """Count one more unit for ``key``; raises ``QuotaExceeded`` at its limit."""
        limit = self._limit()
        if self._held[key] >= limit:
            raise QuotaExceeded(key, limit, self.setting)
        self._held[key] += 1

    def give(self, key: str, count: int = 1) -> None:
        """Count ``count`` units of ``key`` back."""
        self._held[key] -= count
        if self._held[key] <= 0:
            del self._held[key]

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        """One unit for ``key`` while the block runs."""
        self.take(key)
        try:
            yield
        finally:
            self.give(key)
