"""Dispatch to HTTP agents: POST the task envelope, turn the answer into a result envelope.

An inline answer (``200 {"output"}`` or ``200 {"error"}``) is published on ``modx.results``
like a bus agent's, so one code path records every result. ``202`` means the agent reports
later through ``POST /v1/tasks/{id}/result``.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bus import streams
from bus.envelope import Envelope, Kind
from bus.transport import Transport
from services.db.models import AgentRow

log = logging.getLogger(__name__)

RETRY_STATUS = {429, 502, 503, 504}


def answer_envelope(task: Envelope, sender: str, body: Any) -> Envelope:
    """The result (or error) envelope for an agent's answer body to ``task``."""
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
    return Envelope(
        kind=kind,
        topic=task.topic,
        sender=sender,
        run_id=task.run_id,
        step_id=task.step_id,
        attempt=task.attempt,
        correlation_id=task.correlation_id,
        causation_id=task.id,
        traceparent=task.traceparent,
        payload=payload,
    )


class HttpDispatcher:
    """POSTs tasks to HTTP agents with retries and timeouts, in background tasks."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transport: Transport,
        timeout_s: float = 30.0,
        attempts: int = 3,
    ) -> None:
        self.sessions = sessions
        self.transport = transport
        self.attempts = attempts
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(timeout_s, connect=5.0))
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, agent_id: str, envelope: Envelope) -> None:
        """Start delivering ``envelope`` to the agent; returns at once."""
        task = asyncio.create_task(self._deliver(agent_id, envelope))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Cancel deliveries in flight (their steps time out and retry) and close the client."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.client.aclose()

    async def _deliver(self, agent_id: str, envelope: Envelope) -> None:
        async with self.sessions() as session:
            agent = await session.get(AgentRow, agent_id)
        if agent is None or not agent.endpoint:
            await self._publish(
                self._error(envelope, "agent_gone", f"agent {agent_id} is not registered", True)
            )
            return
        error = "no attempt made"
        for attempt in range(1, self.attempts + 1):
            try:
                response = await self.client.post(
                    agent.endpoint,
                    content=envelope.to_json(),
                    headers={"content-type": "application/json"},
                )
            except httpx.TimeoutException:
                error = f"POST {agent.endpoint} timed out"
                break  # the agent may be working on it; the step's own timeout decides what next
            except httpx.HTTPError as exc:
                error = f"POST {agent.endpoint} failed: {exc!r}"
            else:
                if response.status_code == 202:
                    return
                if response.status_code == 200:
                    try:
                        body = response.json()
                    except ValueError:
                        body = None
                    await self._publish(answer_envelope(envelope, agent_id, body))
                    return
                error = f"POST {agent.endpoint} answered {response.status_code}"
                if response.status_code not in RETRY_STATUS and response.status_code < 500:
                    await self._publish(
                        self._error(envelope, "dispatch_rejected", error, False, agent_id)
                    )
                    return
            await asyncio.sleep(min(2.0, 0.1 * 2**attempt) * (0.5 + random.random()))
        await self._publish(self._error(envelope, "dispatch_failed", error, True, agent_id))

    def _error(
        self, task: Envelope, code: str, message: str, retryable: bool, sender: str = "orchestrator"
    ) -> Envelope:
        return answer_envelope(
            task, sender, {"error": {"code": code, "message": message, "retryable": retryable}}
        )

    async def _publish(self, envelope: Envelope) -> None:
        try:
            await self.transport.publish(streams.RESULTS, envelope)
        except Exception:
            # The step's timeout re-dispatches if this answer is lost.
            log.exception("could not publish the answer of an http agent")
