"""MODX as an MCP server: streamable HTTP at ``/mcp``, the same Bearer tokens as the REST API.

``tools/list`` lists the tenant's registered workflows and its live capabilities; ``tools/call``
starts an ordinary run (seen in ``GET /v1/runs``), waits for it, sending a progress notification
at each step that ends, and answers the run's output as ``structuredContent`` with its JSON as
text beside it. A run that fails answers ``isError`` with the run's error message. A call whose
token was revoked, rotated or expired while it waited answers an error instead, as
``GET /v1/runs/{id}/wait`` answers ``401``. A ``notifications/cancelled`` for the call cancels
its run (``services.interop.mcp_cancel``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import mcp.types as types
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.exceptions import McpError
from starlette.requests import HTTPConnection, Request
from starlette.types import Receive, Scope, Send

from agents.sdk.json_schema import mismatch
from modx.errors import error_text
from services.api.deps import still_holds
from services.api.errors import ApiError
from services.api.input_guard import RpcKind, read_body, replaying
from services.auth import OPERATORS, Principal
from services.db.models import RunRow
from services.interop import bearer, calls
from services.interop.mcp_cancel import Call, InFlight, SharedCalls, cancellation
from services.interop.mcp_framing import error_answer
from services.interop.mcp_framing import refusal as framing_refusal
from services.interop.sealed import sealing
from services.interop.translate import Failure
from services.interop.translate import mcp as translate_mcp
from services.json_checks import parse_json
from services.orchestrator import runs, workflows
from services.orchestrator.states import TERMINAL_RUN, TERMINAL_STEP
from services.registry import store
from services.runtime import Runtime

PRINCIPAL_KEY = "modx.principal"
REVOKED = "the token was revoked, rotated or expired while the call ran"
RUN_ID_META = "modx/run_id"
WORKFLOW_PREFIX = calls.WORKFLOW_PREFIX

# Errors the handlers did not mean to answer tell their type, never their text (SQL included).
_sealed = sealing(
    McpError, lambda text: McpError(types.ErrorData(code=types.INTERNAL_ERROR, message=text))
)
_ANY_OBJECT: dict[str, Any] = {"type": "object"}


def _object_schema(schema: dict[str, Any] | None) -> dict[str, Any] | None:
    # MCP wants object schemas; anything else is left out (the input then is any object).
    if not schema or schema.get("type") != "object":
        return None
    return schema


async def list_tools(runtime: Runtime, tenant: str) -> list[types.Tool]:
    """The tenant's workflows (latest versions) and the capabilities a live agent serves."""
    tools: list[types.Tool] = []
    async with runtime.readers() as session:
        for row in await workflows.list_latest(session, tenant):
            definition = workflows.parsed(row)
            tools.append(
                types.Tool(
                    name=WORKFLOW_PREFIX + row.name,
                    title=row.name,
                    description=definition.description or f"The {row.name} workflow.",
                    inputSchema=_object_schema(definition.input_schema) or _ANY_OBJECT,
                )
            )
        seen: set[str] = set()
        for cap, _agent in await store.find_capabilities(session, live_only=True, tenant=tenant):
            if cap.name in seen:
                continue
            seen.add(cap.name)
            tools.append(
                types.Tool(
                    name=cap.name,
                    description=cap.description or f"The {cap.name} capability.",
                    inputSchema=_object_schema(cap.input_schema) or _ANY_OBJECT,
                    outputSchema=_object_schema(cap.output_schema),
                )
            )
    return tools


async def output_schema_of(runtime: Runtime, tenant: str, name: str) -> dict[str, Any] | None:
    """The ``outputSchema`` ``tools/list`` gives tool ``name`` (workflows declare none)."""
    if name.startswith(WORKFLOW_PREFIX):
        return None
    async with runtime.readers() as session:
        found = await store.find_capabilities(session, name, live_only=True, limit=1, tenant=tenant)
    return _object_schema(found[0][0].output_schema) if found else None


def render(run: RunRow, output_schema: dict[str, Any] | None = None) -> types.CallToolResult:
    """A finished run as a tool result (``services.interop.translate.mcp``): the output, or
    the run's error; the run's id in ``_meta`` (``modx/run_id``) to find it in the API.

    MCP: a tool with an ``outputSchema`` MUST give structured results that conform to it. An
    agent whose output breaks its own schema (an HTTP agent's answer is not checked against
    it) makes the call a tool error saying what breaks, not a result the client refuses."""
    meta = {RUN_ID_META: run.id}
    if run.status != "succeeded":
        error = run.error if isinstance(run.error, dict) else {}
        # the whole chain: the reason (an input the agent refused, say) is at its bottom, and
        # a model calling the tool reads only this text
        message = error_text(run.error) if run.error else "no output"
        failure = Failure(
            str(error.get("code") or run.status), f"run {run.id} {run.status}: {message}"
        )
        return translate_mcp.error_result(failure, meta)
    result = translate_mcp.result_of(run.output, meta)
    broken = mismatch(output_schema, result.structuredContent) if output_schema else None
    if broken is not None:
        message = (
            f"run {run.id} succeeded, but its output does not match the tool's outputSchema: "
            f"${broken.path}: {broken.message}"
        )
        return translate_mcp.error_result(Failure("invalid_output", message), meta)
    return result


def _error(message: str) -> types.CallToolResult:
    return translate_mcp.error_result(Failure("bad_request", message))


async def call_tool(
    runtime: Runtime,
    principal: Principal,
    name: str,
    arguments: dict[str, Any],
    progress: Any = None,
    call: Call | None = None,
) -> types.CallToolResult:
    """Start a run for tool ``name`` and answer its result; ``progress(done, total)`` is awaited
    each time the count of finished steps grows. ``call`` (this request in the process's
    in-flight calls) learns the run, for a cancel of the request."""
    if principal.role not in OPERATORS or principal.agent_id is not None:
        return _error("calling a tool starts a run: this needs an operator or admin token")
    output_schema = await output_schema_of(runtime, principal.tenant, name)  # as listed
    try:
        run_id = await calls.start(runtime, principal.tenant, name, arguments, protocol="mcp")
    except calls.UnknownCall as exc:  # MCP: a protocol error, not a failure of the tool
        error = types.ErrorData(code=types.INVALID_PARAMS, message=f"Unknown tool: {exc}")
        raise McpError(error) from None
    except calls.CallRefused as exc:
        return _error(str(exc))
    if call is not None:
        await call.started(runtime, run_id)
    async for done, total in _progress(runtime, run_id):
        if progress is not None:
            await progress(done, total)
    async with runtime.readers() as session:
        row = await session.get(RunRow, run_id)
    assert row is not None
    return render(row, output_schema)


async def _progress(runtime: Runtime, run_id: str) -> AsyncIterator[tuple[int, int]]:
    """(finished steps, steps) each time it changes, the last one when the run is terminal."""
    watch = runtime.orchestrator.watch
    last = -1
    while True:
        with watch.on_change(run_id) as changed:  # before the read: no change slips between
            async with runtime.readers() as session:
                run = await session.get(RunRow, run_id)
                steps = list(await runs.steps_of(session, run_id))
            if run is None:
                return
            done = sum(1 for s in steps if s.status in TERMINAL_STEP)
            if done != last:
                last = done
                yield done, max(len(steps), 1)
            if run.status in TERMINAL_RUN:
                return
            await changed.wait(30.0)  # a missed notice costs at most this


def mcp_server(runtime_of: Any, in_flight: InFlight, version: str) -> Server[Any, Request]:
    """The MCP server; ``runtime_of(request)`` finds the process's Runtime; ``in_flight``
    keeps its calls for cancels; ``version`` is MODX's, for ``serverInfo`` (the SDK would
    name its own)."""
    server: Server[Any, Request] = Server(
        "modx", version=version, instructions="MODX workflows and capabilities."
    )

    def caller() -> tuple[Runtime, Principal]:
        request = server.request_context.request
        assert request is not None
        return runtime_of(request), request.scope[PRINCIPAL_KEY]

    # Our own handler, not ``@server.list_tools``: that one keeps the tools in a cache shared
    # by every tenant, and reads no cursor.
    async def _list(request: types.ListToolsRequest) -> types.ServerResult:
        cursor = request.params.cursor if request.params is not None else None
        if cursor is not None:  # the list is one page: no cursor was ever given out
            error = types.ErrorData(
                code=types.INVALID_PARAMS,
                message="cursor: not a cursor of this list (the tools come in one page)",
                data={"path": "$.params.cursor"},
            )
            raise McpError(error)
        runtime, principal = caller()
        return types.ServerResult(
            types.ListToolsResult(tools=await list_tools(runtime, principal.tenant))
        )

    server.request_handlers[types.ListToolsRequest] = _sealed(_list)

    # Our own handler, not ``@server.call_tool``: that one answers any exception (McpError
    # included) as ``isError``, and its input checks would use a tool list cached across tenants.
    async def _call(request: types.CallToolRequest) -> types.ServerResult:
        name, arguments = request.params.name, request.params.arguments or {}
        runtime, principal = caller()
        context = server.request_context
        token = context.meta.progressToken if context.meta is not None else None

        async def holds() -> bool:  # a call waits for its run: its token may go meanwhile
            assert context.request is not None
            return await still_holds(context.request, runtime, principal)

        async def progress(done: int, total: int) -> None:
            if token is not None and await holds():
                await context.session.send_progress_notification(
                    token,
                    done,
                    total,
                    f"{done} of {total} steps done",
                    related_request_id=str(context.request_id),
                )

        async with in_flight.calling(principal, context.request_id) as call:
            answer = await call_tool(runtime, principal, name, arguments, progress, call)
        if not await holds():  # as GET /v1/runs/{id}/wait: no result after a revoke
            raise McpError(types.ErrorData(code=types.INVALID_REQUEST, message=REVOKED))
        return types.ServerResult(answer)

    server.request_handlers[types.CallToolRequest] = _sealed(_call)
    return server


PATH = "/mcp"

_CODES: dict[RpcKind, int] = {
    "parse": types.PARSE_ERROR,
    "request": types.INVALID_REQUEST,
    "params": types.INVALID_PARAMS,
}


def refusal(
    request_id: str | int | None, kind: RpcKind, path: str, reason: str
) -> tuple[int, bytes]:
    """The input guard's refusal of a hostile body as a JSON-RPC error (``error_answer``: that
    call's answer with the request's id, else HTTP 400)."""
    return error_answer(request_id, _CODES[kind], f"{path}: {reason}", {"path": path, "in": "body"})


def _json_body(scope: Scope) -> bool:
    """True when the request says its body is JSON (MCP: a POST carries one JSON-RPC message)."""
    media: bytes = HTTPConnection(scope).headers.get("content-type", "").encode()
    return media.split(b";", 1)[0].strip().lower() == b"application/json"


async def _answer(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class McpEndpoint:
    """The ASGI endpoint at ``/mcp``: a Bearer token of a reader (listing) or operator
    (calling), then the SDK's streamable-HTTP transport, one stateless exchange per request;
    a cancel is answered here (the SDK's session of that exchange knows no call to cancel)."""

    def __init__(self, version: str) -> None:
        self.in_flight = InFlight()
        server = mcp_server(lambda request: request.app.state.runtime, self.in_flight, version)
        self.manager = StreamableHTTPSessionManager(server, stateless=True)
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.shared: SharedCalls | None = None

    async def start(self, runtime: Runtime) -> None:
        """Start the transport's task group (an app start-up hook), and with several replicas
        possible (a Redis bus), the list of every replica's calls for cancels.

        The group lives in a task of its own: its cancel scope must be left by the task that
        entered it, and a lifespan may start and stop in different tasks (test fixtures do).
        """
        running = asyncio.Event()

        async def serve() -> None:
            async with self.manager.run():
                running.set()
                await self._stopping.wait()

        self._task = asyncio.create_task(serve(), name="mcp-transport")
        started = asyncio.ensure_future(running.wait())
        await asyncio.wait({started, self._task}, return_when=asyncio.FIRST_COMPLETED)
        started.cancel()
        if self._task.done():
            self._task.result()  # it failed to start: raise that here
        if runtime.notices is not None:
            self.shared = SharedCalls(
                runtime, runtime.notices.client, runtime.notices, self.in_flight
            )
            self.shared.start()

    async def stop(self, _runtime: Runtime) -> None:
        """Stop it (an app shut-down hook)."""
        if self.shared is not None:
            await self.shared.stop()
        self._stopping.set()
        if self._task is not None:
            await self._task

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            principal = await bearer.reader(HTTPConnection(scope))
        except ApiError as exc:
            await bearer.refusal(exc)(scope, receive, send)
            return
        scope[PRINCIPAL_KEY] = principal
        if scope["method"] != "POST":
            # Stateless: no stream for the server's own messages (a GET held one open that
            # nothing could ever be sent on), no session to end (DELETE). MCP allows 405 for
            # both; the Allow header is HTTP's (RFC 9110, 15.5.6).
            await _answer(send, 405, b"", [(b"allow", b"POST")])
            return
        if not _json_body(scope):  # the SDK's 415 is never reached: its guard says 400 first
            status, content = error_answer(
                None, types.INVALID_REQUEST, "content-type: must be application/json"
            )
            await _answer(send, 415, content, [(b"content-type", b"application/json")])
            return
        body = await read_body(receive)
        if body is None:
            return  # the client went away
        try:
            parsed: Any = parse_json(body)
        except ValueError:
            parsed = None  # the SDK answers it (-32700)
        else:
            refused = framing_refusal(parsed)
            if refused is not None:
                status, content = refused
                await _answer(send, status, content, [(b"content-type", b"application/json")])
                return
        cancel = cancellation(parsed)
        if cancel is not None:
            await self._cancel(HTTPConnection(scope).app.state.runtime, principal, cancel)
            await _answer(send, 202, b"", [])
            return  # accepted, as the SDK answers a notification
        await self.manager.handle_request(scope, replaying(body, receive), send)

    async def _cancel(
        self, runtime: Runtime, principal: Principal, cancel: types.CancelledNotificationParams
    ) -> None:
        """Cancel the run of the caller's in-flight call ``cancel.requestId``, if there is one
        (the caller started it: its authority to cancel it is the same), on any replica."""
        if cancel.requestId is None:
            return
        reason = f"cancelled by MCP client: {(cancel.reason or 'no reason given')[:200]}"
        await self.in_flight.cancel(runtime, principal, cancel.requestId, reason)
