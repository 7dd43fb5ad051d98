"""Refused gateway frames are logged at a bounded rate: a flood of bad frames (from one agent
or many) is not a flood of log lines. Past the budget of a window, the refusals are counted
and the count is logged once the next window opens."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


class LogBudget:
    """At most ``per_window`` lines per ``window_s`` seconds, for the whole process.

    Args:
        logger: Where the lines go (at WARNING).
        per_window: Lines logged in one window; the rest are counted.
        window_s: The window's length.
        clock: Monotonic seconds.
    """

    def __init__(
        self,
        logger: logging.Logger,
        per_window: int = 10,
        window_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = logger
        self._per_window = per_window
        self._window_s = window_s
        self._clock = clock
        self._started = clock()
        self._logged = 0
        self._skipped = 0

    def warning(self, message: str, *args: object) -> None:
        """Log ``message % args`` if the window's budget allows, else count it."""
        now = self._clock()
        if now - self._started >= self._window_s:
            if self._skipped:
                self._log.warning("%d more refused gateway frame(s) were not logged", self._skipped)
            self._started, self._logged, self._skipped = now, 0, 0
        if self._logged < self._per_window:
            self._logged += 1
            self._log.warning(message, *args)
        else:
            self._skipped += 1
