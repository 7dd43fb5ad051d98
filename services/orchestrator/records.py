"""Runs and steps as the engine holds them: plain objects that remember which columns changed.

The engine mutates these between loading and saving a run; ``services.orchestrator.persist``
reads and writes them with SQLAlchemy Core, one statement per kind of change for a whole batch
of runs. They are cheap to keep between transactions (``RunCache``), which is why they are not
ORM instances: those carry an identity map and a unit of work the hot path does not need.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar


class Record:
    """Column values as attributes; assigning one records its name in ``changed``."""

    __slots__ = ("changed",)
    COLUMNS: ClassVar[tuple[str, ...]] = ()
    changed: set[str]

    def __init__(self, **values: Any) -> None:
        for name in self.COLUMNS:
            object.__setattr__(self, name, values.pop(name, None))
        if values:
            raise TypeError(f"{type(self).__name__} has no column(s) {sorted(values)}")
        object.__setattr__(self, "changed", set())

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        self.changed.add(name)

    def values(self, names: tuple[str, ...] | frozenset[str] | None = None) -> dict[str, Any]:
        """Column values by name (all columns, or ``names``)."""
        return {name: getattr(self, name) for name in (names or self.COLUMNS)}

    @classmethod
    def from_row(cls, row: Any) -> Any:
        """A clean record (nothing changed) from anything with the columns as attributes."""
        record = cls(**{name: getattr(row, name) for name in cls.COLUMNS})
        return record


class Run(Record):
    """The columns of a run the engine reads or writes (see ``services.db.models.RunRow``)."""

    COLUMNS = (
        "id",
        "tenant",
        "workflow_name",
        "definition",
        "input",
        "output",
        "error",
        "status",
        "cancel_requested",
        "created_at",
        "started_at",
        "finished_at",
        "deadline_at",
        "updated_at",
        "ledger_seq",
        "ledger_head",
        "version",
        "parent_run_id",
        "parent_step_id",
    )
    __slots__ = COLUMNS
    id: str
    tenant: str
    workflow_name: str
    definition: dict[str, Any]
    input: Any
    output: Any
    error: dict[str, Any] | None
    status: str
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    deadline_at: datetime | None
    updated_at: datetime
    ledger_seq: int
    ledger_head: str
    version: int
    parent_run_id: str | None
    parent_step_id: str | None


class Step(Record):
    """One step row (see ``services.db.models.StepRow``)."""

    COLUMNS = (
        "run_id",
        "step_id",
        "definition_id",
        "item_index",
        "capability",
        "status",
        "attempt",
        "max_attempts",
        "input",
        "output",
        "error",
        "agent_id",
        "task_id",
        "scheduled_at",
        "started_at",
        "finished_at",
        "due_at",
        "duplicates",
        "meta",
    )
    __slots__ = COLUMNS
    run_id: str
    step_id: str
    definition_id: str
    item_index: int | None
    capability: str
    status: str
    attempt: int
    max_attempts: int
    input: Any
    output: Any
    error: dict[str, Any] | None
    agent_id: str | None
    task_id: str | None
    scheduled_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    due_at: datetime | None
    duplicates: int
    meta: dict[str, Any]
