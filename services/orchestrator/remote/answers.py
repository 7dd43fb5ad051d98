"""The envelopes a remote agent's answer becomes: a result, an error, a ``task.started``, a
``task.progress``, or a question (``task.input_required``).

Every remote transport (HTTP, MCP, A2A) turns what its peer said into one of these, and the
dispatcher publishes it on ``modx.results`` like a bus agent's answer, so one code path records
every result. The server stamps them with the orchestrator's key; ``sender`` is the agent's id
(a remote agent holds no bus key: its registration says who it is).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bus import streams
from bus.envelope import Envelope, Kind, answer


def started_envelope(
    task: Envelope,
    sender: str,
    started_at: datetime,
    exchange: dict[str, Any] | None = None,
    conversation: dict[str, Any] | None = None,
) -> Envelope:
    """The ``task.started`` event for a task a remote agent accepted: the step runs from now.

    ``exchange``: what was said to the peer in its own protocol (MCP's ``tools/call``...), kept
    in the payload so that the run's trace shows it beside the envelopes. ``conversation``: the
    remote task the peer made for it, recorded on the step at once
    (``services.orchestrator.conversation.following``)."""
    payload: dict[str, Any] = {"capability": task.topic, "started_at": started_at.isoformat()}
    if exchange is not None:
        payload["exchange"] = exchange
    if conversation is not None:
        payload["conversation"] = conversation
    return answer(task, sender, Kind.EVENT, streams.TASK_STARTED, payload)


def heartbeat_envelope(task: Envelope, sender: str) -> Envelope:
    """The ``task.heartbeat`` event of a delivery still following its remote task: the step's
    ``heartbeat_timeout_s`` then measures whether the process that follows it is alive."""
    return answer(task, sender, Kind.EVENT, streams.TASK_HEARTBEAT, {})


def progress_envelope(task: Envelope, sender: str, message: str, data: Any = None) -> Envelope:
    """The ``task.progress`` event for what a remote agent reports while it works (an MCP
    server's ``notifications/progress``): a ``step.progress`` event of the run, as a bus
    agent's ``ctx.progress`` makes."""
    return answer(
        task, sender, Kind.EVENT, streams.TASK_PROGRESS, {"message": message, "data": data}
    )


def answer_envelope(
    task: Envelope,
    sender: str,
    body: Any,
    started_at: datetime | None = None,
    exchange: dict[str, Any] | None = None,
) -> Envelope:
    """The result (or error) envelope for an answer body to ``task``: ``{"output", "usage"?}``
    or ``{"error": {"message", "code"?, "retryable"?}}``; anything else is a ``bad_answer``.

    ``started_at``: when the task was handed to the agent (an agent that answers at once never
    announces a start; without it the step would run for 0 ms).
    """
    payload: dict[str, Any]
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = {"code": "agent_error", "retryable": False, **body["error"]}
        kind, payload = Kind.ERROR, {"error": error}
    elif isinstance(body, dict) and "output" in body:
        kind, payload = Kind.RESULT, {k: body[k] for k in ("output", "usage") if k in body}
    else:
        kind = Kind.ERROR
        payload = {
            "error": {
                "code": "bad_answer",
                "retryable": False,
                "message": 'an agent answers {"output": …} or {"error": {…}}',
            }
        }
    if isinstance(body, dict) and isinstance(body.get("conversation"), dict):
        payload["conversation"] = body["conversation"]  # the remote task's ids, kept on the step
    if started_at is not None:
        payload["started_at"] = started_at.isoformat()
    if exchange is not None:
        payload["exchange"] = exchange
    return answer(task, sender, kind, task.topic, payload)


def question_envelope(
    task: Envelope, sender: str, question: dict[str, Any], conversation: dict[str, Any]
) -> Envelope:
    """The ``task.input_required`` event of a remote agent that asks ``question`` (``{"text",
    "data"}``) before it goes on; ``conversation`` is what its transport needs to send the
    answer to the same remote task (``services.orchestrator.conversation``)."""
    payload = {"question": question, "conversation": conversation}
    return answer(task, sender, Kind.EVENT, streams.TASK_INPUT_REQUIRED, payload)


def error_envelope(
    task: Envelope, code: str, message: str, retryable: bool, sender: str = "orchestrator"
) -> Envelope:
    """An error answer to ``task`` made by MODX itself (the agent was not reached, ...)."""
    body = {"error": {"code": code, "message": message, "retryable": retryable}}
    return answer_envelope(task, sender, body)
