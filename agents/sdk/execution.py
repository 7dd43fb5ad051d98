"""Running one task: validate the payload, call the handler, and turn what happens into an outcome.

This is the part every way of serving a capability shares (the bus runtime, the HTTP agent,
the test environment). It never raises for a failed task: every failure becomes a structured
error with a ``retryable`` verdict, so the caller only has to deliver the answer.

| what happened                              | code                  | retryable |
|--------------------------------------------|-----------------------|-----------|
| payload does not match the input model     | ``invalid_input``     | no        |
| handler raised ``FatalError``              | its code              | no        |
| handler raised ``RetryableError``          | its code              | yes       |
| the task deadline passed while running     | ``deadline_exceeded`` | yes       |
| return value does not match the output type| ``invalid_output``    | no        |
| any other exception                        | ``internal_error``    | yes       |

"Any other exception" honours a ``retryable: bool`` and ``code: str`` on the exception when it
has them (as ``agents.models`` errors do), so libraries can classify their own failures.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from pydantic_core import to_jsonable_python

from agents.sdk.context import Emit, TaskContext
from agents.sdk.definition import CapabilityDefinition
from agents.sdk.errors import TaskError
from bus.envelope import Envelope

logger = logging.getLogger("agents.sdk")


@dataclass(frozen=True)
class TaskFailure:
    """A structured task error, as sent in ``payload.error``."""

    code: str
    message: str
    retryable: bool
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The error object of the protocol: ``code``, ``message``, ``retryable``, ``details``."""
        return {
            "code": self.code,
            "message": self.message,
            "retryable": self.retryable,
            "details": self.details,
        }


@dataclass(frozen=True)
class Outcome:
    """How a task ended: an output (with optional usage) or a failure."""

    output: Any = None
    usage: dict[str, float] | None = None
    failure: TaskFailure | None = None
    started_at: datetime | None = None
    """Set when the start was not announced with ``task.started``."""

    @property
    def ok(self) -> bool:
        """True when the task succeeded."""
        return self.failure is None

    def body(self) -> dict[str, Any]:
        """The answer body: ``{"output", "usage"?}`` or ``{"error": {...}}``."""
        body: dict[str, Any]
        if self.failure is not None:
            body = {"error": self.failure.to_dict()}
        else:
            body = {"output": self.output}
            if self.usage:
                body["usage"] = self.usage
        if self.started_at is not None:
            body["started_at"] = self.started_at.isoformat()
        return body


def unknown_capability(name: str, known: list[str]) -> Outcome:
    """The outcome for a task naming a capability this agent does not serve."""
    return Outcome(
        failure=TaskFailure(
            code="unknown_capability",
            message=f"this agent does not serve capability {name!r}",
            retryable=False,
            details={"capabilities": sorted(known)},
        )
    )


async def execute(
    definition: CapabilityDefinition, task: Envelope, agent_id: str, emit: Emit | None = None
) -> Outcome:
    """Run ``task`` with ``definition``'s handler and return how it ended.

    Args:
        definition: The capability to run.
        task: The task envelope; its ``payload`` is the input.
        agent_id: This agent's id (for the context and the logs).
        emit: Sends the handler's heartbeats and progress (None: they go nowhere).

    Returns:
        The outcome. Cancellation propagates (the task was not answered and will be redelivered).
    """
    ids = {
        "task_id": task.id,
        "run_id": task.run_id,
        "step_id": task.step_id,
        "capability": definition.name,
    }
    log = logging.LoggerAdapter(logger, ids)
    try:
        value = definition.input_adapter.validate_python(task.payload)
    except ValidationError as exc:
        return Outcome(failure=_invalid("invalid_input", "input", definition.name, exc))
    context = TaskContext(
        task_id=task.id,
        capability=definition.name,
        agent_id=agent_id,
        run_id=task.run_id,
        step_id=task.step_id,
        attempt=task.attempt,
        deadline=task.deadline,
        correlation_id=task.correlation_id,
        traceparent=task.traceparent,
        logger=log,
        _emit=emit,
    )
    left = context.time_left()
    if left is not None and left <= 0:
        return _deadline_exceeded(definition.name, task)
    deadline = _Deadline(left)
    try:
        result = await definition.call(value, context)
    except TaskError as exc:
        log.warning("task failed (%s, retryable=%s): %s", exc.code, exc.retryable, exc.message)
        # Details come from handler code: make them JSON-safe, or the answer could not be sent.
        details = to_jsonable_python(exc.details, fallback=repr)
        return Outcome(failure=TaskFailure(exc.code, exc.message, exc.retryable, details))
    except asyncio.CancelledError:
        if not deadline.expired():  # cancelled from outside: the task is not answered
            raise
        return _deadline_exceeded(definition.name, task)
    except TimeoutError as exc:
        if not deadline.fired:  # the handler's own timeout, not our deadline
            return Outcome(failure=_unexpected(exc, log))
        return _deadline_exceeded(definition.name, task)
    except Exception as exc:
        return Outcome(failure=_unexpected(exc, log))
    finally:
        deadline.cancel()
    try:
        output = definition.output_adapter.dump_python(
            definition.output_adapter.validate_python(result), mode="json"
        )
    except ValidationError as exc:
        # The handler broke its own declared contract: a bug, which the same input repeats.
        return Outcome(failure=_invalid("invalid_output", "output", definition.name, exc))
    return Outcome(output=output, usage=dict(context.usage) or None)


class _Deadline:
    """Cancels the running task ``left`` seconds from now (None: never).

    ``asyncio.timeout`` does the same, but its bookkeeping costs more than a no-op handler.
    """

    __slots__ = ("_handle", "_task", "fired")

    def __init__(self, left: float | None) -> None:
        self.fired = False
        self._task = asyncio.current_task()
        self._handle = (
            None
            if left is None or self._task is None
            else asyncio.get_running_loop().call_later(left, self._fire)
        )

    def _fire(self) -> None:
        self.fired = True
        assert self._task is not None
        self._task.cancel()

    def expired(self) -> bool:
        """True when this deadline's cancellation, and no other, stopped the handler."""
        return self.fired and self._task is not None and self._task.uncancel() == 0

    def cancel(self) -> None:
        """Disarm (the handler ended first)."""
        if self._handle is not None:
            self._handle.cancel()


def _deadline_exceeded(capability: str, task: Envelope) -> Outcome:
    # Retryable: the next attempt gets a fresh deadline, and the step's policy bounds retries.
    return Outcome(
        failure=TaskFailure(
            "deadline_exceeded",
            f"capability {capability!r} did not finish before the task deadline",
            retryable=True,
            details={"deadline": task.deadline.isoformat() if task.deadline else None},
        )
    )


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    """The errors of ``exc`` as JSON-safe ``{field, message, type}`` (no input values)."""
    return [
        {
            "field": ".".join(str(part) for part in err["loc"]) or "(root)",
            "message": err["msg"],
            "type": err["type"],
        }
        for err in exc.errors(include_url=False, include_input=False)
    ]


def _invalid(code: str, what: str, capability: str, exc: ValidationError) -> TaskFailure:
    errors = field_errors(exc)
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return TaskFailure(
        code=code,
        message=f"invalid {what} for capability {capability!r}: {summary}{more}",
        retryable=False,
        details={"errors": errors},
    )


def _unexpected(exc: Exception, log: logging.LoggerAdapter[logging.Logger]) -> TaskFailure:
    log.exception("handler raised %s", type(exc).__name__)
    retryable = getattr(exc, "retryable", True)
    code = getattr(exc, "code", None)
    return TaskFailure(
        code=code if isinstance(code, str) and code else "internal_error",
        message=str(exc) or type(exc).__name__,
        retryable=retryable if isinstance(retryable, bool) else True,
        details={"exception": type(exc).__name__},
    )
