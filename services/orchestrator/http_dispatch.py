"""Dispatch to HTTP agents: POST the task envelope, turn the answer into a result envelope.

An inline answer (``200 {"output"}`` or ``200 {"error"}``) is published on ``modx.results``
like a bus agent's, so one code path records every result. ``202`` means the agent reports
later through ``POST /v1/tasks/{id}/result``.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bus import streams
from bus.envelope import Envelope, Kind
from bus.transport import Transport
from services.db.models import AgentRow
from services.egress import EgressPolicy, EgressRefused, GuardedTransport
from services.json_checks import parse_json, value_problem

log = logging.getLogger(__name__)

RETRY_STATUS = {429, 502, 503, 504}
UNREACHABLE = "the agent could not be reached"


class _TooLarge(Exception):
    """A reply past the size limit."""


@dataclass(frozen=True)
class _Failure:
    code: str
    message: str
    retryable: bool


def _answer(body: bytes) -> Any:
    """An agent's 200 body, or a bad answer when it is not JSON MODX can keep (``NaN``, NUL
    bytes, lone surrogates...: the same rules as the API's)."""
    try:
        parsed = parse_json(body)
    except ValueError:
        return None
    problem = value_problem(parsed)
    if problem is not None:
        path, reason = problem
        return {"error": {"code": "bad_answer", "message": f"{path}: {reason}"}}
    return parsed


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
    """POSTs tasks to HTTP agents with retries and timeouts, in background tasks.

    Connections go only to addresses ``egress`` allows (``services.egress``). What reaches the
    run is generic ("the agent could not be reached", "the agent answered 500"): the detail of
    a failure stays in the server's log, so a step's error cannot be used to map the network.
    A reply is read up to ``max_reply_bytes``.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transport: Transport,
        timeout_s: float = 30.0,
        attempts: int = 3,
        *,
        egress: EgressPolicy | None = None,
        max_reply_bytes: int = 4 * 1024 * 1024,
    ) -> None:
        self.sessions = sessions
        self.transport = transport
        self.attempts = attempts
        self.max_reply_bytes = max_reply_bytes
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=5.0),
            transport=GuardedTransport(egress or EgressPolicy()),
            trust_env=False,  # a proxy from the environment would connect past the check
            follow_redirects=False,
        )
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
        failure = _Failure("dispatch_failed", UNREACHABLE, True)
        for attempt in range(1, self.attempts + 1):
            try:
                status, body = await self._post(agent.endpoint, envelope)
            except httpx.TimeoutException:
                log.warning("task %s: POST to agent %s timed out", envelope.id, agent_id)
                failure = _Failure("dispatch_failed", "the agent did not answer in time", True)
                break  # the agent may be working on it; the step's own timeout decides what next
            except (httpx.HTTPError, EgressRefused) as exc:
                log.warning(
                    "task %s: POST to agent %s at %s failed: %r",
                    envelope.id,
                    agent_id,
                    agent.endpoint,
                    exc,
                )
                failure = _Failure("dispatch_failed", UNREACHABLE, True)
            except _TooLarge:
                message = f"the agent's answer is larger than {self.max_reply_bytes} bytes"
                failure = _Failure("answer_too_large", message, False)
                break
            else:
                if status == 202:
                    return
                if status == 200:
                    await self._publish(answer_envelope(envelope, agent_id, _answer(body)))
                    return
                log.warning("task %s: agent %s answered %s", envelope.id, agent_id, status)
                failure = _Failure("dispatch_failed", f"the agent answered {status}", True)
                if status not in RETRY_STATUS and status < 500:
                    failure = _Failure("dispatch_rejected", failure.message, False)
                    break
            await asyncio.sleep(min(2.0, 0.1 * 2**attempt) * (0.5 + random.random()))
        await self._publish(
            self._error(envelope, failure.code, failure.message, failure.retryable, agent_id)
        )

    async def _post(self, endpoint: str, envelope: Envelope) -> tuple[int, bytes]:
        """POST the task; the status and the body, read up to ``max_reply_bytes``."""
        async with self.client.stream(
            "POST",
            endpoint,
            content=envelope.to_json(),
            headers={"content-type": "application/json"},
        ) as response:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_reply_bytes:
                raise _TooLarge
            body = bytearray()
            async for chunk in response.aiter_bytes():  # decoded: a small gzip can be big
                body += chunk
                if len(body) > self.max_reply_bytes:
                    raise _TooLarge
            return response.status_code, bytes(body)

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
