"""RunCache: the runs this process changed last, kept in memory between transactions.

The writer works on the copy held here, so a step costs neither reading the run nor its steps
(which would grow with the run's length). Every write bumps the run's version, and a copy is
only good at the version it was kept at: on PostgreSQL the write itself checks that
(``persist.save_if_current``), on SQLite the read under the write lock
(``persist.read_for_update``); an out-of-date copy is replaced by the run as stored.
"""

from __future__ import annotations

from collections import OrderedDict

from services.orchestrator.records import Run, Step
from services.orchestrator.states import TERMINAL_RUN


class RunCache:
    """Up to ``max_runs`` unfinished runs with their steps, least recently used evicted first."""

    def __init__(self, max_runs: int = 10_000, max_finished: int = 4) -> None:
        self.max_runs = max_runs
        self.max_finished = max_finished
        self._runs: OrderedDict[str, tuple[Run, dict[str, Step]]] = OrderedDict()
        # The last few runs that finished: the answers still out when a big run is cancelled
        # (up to a fan-out's window) arrive late, and would each read the whole run again.
        self._finished: OrderedDict[str, tuple[Run, dict[str, Step]]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._runs)

    def peek(self, run_id: str) -> tuple[Run, dict[str, Step]] | None:
        """The run and its steps as last kept, whatever the version (the caller checks it)."""
        held = self._runs.get(run_id)
        if held is not None:
            self._runs.move_to_end(run_id)
            return held
        return self._finished.get(run_id)

    def keep(self, run: Run, steps: dict[str, Step]) -> None:
        """Hold a run as it was committed (a finished one only among the last few finished)."""
        held = self._runs.get(run.id) or self._finished.get(run.id)
        if held is not None and held[0].version > run.version:
            return  # a later transaction already left a newer copy
        if run.status in TERMINAL_RUN:
            self._runs.pop(run.id, None)
            self._finished[run.id] = (run, steps)
            self._finished.move_to_end(run.id)
            while len(self._finished) > self.max_finished:
                self._finished.popitem(last=False)
            return
        self._runs[run.id] = (run, steps)
        self._runs.move_to_end(run.id)
        while len(self._runs) > self.max_runs:
            self._runs.popitem(last=False)

    def forget(self, run_ids: list[str]) -> None:
        """Drop runs whose records a failed transaction may have changed."""
        for run_id in run_ids:
            self._runs.pop(run_id, None)
            self._finished.pop(run_id, None)
