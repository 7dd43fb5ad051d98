"""Runs: start, read, list, history, long-poll, cancel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Body, Header, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from agents.sdk.json_schema import SchemaRefused, mismatch
from services.api import run_views
from services.api.deps import (
    OperatorDep,
    ReaderDep,
    RuntimeDep,
    SessionDep,
    definitions_epoch,
    still_holds,
)
from services.api.errors import ApiError, not_found
from services.api.open_streams import HeldStream, OpenStreams
from services.api.routes.workflows import definition_error, parse_or_422
from services.api.run_views import run_fields, run_view, step_fields
from services.api.schemas import (
    EventPublic,
    RunAccepted,
    RunCreate,
    RunPublic,
    RunsPublic,
    SignalAccepted,
)
from services.db.models import RunRow
from services.db.ranges import INT32_MAX, INT64_MAX, EventId
from services.discovery.concepts import concept_index
from services.orchestrator import runs, workflows
from services.orchestrator.definitions import SIGNAL_PATTERN, DefinitionError, WorkflowDefinition
from services.orchestrator.engine import NoWaiter
from services.orchestrator.limits import Limits
from services.orchestrator.service import RunNotRetryable
from services.orchestrator.states import TERMINAL_RUN, RunState
from services.orchestrator.steps import SignalRefused
from services.planning import PlanningError, plan_goal
from services.runtime import Runtime

router = APIRouter(prefix="/v1", tags=["runs"])


async def _inline(
    body: RunCreate, session: AsyncSession, tenant: str, limits: Limits
) -> tuple[WorkflowDefinition, int | None]:
    if isinstance(body.workflow, dict):
        definition = parse_or_422(body.workflow, limits, "$.workflow")
        unknown = await workflows.unknown_children(session, definition, tenant, "$.workflow")
        if unknown:
            raise definition_error(DefinitionError(unknown))
        return definition, None
    if isinstance(body.workflow, str):
        name, version = _named(body.workflow, body.version)
        found = await workflows.lookup(session, name, version, tenant=tenant)
        return _registered(body.workflow, found)
    raise ApiError(
        422,
        "invalid_request",
        "$.workflow: give a workflow (name or definition) or a goal",
        [{"path": "$.workflow", "message": "missing"}],
    )


def _named(workflow: str, version: int | None) -> tuple[str, int | None]:
    """The name and version that ``workflow`` (``name`` or ``name@version``) gives."""
    name, _, version_text = workflow.partition("@")
    if version_text:
        # isdigit alone takes "²" and other digits int() refuses (a 500, not a 422).
        if not (version_text.isascii() and version_text.isdigit()) or int(version_text) > INT32_MAX:
            raise ApiError(
                422,
                "invalid_request",
                "$.workflow: a version after @ is a number",
                [{"path": "$.workflow", "message": "bad version"}],
            )
        version = int(version_text)
    return name, version


def _registered(workflow: str, found: workflows.Found) -> tuple[WorkflowDefinition, int]:
    if found is None:
        raise ApiError(
            404,
            "workflow_unknown",
            f"workflow {workflow!r} is not registered",
            [{"path": "$.workflow", "message": "not registered"}],
        )
    return found


def _check_input(definition: WorkflowDefinition, value: object) -> None:
    if definition.input_schema is None:
        return
    try:
        found = mismatch(definition.input_schema, value)
    except SchemaRefused as exc:
        path, message = "$.workflow.input_schema" + exc.path, exc.message
        details = [{"path": path, "message": message}]
        raise ApiError(422, "invalid_definition", f"{path}: {message}", details) from None
    if found is not None:
        path, message = "$.input" + found.path, found.message
        details = [{"path": path, "message": message}]
        raise ApiError(422, "invalid_input", f"{path}: {message}", details)


def _check_limits(limits: Limits, definition: WorkflowDefinition, run_input: object) -> None:
    problems = limits.run_problems(definition, run_input)
    if problems:
        details = [p.model_dump() for p in problems]
        raise ApiError(
            422, "limit_exceeded", f"{details[0]['path']}: {details[0]['message']}", details
        )


@router.post(
    "/runs",
    status_code=202,
    response_model=RunAccepted,
    responses={200: {"model": RunAccepted, "description": "The idempotency key's run"}},
)
async def start_run(
    body: RunCreate,
    request: Request,
    response: Response,
    principal: OperatorDep,
    runtime: RuntimeDep,
) -> RunAccepted:
    """Start a run; the same ``idempotency_key`` returns the same run.

    A ``goal`` is planned into an inline definition (``services/planning``): its ``given``
    values are the run's input, and the run's ``goal`` records the goal and the plan.
    """
    run_input, goal = body.input, None
    limits = runtime.settings.limits
    definition: WorkflowDefinition
    version: int | None
    if body.goal is None and body.idempotency_key is None and isinstance(body.workflow, str):
        # The common request, a registered workflow by name: kept from an earlier start while
        # no definition is registered, else one row read on a connection, without a session
        # (its transaction and identity map cost more than the read), shared with the same
        # lookups asked meanwhile.
        name, version = _named(body.workflow, body.version)
        found = await runtime.registered.lookup(
            name, version, tenant=principal.tenant, epoch=definitions_epoch(request)
        )
        definition, version = _registered(body.workflow, found)
        _check_input(definition, run_input)
    else:
        if body.goal is not None:
            if body.workflow is not None or body.input is not None:
                raise ApiError(
                    422,
                    "invalid_request",
                    "$.goal: a goal run takes its input from goal.given; omit workflow and input",
                    [{"path": "$.goal", "message": "goal with workflow or input"}],
                )
            concepts = await concept_index()  # loads the ontology once, outside the transaction
        async with runtime.readers() as session, session.begin():
            if body.idempotency_key is not None:
                existing = await runs.by_idempotency_key(
                    session, principal.tenant, body.idempotency_key
                )
                if existing is not None:
                    response.status_code = 200
                    return RunAccepted(run_id=existing.id, status=existing.status, created=False)
            if body.goal is not None:
                try:
                    planned = await plan_goal(session, body.goal, concepts, principal.tenant)
                except PlanningError as exc:
                    raise ApiError(422, exc.code, exc.message, exc.details) from None
                definition, version = planned.definition, None
                run_input, goal = planned.run_input, planned.goal
            else:
                definition, version = await _inline(body, session, principal.tenant, limits)
                _check_input(definition, run_input)
    _check_limits(limits, definition, run_input)
    if body.priority is not None and body.priority != definition.priority:
        # The run keeps its own copy of the definition: the priority is the run's.
        definition = WorkflowDefinition.model_validate(
            {**definition.stored(), "priority": body.priority}
        )
    run = await runtime.orchestrator.create_run(
        definition,
        run_input,
        tenant=principal.tenant,
        version=version,
        idempotency_key=body.idempotency_key,
        goal=goal,
        deadline_s=body.deadline_s,
    )
    if run is None:  # a concurrent request with the same key created its run first
        assert body.idempotency_key is not None
        async with runtime.readers() as reader:
            existing = await runs.by_idempotency_key(reader, principal.tenant, body.idempotency_key)
        if existing is None:
            raise ApiError(409, "conflict", "the run could not be created; try again")
        response.status_code = 200
        return RunAccepted(run_id=existing.id, status=existing.status, created=False)
    return RunAccepted(run_id=run.id, status=run.status, created=True)


@router.get("/runs", response_model=RunsPublic)
async def list_runs(
    principal: ReaderDep,
    session: SessionDep,
    status: RunState | None = None,
    workflow: str | None = None,
    agent: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    id: str | None = Query(default=None, max_length=36, description="run id prefix"),
    parent_run_id: str | None = Query(
        default=None, max_length=36, description="the child runs of this run (sub-workflows)"
    ),
    limit: int = Query(default=50, ge=1, le=500),
    cursor: str | None = None,
) -> RunsPublic:
    """Runs, newest first, filtered; ``next_cursor`` fetches the next page."""
    filters = runs.RunFilter(
        tenant=principal.tenant,
        status=status,
        workflow=workflow,
        agent_id=agent,
        created_after=created_after,
        created_before=created_before,
        id_prefix=id,
        parent_run_id=parent_run_id,
    )
    try:
        page, next_cursor = await runs.list_runs(session, filters, limit, cursor, definitions=False)
    except ValueError as exc:
        raise ApiError(
            422, "invalid_request", f"$.cursor: {exc}", [{"path": "$.cursor", "message": str(exc)}]
        ) from None
    items = [run_view(run_fields(r)) for r in page]
    return RunsPublic(items=items, next_cursor=next_cursor)


async def _run_or_404(
    session: AsyncSession, run_id: str, tenant: str, *, definition: bool = False
) -> RunRow:
    # Another tenant's run answers exactly as a run that does not exist.
    run = await runs.get_run(session, run_id, tenant, definition=definition)
    if run is None:
        raise not_found("run", run_id)
    return run


async def _view_or_404(
    conn: AsyncConnection, run_id: str, tenant: str, *, definition: bool = False
) -> dict[str, Any]:
    # Another tenant's run answers exactly as a run that does not exist.
    fields = await run_views.read_run(conn, run_id, tenant, definition=definition)
    if fields is None:
        raise not_found("run", run_id)
    return fields


@router.get("/runs/{run_id}", response_model=RunPublic)
async def get_run(run_id: str, principal: ReaderDep, runtime: RuntimeDep) -> RunPublic:
    """One run with its steps, outputs, errors, attempts and agents."""
    async with runtime.reading.connect() as conn:
        fields = await _view_or_404(conn, run_id, principal.tenant, definition=True)
        return run_view(fields, await run_views.read_steps(conn, run_id))


@router.get("/runs/{run_id}/events", response_model=list[EventPublic])
async def run_events(
    run_id: str, principal: ReaderDep, session: SessionDep, after: EventId = 0
) -> list[EventPublic]:
    """The run's history in order (``after`` = the last event id already seen)."""
    run = await _run_or_404(session, run_id, principal.tenant)
    return [
        EventPublic.model_validate(e, from_attributes=True)
        for e in await runs.events_of(session, run_id, after, run_created_at=run.created_at)
    ]


@router.get("/runs/{run_id}/wait", response_model=RunPublic)
async def wait_run(
    run_id: str,
    request: Request,
    principal: ReaderDep,
    runtime: RuntimeDep,
    timeout_s: float = Query(default=30.0, gt=0, le=300),
) -> RunPublic:
    """Long-poll until the run is terminal or ``timeout_s`` passes; answers the run either way
    (a ``401`` instead when the token no longer holds by then).

    Sleeps on the run's finish notice (from whichever replica finishes it): a read before, a
    read after (none when this process finished the run: the run as committed comes with the
    wake-up), nothing in between. A wake-up that finds the run unfinished (notices that may
    have been lost are made good by waking every waiter of their partition) sleeps again.
    """
    open_streams: OpenStreams = request.app.state.open_streams
    with open_streams.hold(principal):
        answer = await _wait(runtime, run_id, principal.tenant, timeout_s)
    # Checked again before answering: a token revoked while it waited (up to 300 s) must not
    # be sent the run, as its next request would not be.
    if not await still_holds(request, runtime, principal):
        raise ApiError(401, "unauthorized", "invalid token", headers={"WWW-Authenticate": "Bearer"})
    return answer


async def _wait(runtime: Runtime, run_id: str, tenant: str, timeout_s: float) -> RunPublic:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout_s
    while True:
        with runtime.orchestrator.watch.on_finish(run_id) as finished:  # before the read: no gap
            async with runtime.reading.connect() as conn:
                fields = await _view_or_404(conn, run_id, tenant)
                left = end - loop.time()
                if fields["status"] in TERMINAL_RUN or left <= 0:
                    return run_view(fields, await run_views.read_steps(conn, run_id))
            await finished.wait(left)
            if finished.final is not None:  # finished here: as committed, no read
                done, steps = finished.final
                ordered = sorted(steps.values(), key=runs.step_order)
                return run_view(run_views.finished(fields, done), (step_fields(s) for s in ordered))


KEEPALIVE_S = 15.0


def _last_event_id(header: str | None, after: int) -> int:
    if header is None:
        return after
    if not (header.isascii() and header.isdigit()) or int(header) > INT64_MAX:
        raise ApiError(
            422,
            "invalid_request",
            "Last-Event-ID: an event id is a non-negative integer",
            [{"path": "Last-Event-ID", "message": "not an event id"}],
        )
    return int(header)


@router.get(
    "/runs/{run_id}/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream_run(
    run_id: str,
    request: Request,
    principal: ReaderDep,
    runtime: RuntimeDep,
    after: EventId = 0,
    last_event_id: str | None = Header(default=None, max_length=20),
    timeout_s: float = Query(default=300.0, gt=0, le=3600),
) -> StreamingResponse:
    """Server-Sent Events: the run's events as they are written (``id`` is the event id; send
    it back as ``Last-Event-ID`` to resume), closed after the run's final event, or after
    ``timeout_s`` (then resume from the last id).

    Woken by the run's change notices, not by polling. A change this replica committed comes
    with its events (``watch.Commit``): the stream sends them without a read. It reads the
    run's events when it opens, when another replica changed the run, and when a commit
    skips a version of the run (something it was not told about came between).
    """
    start = _last_event_id(last_event_id, after)
    async with runtime.readers() as session:
        run = await _run_or_404(session, run_id, principal.tenant)
    end = asyncio.get_running_loop().time() + timeout_s

    async def holds() -> bool:
        return await still_holds(request, runtime, principal)

    open_streams: OpenStreams = request.app.state.open_streams
    return HeldStream(
        _events(runtime, run_id, run.created_at, start, end, holds),
        open_streams.take(principal),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _sse(event: EventPublic) -> str:
    return f"id: {event.id}\nevent: {event.type}\ndata: {event.model_dump_json()}\n\n"


async def _events(
    runtime: Runtime,
    run_id: str,
    created_at: datetime,
    last: int,
    end: float,
    holds: Callable[[], Awaitable[bool]],
) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    known = 0  # every event of the run's versions up to this one is sent (id <= last)
    with runtime.orchestrator.watch.follow(run_id) as feed:  # before the read: no gap
        read = True
        while True:
            # What one read or one wake-up brings goes out as one chunk (one send through
            # the middleware and one write to the socket, not one per event).
            chunk: list[str] = []
            if read:
                feed.take()  # what came so far is in the read
                async with runtime.readers() as session:
                    history = await runs.history_at_version(
                        session, run_id, last, run_created_at=created_at
                    )
                if history is None:
                    return
                for row in history.events:
                    last = row.id
                    chunk.append(_sse(EventPublic.model_validate(row, from_attributes=True)))
                full = len(history.events) == runs.EVENTS_PAGE  # read on before sleeping
                known, over, read = history.version, history.status in TERMINAL_RUN, full
            else:
                commits, read = feed.take()
                over = False
                for commit in sorted(commits, key=lambda c: c.version):
                    if read or commit.version <= known:
                        continue  # sent already (or a read comes)
                    if commit.version > known + 1:
                        read = True  # a version came between that this replica did not write
                        continue
                    for event in commit.events:
                        if event["id"] > last:
                            last = event["id"]
                            chunk.append(_sse(EventPublic.model_validate(event)))
                    known, over = commit.version, commit.status in TERMINAL_RUN
            if chunk:
                if not await holds():
                    return  # the token was revoked (or rotated, or expired) meanwhile
                yield "".join(chunk)
            if over and not read:
                return
            if read:
                continue
            left = end - loop.time()
            if left <= 0:
                return
            if not await feed.wait(min(KEEPALIVE_S, left)):
                if not await holds():
                    return
                yield ": keep-alive\n\n"


@router.post("/runs/{run_id}/cancel", status_code=202, response_model=RunAccepted)
async def cancel_run(
    run_id: str, principal: OperatorDep, runtime: RuntimeDep, session: SessionDep
) -> RunAccepted:
    """Cancel: nothing more is dispatched, and running steps end as ``cancelled``."""
    await _run_or_404(session, run_id, principal.tenant)
    await session.rollback()  # end the read before the write transaction
    cancelled = await runtime.orchestrator.cancel_run(run_id, "cancelled by request")
    run = await _run_or_404(session, run_id, principal.tenant)
    if not cancelled:
        raise ApiError(409, "run_finished", f"run {run_id} has already ended ({run.status})")
    return RunAccepted(run_id=run_id, status=run.status, created=False)


@router.post(
    "/runs/{run_id}/signals/{name}",
    status_code=202,
    response_model=SignalAccepted,
    responses={409: {"description": "No step of the run waits or will wait for this signal"}},
)
async def send_signal(
    run_id: str,
    principal: OperatorDep,
    runtime: RuntimeDep,
    session: SessionDep,
    name: str = Path(pattern=SIGNAL_PATTERN),
    body: Any = Body(default=None),
) -> SignalAccepted:
    """Send a signal: the steps that ``wait`` for ``name`` end with the body as their output.
    Sent before such a step starts, it is kept (``kept``) and taken when the step starts.

    The body must match the waiting step's ``schema`` (422 naming the field it refuses). The
    signal is recorded in the run's events and ledger with the name of the sender's token.
    """
    await _run_or_404(session, run_id, principal.tenant)
    await session.rollback()  # end the read before the write transaction
    return await deliver_signal(runtime, run_id, name, body, principal.name)


async def deliver_signal(
    runtime: Runtime, run_id: str, name: str, body: Any, sender: str
) -> SignalAccepted:
    """Signal a run the caller may see (the REST API and the dashboard): 404, 409, or 422
    naming the field the waiting step's schema refuses."""
    try:
        took = await runtime.orchestrator.signal_run(run_id, name, body, sender)
    except NoWaiter as exc:
        async with runtime.readers() as session:
            below = await runs.waiting_below(session, run_id, name)
        where = "".join(
            f"; run {child} (step {step}) waits for it: signal that run" for child, step in below
        )
        raise ApiError(409, "no_waiting_step", f"{exc}{where}") from None
    except SignalRefused as exc:
        details = [{"path": exc.path, "message": exc.message}]
        raise ApiError(422, "signal_refused", f"{exc.path}: {exc.message}", details) from None
    if took is None:
        raise not_found("run", run_id)
    return SignalAccepted(run_id=run_id, signal=name, steps=took.steps, kept=took.kept)


@router.post("/runs/{run_id}/retry", status_code=202, response_model=RunAccepted)
async def retry_run(
    run_id: str, principal: OperatorDep, runtime: RuntimeDep, session: SessionDep
) -> RunAccepted:
    """Start a new run of a failed, cancelled or timed-out run that resumes from its failed step.

    The steps that succeeded are carried over with their outputs; the new run's ``retry_of``
    names this one.
    """
    await _run_or_404(session, run_id, principal.tenant)
    await session.rollback()
    try:
        run = await runtime.orchestrator.retry_run(run_id)
    except LookupError:
        raise not_found("run", run_id) from None
    except RunNotRetryable as exc:
        raise ApiError(409, "run_not_retryable", str(exc)) from None
    return RunAccepted(run_id=run.id, status=run.status, created=True)
