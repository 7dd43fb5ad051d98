"""Runs whose due work keeps failing, set aside so that they cannot starve every other run's timers.

The sweep handles the earliest due runs, a bounded number of them (``runs.DUE_LIMIT``). A run
whose due change cannot be written (a bug, a value the database refuses) stays due at the head
of that list: enough of them, and no other run's sleep, retry backoff or timeout is handled
again. So each such failure sets the run aside, for 1 s, then 2 s, 4 s...: the sweep leaves it
out of its question meanwhile (``skipped``). After ``max_failures`` in a row the sweep fails the
run (``due_failed``); a run that cannot even be failed is tried again every ``max_backoff_s``.

A failure of the database or the bus (``services.outage.dependency_of``) is not the run's: it is
not counted here, and the run resumes as soon as the dependency is back.

Kept in memory: each replica sweeps the runs it owns, and a restart gives a run its tries again.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

MAX_FAILURES = 5
"""Failed tries in a row of a run's due work before the run is failed."""
FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 600.0
MAX_RUNS = 10_000
"""Runs held aside at most (the oldest comes back to the sweep first): their ids are left out
of the sweep's question, one parameter each."""


@dataclass
class _Entry:
    failures: int
    until: float


class SetAside:
    """The runs set aside, with their failures in a row and until when (a monotonic clock)."""

    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        first_backoff_s: float = FIRST_BACKOFF_S,
        max_backoff_s: float = MAX_BACKOFF_S,
        max_runs: int = MAX_RUNS,
    ) -> None:
        self.max_failures = max_failures
        self.first_backoff_s = first_backoff_s
        self.max_backoff_s = max_backoff_s
        self.max_runs = max_runs
        self._runs: OrderedDict[str, _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._runs)

    def skipped(self, now: float) -> list[str]:
        """The runs the sweep leaves out at ``now``."""
        return [run_id for run_id, entry in self._runs.items() if entry.until > now]

    def failed(self, run_id: str, now: float) -> int:
        """Count a failed try of ``run_id``'s due work at ``now``; returns its failures in a row."""
        entry = self._runs.pop(run_id, None) or _Entry(0, now)
        entry.failures += 1
        backoff = self.first_backoff_s * 2 ** min(entry.failures - 1, 30)
        entry.until = now + min(backoff, self.max_backoff_s)
        self._runs[run_id] = entry
        while len(self._runs) > self.max_runs:
            self._runs.popitem(last=False)
        return entry.failures

    def cleared(self, run_id: str) -> None:
        """``run_id``'s due work went through (or the run was failed): nothing held against it."""
        self._runs.pop(run_id, None)
