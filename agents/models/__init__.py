"""Model serving: a micro-batching server, an HTTP helper, an LLM gateway client.

The embedding model lives in :mod:`agents.models.embedding`, which is not imported here because
it needs the ``serving`` extra (``pip install "modx[serving]"``).
"""

from agents.models.backends import Backend, ThreadedBackend
from agents.models.chat import (
    ChatClient,
    ChatMessage,
    ChatRequest,
    ChatResult,
    LLMSettings,
    Usage,
)
from agents.models.errors import (
    BackendError,
    ChatError,
    ChatProtocolError,
    ChatRateLimited,
    ChatRejected,
    ChatTimeout,
    ChatUnavailable,
    ModelError,
    NotReady,
    Overloaded,
    RequestTooLarge,
    SchemaValidationFailed,
)
from agents.models.http import create_model_router
from agents.models.metrics import ServingMetrics
from agents.models.serving import ModelServer, ServerHealth, retry_after_header

__all__ = [
    "Backend",
    "BackendError",
    "ChatClient",
    "ChatError",
    "ChatMessage",
    "ChatProtocolError",
    "ChatRateLimited",
    "ChatRejected",
    "ChatRequest",
    "ChatResult",
    "ChatTimeout",
    "ChatUnavailable",
    "LLMSettings",
    "ModelError",
    "ModelServer",
    "NotReady",
    "Overloaded",
    "RequestTooLarge",
    "SchemaValidationFailed",
    "ServerHealth",
    "ServingMetrics",
    "ThreadedBackend",
    "Usage",
    "create_model_router",
    "retry_after_header",
]
