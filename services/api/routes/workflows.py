"""Workflow definitions: register (versioned) and read."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Response

from services.api.deps import OperatorDep, ReaderDep, RuntimeDep, SessionDep, WriteSessionDep
from services.api.errors import ApiError, not_found
from services.api.openapi import typed_body
from services.api.schemas import WorkflowPublic
from services.db.models import WorkflowDefinitionRow
from services.db.ranges import Version
from services.orchestrator import workflows
from services.orchestrator.definitions import DefinitionError, WorkflowDefinition, parse_definition
from services.orchestrator.limits import Limits
from services.orchestrator.routing import unserved

router = APIRouter(prefix="/v1", tags=["workflows"])


def definition_error(exc: DefinitionError) -> ApiError:
    """A 422 that names every JSON path at fault."""
    details = [p.model_dump() for p in exc.problems]
    return ApiError(
        422, "invalid_definition", f"{details[0]['path']}: {details[0]['message']}", details
    )


def parse_or_422(data: Any, limits: Limits, base: str = "$") -> WorkflowDefinition:
    """Parse a definition, answering 422 with JSON paths when it is not valid (or has more
    steps than ``limits`` allow)."""
    too_many = limits.steps_problem(data, base)
    if too_many is not None:
        raise definition_error(DefinitionError([too_many]))
    try:
        return parse_definition(data, base)
    except DefinitionError as exc:
        raise definition_error(exc) from None


def public(row: WorkflowDefinitionRow) -> WorkflowPublic:
    """The API view of a definition."""
    return WorkflowPublic(
        name=row.name, version=row.version, definition=row.definition, created_at=row.created_at
    )


@router.post(
    "/workflows",
    status_code=201,
    response_model=WorkflowPublic,
    responses={200: {"model": WorkflowPublic, "description": "The same definition exists"}},
    openapi_extra=typed_body(WorkflowDefinition, "A workflow definition (docs/workflows.md)."),
)
async def register(
    response: Response,
    principal: OperatorDep,
    runtime: RuntimeDep,
    session: WriteSessionDep,
    body: Any = Body(...),
) -> WorkflowPublic:
    """Register a definition of the caller's tenant; without ``version`` it becomes the next
    version of its name (names are the tenant's own: other tenants' are never touched)."""
    definition = parse_or_422(body, runtime.settings.limits)
    async with session.begin():
        unknown = await workflows.unknown_children(session, definition, principal.tenant)
        if unknown:
            raise definition_error(DefinitionError(unknown))
        try:
            row, created = await workflows.register(session, definition, principal.tenant)
        except workflows.VersionConflict as exc:
            raise ApiError(409, "version_conflict", str(exc)) from None
        served = [step.capability for step in definition.steps if step.capability]
        missing = await unserved(session, served, principal.tenant)
    # Committed: the latest versions every replica keeps are stale from its next request on
    # (an answer that already existed too: its first try may have failed before this).
    await runtime.throttle.definitions_changed()
    if not created:
        response.status_code = 200
    registered = public(row)
    # Accepted anyway (the agents may come later), but said: its runs would wait until then.
    registered.warnings = [
        f"no registered agent serves {name}: runs will wait for one" for name in missing
    ]
    return registered


@router.get("/workflows", response_model=list[WorkflowPublic])
async def list_workflows(principal: ReaderDep, session: SessionDep) -> list[WorkflowPublic]:
    """The latest version of every workflow of the caller's tenant."""
    return [public(row) for row in await workflows.list_latest(session, principal.tenant)]


@router.get("/workflows/{name}", response_model=WorkflowPublic)
async def get_workflow(
    name: str, principal: ReaderDep, session: SessionDep, version: Version | None = None
) -> WorkflowPublic:
    """One workflow: the latest version, or ``?version=``."""
    row = await workflows.get(session, name, version, tenant=principal.tenant)
    if row is None:
        raise not_found("workflow", name if version is None else f"{name}@{version}")
    return public(row)
