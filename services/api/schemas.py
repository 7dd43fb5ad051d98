"""API shapes of workflows and runs (input and output kept apart)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.db.ranges import Version


class RunCreate(BaseModel):
    """``POST /v1/runs``: a workflow (name, ``name@version``, or inline definition) or a goal."""

    model_config = ConfigDict(extra="forbid")

    workflow: str | dict[str, Any] | None = None
    version: Version | None = None
    input: Any = None
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)
    goal: dict[str, Any] | None = None
    deadline_s: float | None = Field(default=None, gt=0, le=30 * 86400)
    priority: int | None = Field(
        default=None,
        ge=-10,
        le=10,
        description="where this run's tasks queue for a limited capability: higher first "
        "(default: the definition's, 0)",
    )


class RunAccepted(BaseModel):
    """The answer to ``POST /v1/runs``."""

    run_id: str
    status: str
    created: bool = True


class SignalAccepted(BaseModel):
    """The answer to ``POST /v1/runs/{id}/signals/{name}``: the steps that took the signal,
    and the steps that keep it until they start (sent before they wait)."""

    run_id: str
    signal: str
    steps: list[str]
    kept: list[str] = []


class StepPublic(BaseModel):
    """A step of a run as the API shows it."""

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
    duplicates: int
    meta: dict[str, Any]


class RunPublic(BaseModel):
    """A run with its steps."""

    run_id: str
    workflow: str
    version: int | None
    status: str
    input: Any
    output: Any
    error: dict[str, Any] | None
    goal: dict[str, Any] | None
    idempotency_key: str | None
    retry_of: str | None = None
    parent_run_id: str | None = None
    """A sub-workflow's (or loop iteration's) run: the run that started it."""
    parent_step_id: str | None = None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    deadline_at: datetime | None
    definition: dict[str, Any] | None = None
    steps: list[StepPublic] = Field(default_factory=list)


class RunsPublic(BaseModel):
    """A page of runs."""

    items: list[RunPublic]
    next_cursor: str | None


class EventPublic(BaseModel):
    """One entry of a run's history."""

    id: int
    type: str
    step_id: str | None
    from_state: str | None
    to_state: str | None
    attempt: int | None
    agent_id: str | None
    envelope_id: str | None
    data: dict[str, Any]
    created_at: datetime


class WorkflowPublic(BaseModel):
    """A registered definition."""

    name: str
    version: int
    definition: dict[str, Any]
    created_at: datetime
    warnings: list[str] = Field(
        default_factory=list,
        description="on registration: capabilities no registered agent serves yet",
    )


class TaskResult(BaseModel):
    """``POST /v1/tasks/{id}/result``: the same body an HTTP agent answers inline."""

    model_config = ConfigDict(extra="forbid")

    output: Any = None
    error: dict[str, Any] | None = None
    usage: dict[str, Any] | None = None
