"""Remote agents: those the orchestrator calls (HTTP, MCP, A2A), one module per transport."""

from services.orchestrator.remote.answers import answer_envelope, error_envelope, started_envelope
from services.orchestrator.remote.delivery import Delivery, DeliveryFailed, Reply
from services.orchestrator.remote.dispatch import RemoteDispatcher

__all__ = [
    "Delivery",
    "DeliveryFailed",
    "RemoteDispatcher",
    "Reply",
    "answer_envelope",
    "error_envelope",
    "started_envelope",
]
