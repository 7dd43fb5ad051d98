"""Runs that the protocol servers start (MCP tools, A2A skills): what a name runs, the checks of
its input, and the run's history as it moves on.

A name is ``workflow.<name>`` for the tenant's registered workflow (its latest version), or a
capability's own name, which runs as a one-step inline workflow ``<protocol>.<capability>``
(``mcp.legal.validate_facts``), so every call is an ordinary run in ``GET /v1/runs``.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from agents.sdk.json_schema import SchemaRefused, mismatch
from services.db.models import EventRow, RunRow
from services.orchestrator import runs, workflows
from services.orchestrator.definitions import StepDefinition, WorkflowDefinition
from services.orchestrator.states import TERMINAL_RUN
from services.registry import store
from services.runtime import Runtime

WORKFLOW_PREFIX = "workflow."
"""Tool and skill names: ``workflow.<name>`` for a workflow, the capability's own name otherwise."""
PROTOCOLS = ("mcp", "a2a")
"""The protocols whose servers start runs (the prefix of an inline workflow's name)."""
_MAX_KEY = 200  # runs.idempotency_key's column


class CallRefused(Exception):
    """A call that starts no run: an unknown name, or input the workflow refuses."""


class UnknownCall(CallRefused):
    """No such workflow, or no live agent serves the capability."""


async def definition_of(
    runtime: Runtime, tenant: str, name: str, protocol: str
) -> tuple[WorkflowDefinition, int | None]:
    """What ``name`` runs: a registered workflow, or one step on a live capability (whose
    input schema is the inline workflow's).

    Raises:
        UnknownCall: No such workflow, or no live agent serves the capability.
    """
    if name.startswith(WORKFLOW_PREFIX):
        workflow = name.removeprefix(WORKFLOW_PREFIX)
        async with runtime.readers() as session:
            registered = await workflows.lookup(session, workflow, tenant=tenant)
        if registered is None:
            raise UnknownCall(f"no workflow named {workflow!r}")
        return registered
    async with runtime.readers() as session:
        found = await store.find_capabilities(session, name, live_only=True, limit=1, tenant=tenant)
    if not found:
        raise UnknownCall(f"no live agent serves {name!r}")
    step = StepDefinition(id="call", capability=name, input="$.input")
    # The capability's input schema checks the input before any run exists (input_problem).
    schema = found[0][0].input_schema or None
    inline = WorkflowDefinition(
        name=f"{protocol}.{name}", steps=[step], output="$.steps.call.output", input_schema=schema
    )
    return inline, None


def skill_of(run: RunRow) -> str | None:
    """The tool or skill name that starts a run like ``run`` (the inverse of
    :func:`definition_of`): a registered workflow's, or the capability of a protocol's one-step
    inline workflow; None for any other run (an inline workflow sent over REST)."""
    if run.workflow_version is not None:
        return WORKFLOW_PREFIX + run.workflow_name
    protocol, _, capability = run.workflow_name.partition(".")
    steps = run.definition.get("steps") if isinstance(run.definition, dict) else None
    if protocol not in PROTOCOLS or not isinstance(steps, list) or len(steps) != 1:
        return None
    step = steps[0]
    return capability if isinstance(step, dict) and step.get("capability") == capability else None


def input_problem(runtime: Runtime, definition: WorkflowDefinition, arguments: Any) -> str | None:
    """Why the run's input is refused (``$.input.<field>: …``), or None: the workflow's
    ``input_schema`` first, then the server's limits."""
    if definition.input_schema is not None:
        try:
            found = mismatch(definition.input_schema, arguments)
        except SchemaRefused as exc:
            return f"the input schema cannot be used: {exc}"
        if found is not None:
            return f"$.input{found.path}: {found.message}"
    problems = runtime.settings.limits.run_problems(definition, arguments)
    if problems:
        return f"{problems[0].path}: {problems[0].message}"
    return None


def idempotency_key(protocol: str, request_id: str) -> str:
    """The run's idempotency key for a request id of a protocol (a resent request, one run)."""
    key = f"{protocol}:{request_id}"
    if len(key) > _MAX_KEY:
        key = f"{protocol}:sha256:{hashlib.sha256(request_id.encode()).hexdigest()}"
    return key


async def start(
    runtime: Runtime,
    tenant: str,
    name: str,
    arguments: Any,
    *,
    protocol: str,
    key: str | None = None,
    run_id: str | None = None,
) -> str:
    """Start a run of ``name`` and return its id; with ``key`` (an idempotency key), the run
    that key already started, if any. ``run_id`` is the id to give the new run (a task's
    that had none yet).

    Raises:
        CallRefused: Unknown name, or input refused (the message names the field).
    """
    if key is not None:
        async with runtime.readers() as session:
            existing = await runs.by_idempotency_key(session, tenant, key)
        if existing is not None:
            return existing.id
    definition, version = await definition_of(runtime, tenant, name, protocol)
    problem = input_problem(runtime, definition, arguments)
    if problem is not None:
        raise CallRefused(problem)
    run = await runtime.orchestrator.create_run(
        definition, arguments, tenant=tenant, version=version, idempotency_key=key, run_id=run_id
    )
    if run is not None:
        return run.id
    assert key is not None  # None only when the key was taken meanwhile
    async with runtime.readers() as session:
        existing = await runs.by_idempotency_key(session, tenant, key)
    if existing is None:
        raise CallRefused("the run could not be created; try again")
    return existing.id


async def history(
    runtime: Runtime, run_id: str, after: int = 0
) -> AsyncIterator[tuple[RunRow, Sequence[EventRow]]]:
    """The run and its events after event id ``after``, each time it changes; the last time
    when the run is terminal and its whole history has been given.

    Every transition of the run and of its steps is an event (``events`` table), so none is
    missed however fast they come.
    """
    watch = runtime.orchestrator.watch
    while True:
        with watch.on_change(run_id) as changed:  # before the read: no change slips between
            async with runtime.readers() as session:
                run = await session.get(RunRow, run_id)
                events = (
                    await runs.events_of(session, run_id, after, run_created_at=run.created_at)
                    if run is not None
                    else []
                )
            if run is None:
                return
            if events:
                after = events[-1].id
            full = len(events) == runs.EVENTS_PAGE
            yield run, events
            if full:
                continue  # read on before sleeping
            if run.status in TERMINAL_RUN:
                return
            await changed.wait(30.0)  # a missed notice costs at most this
