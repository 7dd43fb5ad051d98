"""The agent gateway: agents that do not reach the bus get their tasks over a WebSocket.

An agent behind NAT, another vendor's agent, or any agent of an embedded server (whose bus is
in-process) connects to ``/v1/agents/{agent_id}/gateway`` with its agent token. The server
consumes the agent's task streams on its behalf, with the bus's own delivery rules, forwards
each task over the connection, and publishes the agent's answers to ``modx.results`` with the
sender stamped from the connection. The wire protocol is in docs/protocol.md ("Gateway").
"""

from services.gateway.session import GatewaySession, ProtocolError
from services.gateway.stamp import on_behalf_of

__all__ = ["GatewaySession", "ProtocolError", "on_behalf_of"]
