"""The API's views of a run (``RunPublic``): read with SQLAlchemy Core, validated once.

The run routes answer the most frequent requests (``/wait`` above all), so they read the
columns the view shows, without ORM instances (identity map, attribute state), and build the
view with one validation of plain values (nested steps included) instead of one model per
step and then the run's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.api.schemas import RunPublic, StepPublic
from services.db.models import RunRow, StepRow
from services.orchestrator.records import Run, Step

# RunPublic's fields and the run's attributes they come from (RunRow and Run alike).
RUN_FIELDS = {
    "run_id": "id",
    "workflow": "workflow_name",
    "version": "workflow_version",
    "status": "status",
    "input": "input",
    "output": "output",
    "error": "error",
    "goal": "goal",
    "idempotency_key": "idempotency_key",
    "retry_of": "retry_of",
    "parent_run_id": "parent_run_id",
    "parent_step_id": "parent_step_id",
    "created_at": "created_at",
    "started_at": "started_at",
    "finished_at": "finished_at",
    "deadline_at": "deadline_at",
}
# The fields the commit that finishes a run changes (the others are as first read).
FINAL_FIELDS = ("status", "output", "error", "started_at", "finished_at", "deadline_at")
STEP_FIELDS = tuple(StepPublic.model_fields)

# Built once: a statement made per request costs more to build and to look up in
# SQLAlchemy's compiled cache than the ORM's cached ``session.get`` it replaces.
_RUN_COLUMNS = [getattr(RunRow, column).label(field) for field, column in RUN_FIELDS.items()]
# By the key alone, the tenant compared here: without statistics (autovacuum off, or rows added
# since the last ANALYZE) PostgreSQL costs ``tenant = $2`` as high as the key, and some plans
# read every run of the tenant through ix_runs_tenant_created to find one.
_TENANT = "modx_tenant"
_BY_ID = RunRow.id == bindparam("run_id")
_RUN = select(*_RUN_COLUMNS, RunRow.tenant.label(_TENANT)).where(_BY_ID)
_RUN_DEFINED = select(*_RUN_COLUMNS, RunRow.tenant.label(_TENANT), RunRow.definition).where(_BY_ID)
_STEPS = (
    select(*(getattr(StepRow, field) for field in STEP_FIELDS))
    .where(StepRow.run_id == bindparam("run_id"))
    .order_by(StepRow.scheduled_at.is_(None), StepRow.scheduled_at, StepRow.step_id)
)


async def read_run(
    conn: AsyncConnection, run_id: str, tenant: str, *, definition: bool = False
) -> dict[str, Any] | None:
    """The run's view fields (and its ``definition`` if asked), None when it does not exist
    or belongs to another tenant (the two answer alike)."""
    query = _RUN_DEFINED if definition else _RUN
    row = (await conn.execute(query, {"run_id": run_id})).mappings().first()
    if row is None:
        return None
    fields = dict(row)
    return fields if fields.pop(_TENANT) == tenant else None


async def read_steps(conn: AsyncConnection, run_id: str) -> list[dict[str, Any]]:
    """The run's steps' view fields, in the order they were created (unscheduled last, as
    ``runs.step_order``)."""
    return [dict(row) for row in (await conn.execute(_STEPS, {"run_id": run_id})).mappings()]


def run_fields(run: RunRow) -> dict[str, Any]:
    """The view fields of a run loaded as an ORM row."""
    return {field: getattr(run, column) for field, column in RUN_FIELDS.items()}


def step_fields(step: StepRow | Step) -> dict[str, Any]:
    """The view fields of a step held in memory."""
    return {field: getattr(step, field) for field in STEP_FIELDS}


def finished(fields: Mapping[str, Any], final: Run) -> dict[str, Any]:
    """``fields`` as the commit that finished the run (``final``) left it."""
    return {**fields, **{field: getattr(final, field) for field in FINAL_FIELDS}}


def run_view(fields: Mapping[str, Any], steps: Iterable[Mapping[str, Any]] = ()) -> RunPublic:
    """The API view of a run, validated once with its steps."""
    return RunPublic.model_validate({**fields, "steps": list(steps)})
