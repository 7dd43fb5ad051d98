"""``POST /v1/agents/mcp``: an MCP server becomes a MODX agent, each tool a capability.

MODX starts the server (a command, over stdio) or connects to it (a streamable-HTTP URL),
initializes, lists its tools, and registers an agent with ``transport: "mcp"`` whose
capabilities are ``mcp.<name>.<tool>``, with the tools' schemas and descriptions. Whatever
stops that (a command that does not start or exits at once, a URL that does not answer or that
egress refuses, a server none of whose tools has a usable schema) is a 422 naming the field;
tools whose schema is not a JSON Schema are left out and listed in ``rejected_tools``.

A command runs on the server, as the server's user: only a system admin may register one
(docs/interop.md, "Security"). A URL is open to whoever may register agents.
"""

from __future__ import annotations

import logging
from typing import Any

import mcp.types as types
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from services import metrics
from services.api.deps import RegistrarDep, RuntimeDep, WriteSessionDep
from services.api.errors import ApiError
from services.auth import Principal
from services.db.models import SYSTEM_TENANT
from services.egress import EgressRefused
from services.interop.mcp_client import McpConnection, McpStartFailed, list_all_tools, tool_problems
from services.orchestrator.remote.mcp import TRANSPORT, McpDelivery
from services.registry import store
from services.registry.identity import RegistrationRefused
from services.registry.schemas import AgentCard, CapabilitySpec, McpServer
from services.runtime import Runtime

router = APIRouter(prefix="/v1", tags=["agents"])
log = logging.getLogger(__name__)


class McpRegistration(McpServer):
    """An MCP server to register: how to reach it, and the agent's name."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", max_length=100)
    """The agent's name; its capabilities are ``mcp.<name>.<tool>``."""
    description: str = Field(default="", max_length=4000)
    shared: bool = False
    """Serve every tenant (system tenant only, as for any agent)."""


class RejectedTool(BaseModel):
    """A tool of the server that is not registered, and why."""

    name: str
    reason: str


class McpRegistered(BaseModel):
    """The agent an MCP server became."""

    agent_id: str
    name: str
    location: str
    server: dict[str, Any]
    """The server's own name and version (from ``initialize``)."""
    capabilities: list[str]
    rejected_tools: list[RejectedTool] = []
    """Tools that did not become capabilities (a schema that is no JSON Schema...), and why."""


def _refuse(field: str, message: str, status: int = 422, code: str = "invalid_request") -> ApiError:
    path = f"$.{field}"
    return ApiError(
        status, code, f"{path}: {message}", [{"path": path, "in": "body", "message": message}]
    )


@router.post("/agents/mcp", status_code=201, response_model=McpRegistered)
async def register_mcp(
    body: McpRegistration, principal: RegistrarDep, runtime: RuntimeDep, session: WriteSessionDep
) -> McpRegistered:
    """Register an MCP server (``command`` for stdio, or ``url``) as an agent of the caller's
    tenant; a command needs a system admin token."""
    if body.command is not None and not principal.is_system:
        raise ApiError(
            403,
            "forbidden",
            "a stdio MCP server runs a command on the MODX server: this needs a system admin "
            "token (register a URL otherwise)",
        )
    field = "command" if body.command is not None else "url"
    server = McpServer.model_validate(body.model_dump(include=set(McpServer.model_fields)))
    if server.url is not None:
        try:
            await runtime.egress.check_url(server.url)
        except EgressRefused as exc:
            raise _refuse("url", str(exc)) from None
    connection = McpConnection(
        server, runtime.egress, timeout_s=runtime.settings.mcp_start_timeout_s
    )
    try:
        info = await connection.start()
    except McpStartFailed as exc:
        raise _refuse(field, f"the MCP server could not be used: {exc}") from None
    try:
        assert connection.session is not None
        tools = await list_all_tools(connection.session)
        agent_id, rejected = await _register(body, server, tools, principal, runtime, session)
    except BaseException:
        await connection.close()
        raise
    delivery = runtime.remote.deliveries.get(TRANSPORT)
    if isinstance(delivery, McpDelivery):
        delivery.adopt(agent_id, connection)  # the first step needs no second start
    else:
        await connection.close()
    metrics.AGENTS_REGISTERED.inc()
    return McpRegistered(
        agent_id=agent_id,
        name=body.name,
        location=server.location,
        server={"name": info.serverInfo.name, "version": info.serverInfo.version},
        capabilities=[
            f"mcp.{body.name}.{tool.name}"
            for tool in tools
            if tool.name not in {r.name for r in rejected}
        ],
        rejected_tools=rejected,
    )


async def _register(
    body: McpRegistration,
    server: McpServer,
    tools: list[types.Tool],
    principal: Principal,
    runtime: Runtime,
    session: AsyncSession,
) -> tuple[str, list[RejectedTool]]:
    """Register the server's usable tools; the others are returned with why. A server none of
    whose tools is usable is refused (422 naming the first problem)."""
    problems = tool_problems(tools)
    rejected: dict[str, RejectedTool] = {}
    for problem in problems:
        reason = f"$.tools.{problem.tool}.{problem.path}: {problem.message}"
        rejected.setdefault(problem.tool, RejectedTool(name=problem.tool, reason=reason))
    usable = [tool for tool in tools if tool.name not in rejected]
    if problems and not usable:
        first = problems[0]
        raise _refuse(
            f"tools.{first.tool}.{first.path}",
            f"tool {first.tool!r}: {first.message}",
        )
    if not tools:
        raise _refuse("command" if server.command else "url", "the MCP server lists no tools")
    tools = usable
    shared = body.shared and (principal.is_system or principal.tenant == SYSTEM_TENANT)
    card = AgentCard(
        name=body.name,
        description=body.description,
        transport=TRANSPORT,
        endpoint=server.url,
        mcp=server,
        capabilities=[
            CapabilitySpec(
                name=f"mcp.{body.name}.{tool.name}",
                description=(tool.description or tool.title or tool.name)[:4000],
                input_schema=tool.inputSchema,
                output_schema=tool.outputSchema or {},
                shared=shared,
            )
            for tool in tools
        ],
    )
    async with session.begin():
        try:
            agent, _ = await store.enroll(session, card, principal.tenant, runtime.settings)
        except RegistrationRefused as exc:
            raise _refuse(exc.field or "name", exc.message, exc.status, exc.code) from None
    runtime.orchestrator.engine.router.invalidate()
    runtime.orchestrator.authenticator.forget(agent.id)
    log.info(
        "MCP server %s registered as agent %s (%d tools)", server.location, agent.id, len(tools)
    )
    return agent.id, list(rejected.values())
