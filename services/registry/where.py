"""What protocol an agent speaks and where it lives, as the API and the dashboard show it."""

from __future__ import annotations

from typing import Any

from services.registry.schemas import McpServer

PROTOCOLS = {"bus": "bus", "gateway": "bus", "http": "HTTP", "mcp": "MCP", "a2a": "A2A"}
_ON_BUS = {"bus": "the MODX bus", "gateway": "the API's agent gateway (WebSocket)"}


def protocol(transport: str) -> str:
    """``bus``, ``HTTP``, ``MCP`` or ``A2A`` (a gateway agent reads the bus through the API)."""
    return PROTOCOLS.get(transport, transport)


def location(transport: str, endpoint: str | None, card: dict[str, Any] | None) -> str:
    """Where the agent is reached: its URL, ``stdio: <command>`` for an MCP server that MODX
    starts, or the bus (or the gateway) for agents that read tasks themselves."""
    mcp = (card or {}).get("mcp")
    if isinstance(mcp, dict) and mcp.get("command"):
        return McpServer.model_validate(mcp).location
    if endpoint:
        return endpoint
    return _ON_BUS.get(transport, "unknown")
