"""What the client raises: one exception per kind of answer, each carrying the API's error body."""

from __future__ import annotations

from typing import Any


class ModxError(Exception):
    """An answer the call could not use: ``status`` (0 when the server was never reached),
    the API's error ``code`` and ``message``, and its ``details`` (the fields at fault)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}" if status else message)
        self.status, self.code, self.message, self.details = status, code, message, details
        self.retry_after = retry_after


class Unreachable(ModxError):
    """No answer: the server is down, the URL is wrong, or the connection broke."""


class InvalidRequest(ModxError):
    """400 or 422: ``details`` names each field at fault with its JSON path."""


class Unauthorized(ModxError):
    """401: no token, or a token the server refused."""


class Forbidden(ModxError):
    """403: the token is valid but its role or tenant may not do this."""


class NotFound(ModxError):
    """404: no such run, workflow or agent (in this tenant)."""


class Conflict(ModxError):
    """409: the run is in a state that refuses this (already finished, no step waits...)."""


class RateLimited(ModxError):
    """429: too many requests; ``retry_after`` says when to try again."""


class Unavailable(ModxError):
    """5xx: the server or one of its dependencies is down for now."""


_BY_STATUS: dict[int, type[ModxError]] = {
    400: InvalidRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: InvalidRequest,
    422: InvalidRequest,
    429: RateLimited,
}


def error_for(status: int, body: Any, retry_after: str | None = None) -> ModxError:
    """The exception for an error answer, from its status and the API's ``{"error": ...}`` body."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        error = {"message": str(body)[:500] if body else f"HTTP {status}"}
    kind = _BY_STATUS.get(status, Unavailable if status >= 500 else ModxError)
    try:
        wait = float(retry_after) if retry_after is not None else None
    except ValueError:
        wait = None
    return kind(
        status,
        str(error.get("code", "error")),
        str(error.get("message", "")),
        error.get("details"),
        wait,
    )


MAX_CAUSES = 32  # an error's chain is built by MODX; this only bounds a hostile one


def error_text(error: Any) -> str:
    """A run's or step's error as one line: the message of each cause, outermost first, then
    the innermost code (``step price failed: price[0] failed: we do not sell caviar
    (unknown_item)``). A run's error names only the step that failed at its top; the reason is
    at the bottom of its ``cause`` chain, where a sub-workflow's or a fan-out's error puts it."""
    if not isinstance(error, dict):
        return "failed" if error is None else str(error)
    messages: list[str] = []
    code: str | None = None
    for _ in range(MAX_CAUSES):
        message = error.get("message")
        if isinstance(message, str) and message and message not in messages:
            messages.append(message)
        if isinstance(error.get("code"), str):
            code = error["code"]
        cause = error.get("cause")
        if not isinstance(cause, dict):
            break
        error = cause
    text = ": ".join(messages) or "failed"
    return f"{text} ({code})" if code and code not in text else text
