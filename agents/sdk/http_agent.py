"""HTTP agents: how a plain web app or a legacy program joins MODX without the bus.

The orchestrator POSTs the task envelope (JSON) to the agent's ``endpoint`` and reads the
answer inline (docs/protocol.md, "Tasks (HTTP agents)"):

- ``create_http_app(agent)`` (``agent.http_app()``) is a FastAPI app with ``POST /task`` that
  runs the capability named by the envelope's ``topic`` and answers ``200 {"output", "usage"?}``
  or ``200 {"error": {"code", "message", "retryable", "details"}}``; a ``task.cancel`` event
  posted there cancels the handler running the task it names (``causation_id``), whose request
  then answers ``200 {"error": {"code": "cancelled"}}``; a body that is not a task
  envelope gets ``422``, and one without the orchestrator's signature (``MODX-Signature``, once
  the registration gave its key) or that the verifier rejects, ``403``, in the API's error
  shape;
- ``run_http`` serves that app with uvicorn (each request read under a deadline and a bound on
  its head, ``agents.sdk.http_protocol``), registers the card (``transport: "http"``), sends
  heartbeats, and on shutdown deregisters first (so no new task is sent) and then lets uvicorn
  finish the requests in flight;
- ``report_result`` is for programs that answer ``202`` and report later through
  ``POST /v1/tasks/{task_id}/result``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Generator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from agents.sdk.errors import ServerUnavailable, SetupError
from agents.sdk.execution import (
    Outcome,
    TaskFailure,
    execute,
    field_errors,
    unknown_capability,
)
from agents.sdk.http_protocol import http_protocol_of
from agents.sdk.registration import Registration, RegistryClient, keep_alive
from agents.sdk.runner import install_signal_handlers, noop
from agents.sdk.settings import AgentSettings
from bus import streams
from bus.envelope import Envelope, Kind
from bus.signing import Ed25519PublicKey, load_public_key, verify_bytes
from bus.transport import Verifier

if TYPE_CHECKING:
    from agents.sdk.agent import Agent

logger = logging.getLogger("agents.sdk")

SIGNATURE_HEADER = "MODX-Signature"
"""The orchestrator's signature (base64 Ed25519) over the exact bytes of the POSTed body."""


@dataclass
class HttpAgentState:
    """What the app knows at run time: the id it answers as and the requests in flight."""

    agent_id: str
    in_flight: int = 0
    running: dict[str, asyncio.Task[Outcome]] = field(default_factory=dict)
    """The handlers running now, by task id (a cancel names one)."""
    orchestrator_key: Ed25519PublicKey | None = None
    """Set from the registration: tasks must carry the orchestrator's signature."""


def create_http_app(
    agent: Agent,
    *,
    verifier: Verifier | None = None,
    orchestrator_key: Ed25519PublicKey | str | None = None,
) -> FastAPI:
    """A FastAPI app that serves ``agent``'s capabilities at ``POST /task``.

    Args:
        agent: The agent whose capabilities to serve.
        verifier: Checks each envelope further; a rejected one gets ``403``.
        orchestrator_key: The orchestrator's public key; ``run_http`` sets it from the
            registration. A body without its ``MODX-Signature`` then gets ``403``.

    Returns:
        The app; ``app.state.modx`` is its ``HttpAgentState``. ``GET /healthz`` reports the
        requests in flight. Its lifespan runs the agent's ``on_start`` and ``on_stop`` hooks.
    """
    state = HttpAgentState(
        agent_id=agent.name,
        orchestrator_key=load_public_key(orchestrator_key) if orchestrator_key else None,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # The agent's on_start/on_stop hooks, under any ASGI server that runs the lifespan.
        try:
            await agent.started()
            yield
        finally:
            await agent.stopped()

    app = FastAPI(title=f"{agent.name} (MODX HTTP agent)", version=agent.version, lifespan=lifespan)
    app.state.modx = state

    @app.post("/task")
    async def run_task(request: Request) -> JSONResponse:
        """Run the task envelope in the body; answer with its output or structured error."""
        body = await request.body()
        if state.orchestrator_key is not None and not verify_bytes(
            body, request.headers.get(SIGNATURE_HEADER, ""), state.orchestrator_key
        ):
            return _api_error(
                403, "rejected_envelope", f"no valid {SIGNATURE_HEADER} of the orchestrator"
            )
        try:
            task = Envelope.from_json(body)
        except ValidationError as exc:
            details = {"errors": field_errors(exc)}
            return _api_error(422, "invalid_envelope", "the body is not a task envelope", details)
        cancel = task.kind is Kind.EVENT and task.topic == streams.TASK_CANCEL
        if task.kind is not Kind.TASK and not cancel:
            return _api_error(422, "invalid_envelope", f"expected kind 'task', got {task.kind}")
        reason = verifier(task) if verifier is not None else None
        if reason is not None:
            return _api_error(403, "rejected_envelope", reason)
        if cancel:
            job = state.running.get(task.causation_id or "")
            found = job is not None and not job.done()
            if job is not None:
                job.cancel()
            return JSONResponse({"cancelled": found}, status_code=202)
        definition = agent.capabilities.get(task.topic)
        outcome: Outcome
        if definition is None:
            outcome = unknown_capability(task.topic, list(agent.capabilities))
        else:
            state.in_flight += 1
            job = asyncio.ensure_future(execute(definition, task, state.agent_id))
            state.running[task.id] = job
            try:
                outcome = await job
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    job.cancel()
                    raise
                outcome = Outcome(
                    failure=TaskFailure("cancelled", "cancelled by the orchestrator", False)
                )
            finally:
                state.in_flight -= 1
                state.running.pop(task.id, None)
        return JSONResponse(outcome.body())

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        """Liveness, and the tasks running now."""
        return {"status": "ok", "agent": agent.name, "in_flight": state.in_flight}

    return app


class _Server(uvicorn.Server):
    # Signals belong to run_http: it must deregister before uvicorn stops accepting requests.
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


async def run_http(
    agent: Agent,
    host: str = "0.0.0.0",
    port: int = 8080,
    public_url: str | None = None,
    *,
    settings: AgentSettings | None = None,
    stop: asyncio.Event | None = None,
    handle_signals: bool = True,
    registry: RegistryClient | None = None,
) -> None:
    """Serve ``agent`` over HTTP, registered with MODX, until SIGTERM/SIGINT or ``stop``.

    Args:
        agent: The agent to serve.
        host: Interface to listen on.
        port: Port to listen on (0 picks a free one; then pass ``public_url``).
        public_url: Base URL the orchestrator reaches; the endpoint is ``public_url + "/task"``.
        settings: Server URL and token; ``MODX_*`` environment by default.
        stop: Set it to deregister and shut down gracefully.
        handle_signals: Install SIGTERM/SIGINT handlers (main thread only).
        registry: A registry client to use (tests); built from ``settings`` when omitted.

    Raises:
        SetupError: When the agent has no capabilities.
        RequestRejected: When the server refuses the registration.
        RuntimeError: When the HTTP server cannot start (e.g. the port is taken).
    """
    if not agent.capabilities:
        raise SetupError(f"agent {agent.name!r} has no capabilities; declare one first")
    settings = settings or AgentSettings()
    stop = stop or asyncio.Event()
    force = asyncio.Event()
    base = (public_url or _default_public_url(host, port)).rstrip("/")
    agent.load_key(settings)
    app = create_http_app(agent)
    state: HttpAgentState = app.state.modx
    # The bounds the API reads its requests under: the endpoint must be reachable by the
    # orchestrator, so whoever else reaches it could hold it with slow or giant requests.
    protocol = http_protocol_of(settings)
    server = _Server(
        uvicorn.Config(app, host=host, port=port, lifespan="on", log_config=None, http=protocol)
    )

    def card() -> dict[str, Any]:  # built anew each time: its proof carries the time
        return agent.card(transport="http", endpoint=f"{base}/task")

    restore_signals = install_signal_handlers(stop, force) if handle_signals else noop
    client = registry or RegistryClient(settings)
    serving = asyncio.create_task(server.serve())
    current: list[Registration] = []
    heartbeats: asyncio.Task[None] | None = None
    try:
        await _until_started(server, serving)
        registration = await client.register_until(card(), stop)
        if registration is not None:
            current.append(registration)
            state.agent_id = registration.agent_id
            if registration.orchestrator_key:
                state.orchestrator_key = load_public_key(registration.orchestrator_key)
            logger.info("registered %s as HTTP agent %s", agent.name, registration.agent_id)

            async def renamed(fresh: Registration) -> None:
                state.agent_id = fresh.agent_id

            heartbeats = asyncio.create_task(
                keep_alive(client, current, card, lambda: state.in_flight, stop, renamed)
            )
            await _first([stop.wait(), asyncio.shield(serving)])
    finally:
        if heartbeats is not None:
            heartbeats.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeats
        if current:
            await client.deregister(current[0])  # draining: the orchestrator sends no more
        server.should_exit = True
        force_task = asyncio.create_task(_force_on(force, server))
        await asyncio.wait([serving])  # uvicorn finishes the requests in flight
        force_task.cancel()
        restore_signals()
        if registry is None:
            await client.aclose()
    serving.result()  # re-raise a crash of the HTTP server


async def report_result(
    task_id: str,
    body: Mapping[str, Any],
    token: str,
    *,
    settings: AgentSettings | None = None,
    client: httpx.AsyncClient | None = None,
    attempts: int = 5,
) -> None:
    """Report the answer of a task accepted with ``202``: ``POST /v1/tasks/{task_id}/result``.

    Retrying is safe: the orchestrator records one result per (run, step, attempt).

    Args:
        task_id: The id of the task envelope.
        body: ``{"output": ...}`` or ``{"error": {"message", "retryable", ...}}``.
        token: The agent token from the registration.
        settings: Server URL; ``MODX_*`` environment by default.
        client: An ``httpx.AsyncClient`` whose ``base_url`` is the MODX server (tests).
        attempts: Tries while the server is unavailable, with back-off between them.

    Raises:
        RequestRejected: On a 4xx answer (unknown task, bad token, malformed body).
        ServerUnavailable: When every attempt found the server unavailable.
    """
    registry = RegistryClient(settings or AgentSettings(), client)
    try:
        for attempt in range(attempts):
            try:
                await registry.post(f"/v1/tasks/{task_id}/result", token, body)
                return
            except ServerUnavailable:
                if attempt + 1 >= attempts:
                    raise
                await asyncio.sleep(registry.backoff(attempt))
    finally:
        await registry.aclose()


def report_result_sync(task_id: str, body: Mapping[str, Any], token: str, **kwargs: Any) -> None:
    """``report_result`` for synchronous programs (runs its own event loop)."""
    asyncio.run(report_result(task_id, body, token, **kwargs))


async def _until_started(server: uvicorn.Server, serving: asyncio.Task[None]) -> None:
    # uvicorn has no "started" event to await; poll its flag (a few ms at start-up only).
    while not server.started:
        if serving.done():
            serving.result()  # re-raise the start-up failure
            raise RuntimeError("the HTTP server exited before it started (port in use?)")
        await asyncio.sleep(0.01)


async def _first(aws: list[Any]) -> None:
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


async def _force_on(force: asyncio.Event, server: uvicorn.Server) -> None:
    await force.wait()
    server.force_exit = True


def _default_public_url(host: str, port: int) -> str:
    return f"http://{'127.0.0.1' if host in ('0.0.0.0', '::', '') else host}:{port}"


def _api_error(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, "details": details or {}}},
        status_code=status,
    )
