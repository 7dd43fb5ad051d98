"""Errors of the agent SDK: one root, and the two control-flow errors that handlers raise.

A handler tells the orchestrator whether a failed attempt is worth retrying by what it raises:
``RetryableError`` (the same input may succeed later: a timeout, a busy backend) or
``FatalError`` (it never will: the input is wrong for this capability). Any other exception is
treated as retryable, because an unexpected failure is more often transient than not, and the
step's retry policy still bounds the attempts.
"""

from __future__ import annotations

from typing import Any


class AgentError(Exception):
    """Root of every error raised by ``agents.sdk``."""


class SetupError(AgentError, TypeError):
    """An agent or capability is declared wrongly; raised at decoration or start-up time."""


class LoadError(AgentError, ImportError):
    """``load_agent`` could not find an ``Agent`` at the given ``module:attribute`` path."""


class RequestRejected(AgentError, RuntimeError):
    """The MODX server refused a request with a 4xx answer; sending it again will not help."""

    def __init__(self, message: str, *, status: int, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class ServerUnavailable(AgentError, ConnectionError):
    """The MODX server could not be reached or answered 5xx; a later attempt may succeed."""


class TaskError(AgentError):
    """Base of the errors a handler raises to fail its task with a structured error."""

    retryable: bool = True
    default_code: str = "task_error"

    def __init__(
        self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details = dict(details or {})


class RetryableError(TaskError):
    """The attempt failed, and the same input may succeed on a later attempt."""

    retryable = True
    default_code = "retryable_error"


class FatalError(TaskError):
    """The attempt failed, and retrying the same input cannot succeed."""

    retryable = False
    default_code = "fatal_error"
