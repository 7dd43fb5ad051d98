"""Errors of the model-serving package: one root, named control-flow exceptions for callers.

Every error says whether retrying the same request later can succeed (``retryable``), and
``to_dict()`` gives a JSON-safe form that a step can record as its failure.
"""

from __future__ import annotations

from typing import Any


class ModelError(Exception):
    """Root of every error raised by ``agents.models``."""

    code: str = "model_error"
    retryable: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The error as JSON-safe data: ``code``, ``message``, ``retryable`` and details."""
        return {"code": self.code, "message": str(self), "retryable": self.retryable}


class Overloaded(ModelError, RuntimeError):
    """The server's queue is full; retry after ``retry_after_s`` seconds."""

    code = "overloaded"
    retryable = True

    def __init__(self, retry_after_s: float, *, queue_depth: int = 0) -> None:
        super().__init__(
            f"model server overloaded ({queue_depth} queued); retry in {retry_after_s:.2f}s"
        )
        self.retry_after_s = retry_after_s
        self.queue_depth = queue_depth

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "retry_after_s": self.retry_after_s}


class RequestTooLarge(ModelError, ValueError):
    """One request holds more items than the server's whole queue: retrying cannot help."""

    code = "request_too_large"


class NotReady(ModelError, RuntimeError):
    """The server has not loaded its model yet, failed to load it, or is stopping."""

    code = "not_ready"
    retryable = True


class BackendError(ModelError, RuntimeError):
    """The backend broke its contract (e.g. returned the wrong number of outputs)."""

    code = "backend_error"


class ChatError(ModelError):
    """Root of the LLM gateway client's errors; ``attempts`` counts the HTTP calls made."""

    code = "chat_error"

    def __init__(self, message: str, *, attempts: int = 0, status: int | None = None) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.status = status

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "attempts": self.attempts, "status": self.status}


class ChatTimeout(ChatError, TimeoutError):
    """The gateway did not answer within the timeout; the call was not retried here."""

    code = "chat_timeout"
    retryable = True


class ChatUnavailable(ChatError, ConnectionError):
    """Connection errors or 5xx answers persisted through every retry."""

    code = "chat_unavailable"
    retryable = True


class ChatRateLimited(ChatError):
    """The gateway kept answering 429, or asked to wait longer than we may sleep."""

    code = "chat_rate_limited"
    retryable = True

    def __init__(
        self, message: str, *, attempts: int = 0, retry_after_s: float | None = None
    ) -> None:
        super().__init__(message, attempts=attempts, status=429)
        self.retry_after_s = retry_after_s

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "retry_after_s": self.retry_after_s}


class ChatRejected(ChatError, ValueError):
    """The gateway refused the request (a 4xx other than 429): fix the request, do not retry."""

    code = "chat_rejected"


class ChatProtocolError(ChatError):
    """The gateway answered 200 with a body that is not an OpenAI chat completion."""

    code = "chat_protocol_error"


class SchemaValidationFailed(ChatError, ValueError):
    """The reply did not match the JSON schema, even after one repair round trip."""

    code = "schema_validation_failed"

    def __init__(
        self,
        message: str,
        *,
        errors: list[str],
        content: str,
        attempts: int = 0,
        usage: dict[str, int] | None = None,
    ) -> None:
        super().__init__(message, attempts=attempts)
        self.errors = errors
        self.content = content
        self.usage = usage or {}

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "errors": self.errors, "usage": self.usage}
