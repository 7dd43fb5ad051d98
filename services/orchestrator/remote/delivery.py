"""The interface between the remote dispatcher and one transport (HTTP, MCP, A2A...).

A transport module implements ``Delivery``: it hands one task to one agent and answers it
through the ``Reply`` it is given. What can go wrong on the way is a ``DeliveryFailed`` with a
code, a message the run may show, and whether another attempt may help; the dispatcher turns it
into the step's error. Anything else that escapes is either an outage of the database or the bus
(the task is tried again once it is over) or a bug (the step gets a generic error).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol

from bus.envelope import Envelope
from services.db.models import AgentRow
from services.orchestrator.remote.answers import (
    answer_envelope,
    heartbeat_envelope,
    progress_envelope,
    question_envelope,
    started_envelope,
)


class DeliveryFailed(Exception):
    """The task could not be handed to the agent, or the agent's answer was not usable."""

    def __init__(self, code: str, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable


class Reply:
    """How a delivery answers its task: the step started, the agent's answer, its question,
    or an exchange with the peer worth showing in the run's trace."""

    def __init__(
        self, task: Envelope, agent_id: str, publish: Callable[[Envelope], Awaitable[None]]
    ) -> None:
        self.task = task
        self.agent_id = agent_id
        self._publish = publish
        self.resumed = False
        """Set before the delivery is cancelled when the task sent after it follows the same
        remote work: it stops without telling the peer to cancel that work."""

    async def started(
        self,
        at: datetime,
        exchange: dict[str, Any] | None = None,
        conversation: dict[str, Any] | None = None,
    ) -> None:
        """The agent accepted the task at ``at``: the step is running (its answer comes later).
        ``exchange``: the request in the peer's protocol, for the run's trace;
        ``conversation``: the remote task the peer made for it (the step keeps it, so that the
        task sent again follows it instead of making another)."""
        await self._publish(started_envelope(self.task, self.agent_id, at, exchange, conversation))

    async def heartbeat(self) -> None:
        """The delivery still follows the agent's work (``heartbeat_timeout_s`` applies)."""
        await self._publish(heartbeat_envelope(self.task, self.agent_id))

    async def progress(self, message: str, data: Any = None) -> None:
        """The agent reports progress (a ``step.progress`` event of the run)."""
        await self._publish(progress_envelope(self.task, self.agent_id, message, data))

    async def answer(
        self,
        body: Any,
        started_at: datetime | None = None,
        exchange: dict[str, Any] | None = None,
    ) -> None:
        """The agent's answer: ``{"output": …}`` or ``{"error": {"message", …}}``;
        ``exchange``: the response in the peer's protocol, for the run's trace."""
        await self._publish(answer_envelope(self.task, self.agent_id, body, started_at, exchange))

    async def asks(self, question: dict[str, Any], conversation: dict[str, Any]) -> None:
        """The agent asks ``question`` (``{"text", "data"}``) before it goes on: the step waits
        for the answer, which comes back as a task whose ``schema`` is
        ``conversation.TASK_INPUT`` with ``{"answer", "conversation"}``."""
        await self._publish(question_envelope(self.task, self.agent_id, question, conversation))


class Delivery(Protocol):
    """One transport's way of handing a task to a remote agent."""

    async def deliver(self, agent: AgentRow, task: Envelope, reply: Reply) -> None:
        """Hand ``task`` to ``agent`` and answer it through ``reply`` (or raise
        ``DeliveryFailed``). Cancelled when the task is no longer needed (its run was
        cancelled, it was superseded): tell the peer if the protocol can, unless
        ``reply.resumed`` (another delivery follows the same remote work), then re-raise."""
        ...

    async def close(self) -> None:
        """Release connections and processes."""
        ...
