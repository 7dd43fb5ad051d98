"""MCP servers as MODX agents: a supervised client session to one server, and its tools as
capabilities.

A ``McpConnection`` holds one ``ClientSession`` to a server, either a child process MODX starts
(stdio) or a streamable-HTTP URL, inside a task of its own (the SDK's transports are anyio
context managers: entered and left in one task). It pings the server every ``ping_s`` seconds;
when the process dies or the URL stops answering, the connection ends, and whoever holds it
(``services.orchestrator.remote.mcp``) starts a new one. Calls in flight when it ends fail, and
their steps are retried under their retry policy.

URLs go through the egress policy (``services.egress``), checked at every connection. Each message
a server sends by URL is bounded (``MAX_MESSAGE_BYTES``): a JSON answer, or one event of an
event stream (the session may keep one open for its whole life, so a total per response would
cut it). A message past the bound ends the connection, and the calls in flight on it fail with
``MessageTooLarge`` (the SDK itself would drop the error and leave them waiting).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import IO, Any

import httpx
import mcp.types as types
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, get_default_environment, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import McpError

from agents.sdk.json_schema import SchemaRefused, check_schema
from services.egress import EgressPolicy, GuardedTransport, ResponseTooLarge
from services.orchestrator.definitions import CAPABILITY_PATTERN
from services.registry.schemas import McpServer

log = logging.getLogger(__name__)

STDERR_TAIL = 2000
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
"""The most one message of an MCP server by URL may bring (a JSON answer, or one event)."""


class MessageTooLarge(Exception):
    """The server sent a message past ``MAX_MESSAGE_BYTES``: the connection ended, and the calls
    in flight on it failed."""


class McpStartFailed(Exception):
    """The server did not start, or did not answer ``initialize``: says why, for the caller."""


@dataclass(frozen=True)
class ToolProblem:
    """A tool that cannot become a capability, and why."""

    tool: str
    path: str
    message: str


class McpConnection:
    """One client session to one MCP server, kept in a task of its own."""

    def __init__(
        self,
        server: McpServer,
        egress: EgressPolicy,
        *,
        ping_s: float = 2.0,
        timeout_s: float = 30.0,
    ) -> None:
        self.server = server
        self.egress = egress
        self.ping_s = ping_s
        self.timeout_s = timeout_s
        self.session: ClientSession | None = None
        self.info: types.InitializeResult | None = None
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._error: BaseException | None = None
        self._stderr: IO[str] | None = None
        self.too_large: ResponseTooLarge | None = None
        self._calls: set[asyncio.Future[types.CallToolResult]] = set()

    @property
    def alive(self) -> bool:
        """True while the session is up."""
        return self.session is not None and self._task is not None and not self._task.done()

    async def start(self) -> types.InitializeResult:
        """Start the server (or connect) and initialize; raises ``McpStartFailed``."""
        self._task = asyncio.create_task(self._run(), name=f"mcp {self.server.location}")
        try:
            await asyncio.wait_for(self._ready.wait(), self.timeout_s)
        except TimeoutError:
            why = f"the server did not answer initialize within {self.timeout_s:g} s"
            why += self._stderr_tail()
            await self.close()
            raise McpStartFailed(why) from None
        if self.info is None:
            why = _why(self._error) + self._stderr_tail()
            await self.close()
            raise McpStartFailed(why)
        return self.info

    async def wait_closed(self) -> None:
        """Until the connection has ended (the process died, the URL stopped answering)."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def close(self) -> None:
        """End the session (and stop the process)."""
        self._stop.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), 5.0)
            except (TimeoutError, Exception):
                self._task.cancel()
                await asyncio.gather(self._task, return_exceptions=True)
        if self._stderr is not None:
            self._stderr.close()

    async def call_tool(
        self, name: str, arguments: dict[str, Any], progress_callback: Any = None
    ) -> types.CallToolResult:
        """``tools/call`` on the session.

        Raises:
            MessageTooLarge: The server sent a message past the bound meanwhile.
            McpError: The server answered with an error, or the session closed.
        """
        session = self.session
        if session is None:
            raise McpError(types.ErrorData(code=types.CONNECTION_CLOSED, message="not connected"))
        call = asyncio.ensure_future(
            session.call_tool(name, arguments, progress_callback=progress_callback)
        )
        self._calls.add(call)
        try:
            return await call
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if self.too_large is not None and (task is None or not task.cancelling()):
                raise MessageTooLarge(str(self.too_large)) from None
            raise
        finally:
            self._calls.discard(call)
            call.cancel()

    def _refuse(self, exc: ResponseTooLarge) -> None:
        """A message past the bound was cut: fail the calls in flight, end the connection."""
        self.too_large = exc
        for call in self._calls:
            call.cancel()
        self._stop.set()

    async def _run(self) -> None:
        try:
            async with (
                self._streams() as (read, write),
                ClientSession(read, write) as session,
            ):
                self.info = await session.initialize()
                self.session = session
                self._ready.set()
                while not self._stop.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), self.ping_s)
                        break
                    await asyncio.wait_for(session.send_ping(), self.timeout_s)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # an ExceptionGroup from the SDK's task groups, too
            self._error = exc
            if self.session is not None:
                log.warning("MCP server %s went away: %s", self.server.location, _why(exc))
        finally:
            self.session = None
            self._ready.set()

    @contextlib.asynccontextmanager
    async def _streams(
        self,
    ) -> AsyncIterator[tuple[Any, Any]]:
        if self.server.command is not None:
            # Kept open while the process runs (closed by ``close``): its tail explains a crash.
            self._stderr = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")  # noqa: SIM115
            params = StdioServerParameters(
                command=self.server.command[0],
                args=self.server.command[1:],
                env={**get_default_environment(), **self.server.env},
                cwd=self.server.cwd or tempfile.gettempdir(),
            )
            async with stdio_client(params, errlog=self._stderr) as (read, write):
                yield read, write
            return
        assert self.server.url is not None
        client = httpx.AsyncClient(
            headers=self.server.headers,
            transport=GuardedTransport(
                self.egress, max_message_bytes=MAX_MESSAGE_BYTES, too_large=self._refuse
            ),
            trust_env=False,  # a proxy from the environment would connect past the check
            follow_redirects=False,
            timeout=httpx.Timeout(self.timeout_s, read=300.0),
        )
        async with client, streamable_http_client(self.server.url, http_client=client) as streams:
            yield streams[0], streams[1]

    def _stderr_tail(self) -> str:
        if self._stderr is None or self._stderr.closed:
            return ""
        self._stderr.flush()
        size = self._stderr.seek(0, os.SEEK_END)
        self._stderr.seek(max(0, size - STDERR_TAIL))
        tail = self._stderr.read().strip()
        return f"; its stderr ends: {tail}" if tail else ""


def _why(error: BaseException | None) -> str:
    """A one-line reason from what the SDK raised (often an exception group)."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    if error is None:
        return "the server closed the connection"
    if isinstance(error, FileNotFoundError | PermissionError):
        return f"the command could not be started: {error.strerror}"
    if isinstance(error, httpx.HTTPError | OSError):
        return "the URL did not answer as an MCP server"
    text = str(error) or type(error).__name__
    if "Connection closed" in text:
        return "the server exited before it answered"
    return text


def tool_problems(tools: list[types.Tool]) -> list[ToolProblem]:
    """Tools that cannot be capabilities: a name MODX cannot route, or a schema that is not a
    valid JSON Schema."""
    problems: list[ToolProblem] = []
    for tool in tools:
        if not re.fullmatch(CAPABILITY_PATTERN, f"mcp.x.{tool.name}"):
            problems.append(ToolProblem(tool.name, "name", "not a usable capability name"))
        for field, schema in (
            ("inputSchema", tool.inputSchema),
            ("outputSchema", tool.outputSchema),
        ):
            if schema is None:
                continue
            try:
                check_schema(schema)
            except SchemaRefused as exc:
                problems.append(ToolProblem(tool.name, field + exc.path, exc.message))
    return problems


def next_request_id(session: ClientSession) -> int:
    """The JSON-RPC id the session's next request gets (to name it in a later
    ``notifications/cancelled``).

    The SDK numbers requests 0, 1, 2… in the order they are sent and does not say which id a
    call got, nor cancels a call itself; its public API has no way to ask. So this reads the
    counter, the one place that depends on the SDK's insides:
    ``tests/interop/test_mcp_agents.py`` checks it against the id the server sees. Call it
    right before the request, with no ``await`` between.
    """
    return int(session._request_id)


def progress_of(progress: float, total: float | None, message: str | None) -> tuple[str, Any]:
    """An MCP ``notifications/progress`` as a step's progress: a message for people (the
    server's, or ``3/10``) and ``{"progress", "total"?}`` as data."""
    data: dict[str, Any] = {"progress": progress}
    if total is not None:
        data["total"] = total
    if not message:
        message = f"{progress:g}/{total:g}" if total is not None else f"{progress:g}"
    return message, data


async def list_all_tools(session: ClientSession) -> list[types.Tool]:
    """Every tool the server lists, page by page."""
    tools: list[types.Tool] = []
    cursor: str | None = None
    while True:
        page = await session.list_tools(cursor=cursor)
        tools.extend(page.tools)
        cursor = page.nextCursor
        if not cursor or len(tools) > 500:
            return tools


__all__ = [
    "McpConnection",
    "McpStartFailed",
    "MessageTooLarge",
    "ToolProblem",
    "list_all_tools",
    "next_request_id",
    "progress_of",
    "tool_problems",
]
