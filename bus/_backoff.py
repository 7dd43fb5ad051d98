"""Capped exponential backoff with jitter, for loops that outlive a broken connection."""

from __future__ import annotations

import asyncio
import logging
import random


class Backoff:
    """Sleeps longer after each consecutive failure, up to a cap; success resets it.

    The first failure of an outage is logged as a warning and the rest at debug level, so a
    long outage does not flood the log; the recovery is logged once.

    Args:
        base_s: Delay after the first failure.
        cap_s: Longest delay.
        what: What is failing, for the log ("consumer modx.results/orchestrator").
        logger: Where to log.
    """

    def __init__(self, base_s: float, cap_s: float, what: str, logger: logging.Logger) -> None:
        self._base = base_s
        self._cap = cap_s
        self._what = what
        self._log = logger
        self.failures = 0

    def reset(self) -> None:
        """Record a success."""
        if self.failures:
            self._log.info("%s: recovered after %d failed attempts", self._what, self.failures)
            self.failures = 0

    async def wait(self, error: BaseException) -> None:
        """Record a failure and sleep before the next attempt."""
        self.failures += 1
        level = logging.WARNING if self.failures == 1 else logging.DEBUG
        self._log.log(level, "%s: %s (attempt %d); retrying", self._what, error, self.failures)
        delay = min(self._cap, self._base * 2 ** min(self.failures - 1, 30))
        # Equal jitter: never retry at once, and spread the consumers that failed together.
        await asyncio.sleep(delay / 2 + random.uniform(0, delay / 2))
