"""RunCache: the runs this process changed last, kept in memory between transactions.

A transaction locks its runs and reads their versions; a run held here at that version is used
as it is, so a step costs neither reading the run nor its steps (which would grow with the
run's length). Any other writer (another replica) bumps the version, and the run is read again.
"""

from __future__ import annotations

from collections import OrderedDict

from services.orchestrator.records import Run, Step
from services.orchestrator.states import TERMINAL_RUN


class RunCache:
    """Up to ``max_runs`` unfinished runs with their steps, least recently used evicted first."""

    def __init__(self, max_runs: int = 10_000) -> None:
        self.max_runs = max_runs
        self._runs: OrderedDict[str, tuple[Run, dict[str, Step]]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._runs)

    def get(self, run_id: str, version: int) -> tuple[Run, dict[str, Step]] | None:
        """The run and its steps if held at ``version``."""
        held = self._runs.get(run_id)
        if held is None or held[0].version != version:
            self.misses += 1
            return None
        self.hits += 1
        self._runs.move_to_end(run_id)
        return held

    def peek(self, run_id: str) -> tuple[Run, dict[str, Step]] | None:
        """The run and its steps as last kept, whatever the version (the caller's write checks
        it: ``persist.save_if_current``)."""
        held = self._runs.get(run_id)
        if held is None:
            self.misses += 1
            return None
        self.hits += 1
        self._runs.move_to_end(run_id)
        return held

    def keep(self, run: Run, steps: dict[str, Step]) -> None:
        """Hold a run as it was committed (a finished run is let go: nothing more happens)."""
        held = self._runs.get(run.id)
        if held is not None and held[0].version > run.version:
            return  # a later transaction already left a newer copy
        if run.status in TERMINAL_RUN:
            self._runs.pop(run.id, None)
            return
        self._runs[run.id] = (run, steps)
        self._runs.move_to_end(run.id)
        while len(self._runs) > self.max_runs:
            self._runs.popitem(last=False)

    def forget(self, run_ids: list[str]) -> None:
        """Drop runs whose records a failed transaction may have changed."""
        for run_id in run_ids:
            self._runs.pop(run_id, None)
