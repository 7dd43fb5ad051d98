"""Dispatch to HTTP agents: POST the task envelope, turn the answer into a result envelope.

An inline answer (``200 {"output"}`` or ``200 {"error"}``) is published on ``modx.results``
like a bus agent's, so one code path records every result: the server stamps it with the
orchestrator's key, its ``sender`` the agent's id (an HTTP agent holds no bus key; its
connection and token say who it is). ``202`` means the agent reports later through
``POST /v1/tasks/{id}/result``.

The body of each POST is the signed task envelope; ``MODX-Signature`` carries the base64
Ed25519 signature of the orchestrator over the body's exact bytes, so the agent can check it
without rebuilding canonical JSON (docs/protocol.md, "Signatures").

Deliveries are bounded: tasks wait in a queue per agent, and at most ``per_agent`` POSTs go to
one agent and ``total`` to all of them at once, so a fan-out of thousands neither exhausts the
connection pool nor the database's. Every task ends in one of three ways: delivered (the
agent's answer, or its error, is published), handed back (to the outbox table, when this
process stops or the database cannot be read: a relay sends it again), or dropped because
nobody needs it any more (its run ended, it was superseded, its deadline passed), which the
step's own state already accounts for.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bus import streams
from bus.envelope import Envelope, Kind
from bus.signing import sign_bytes
from bus.transport import Transport
from services.db.models import AgentRow, OutboxRow, utcnow
from services.egress import EgressPolicy, EgressRefused, GuardedTransport
from services.json_checks import parse_json, value_problem
from services.orchestrator.authenticity import Authenticator
from services.orchestrator.dead import dead_tasks
from services.orchestrator.routing import HTTP_PREFIX
from services.outage import Outage, dependency_of

log = logging.getLogger(__name__)

RETRY_STATUS = {429, 502, 503, 504}
UNREACHABLE = "the agent could not be reached"
SIGNATURE_HEADER = "MODX-Signature"


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


def _started(task: Envelope, sender: str, started_at: datetime) -> Envelope:
    """The ``task.started`` event for a task an HTTP agent accepted (202)."""
    return Envelope(
        kind=Kind.EVENT,
        topic=streams.TASK_STARTED,
        sender=sender,
        run_id=task.run_id,
        step_id=task.step_id,
        attempt=task.attempt,
        correlation_id=task.correlation_id,
        causation_id=task.id,
        traceparent=task.traceparent,
        payload={"capability": task.topic, "started_at": started_at.isoformat()},
    )


def answer_envelope(
    task: Envelope, sender: str, body: Any, started_at: datetime | None = None
) -> Envelope:
    """The result (or error) envelope for an agent's answer body to ``task``.

    ``started_at``: when the task was handed to the agent (an HTTP agent that answers in its
    200 body never announces a start; without it the step would run for 0 ms).
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
    if started_at is not None:
        payload["started_at"] = started_at.isoformat()
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
        authenticator: Authenticator,
        timeout_s: float = 30.0,
        attempts: int = 3,
        *,
        egress: EgressPolicy | None = None,
        max_reply_bytes: int = 4 * 1024 * 1024,
        per_agent: int = 8,
        total: int = 64,
        drain_s: float = 3.0,
    ) -> None:
        self.sessions = sessions
        self.transport = transport
        self.authenticator = authenticator
        self.attempts = attempts
        self.max_reply_bytes = max_reply_bytes
        self.per_agent = per_agent
        self.total = total
        self.drain_s = drain_s
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=5.0),
            transport=GuardedTransport(egress or EgressPolicy()),
            trust_env=False,  # a proxy from the environment would connect past the check
            follow_redirects=False,
            limits=httpx.Limits(max_connections=total, max_keepalive_connections=total),
        )
        self.outage = Outage("the database or the bus, for HTTP agents' tasks", log)
        self.dropped = 0
        self.handed_back = 0
        self._queues: dict[str, deque[Envelope]] = {}
        self._active: dict[str, int] = {}
        self._tasks: dict[asyncio.Task[None], tuple[str, Envelope]] = {}
        self._closing = False

    @property
    def queued(self) -> int:
        """Tasks waiting for a free slot."""
        return sum(len(q) for q in self._queues.values())

    @property
    def in_flight(self) -> int:
        """Deliveries running now."""
        return len(self._tasks)

    def submit(self, agent_id: str, envelope: Envelope) -> None:
        """Queue ``envelope`` for the agent; returns at once."""
        self._queues.setdefault(agent_id, deque()).append(envelope)
        self._pump()

    def _pump(self) -> None:
        """Start deliveries while both windows have room, taking agents in turn."""
        while not self._closing and len(self._tasks) < self.total:
            ready = [
                a for a, q in self._queues.items() if q and self._active.get(a, 0) < self.per_agent
            ]
            if not ready:
                return
            for agent_id in ready:
                if len(self._tasks) >= self.total:
                    return
                envelope = self._queues[agent_id].popleft()
                if not self._queues[agent_id]:
                    del self._queues[agent_id]
                self._active[agent_id] = self._active.get(agent_id, 0) + 1
                task = asyncio.create_task(self._run(agent_id, envelope))
                self._tasks[task] = (agent_id, envelope)
                task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        agent_id, _ = self._tasks.pop(task)
        self._active[agent_id] -= 1
        if not self._active[agent_id]:
            del self._active[agent_id]
        if not task.cancelled() and task.exception() is not None:  # _run catches everything
            log.error("HTTP dispatch of a task failed", exc_info=task.exception())
        self._pump()

    async def close(self) -> None:
        """Stop: let deliveries in flight finish for ``drain_s``, then hand back to the
        outbox whatever was not delivered (queued or cut short), and close the client."""
        self._closing = True
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=self.drain_s)
        unfinished = list(self._tasks.values())
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        left = [(a, e) for a, q in self._queues.items() for e in q] + unfinished
        self._queues.clear()
        if left:
            await self._hand_back(left)
        await self.client.aclose()

    async def _hand_back(self, items: list[tuple[str, Envelope]]) -> None:
        """Put undelivered tasks back in the outbox table, for a relay to send again."""
        try:
            async with self.sessions() as session, session.begin():
                for agent_id, envelope in items:
                    await session.merge(
                        OutboxRow(
                            id=envelope.id,
                            destination=HTTP_PREFIX + agent_id,
                            envelope=envelope.to_json().decode(),
                            created_at=utcnow(),
                        )
                    )
        except Exception as exc:
            log.warning(
                "%d HTTP task(s) could not be handed back (%s); their steps' timeouts will "
                "send them again",
                len(items),
                exc,
            )
            return
        self.handed_back += len(items)
        log.info("handed %d undelivered HTTP task(s) back to the outbox", len(items))

    async def _run(self, agent_id: str, envelope: Envelope) -> None:
        """Deliver one task; no exception escapes, and none loses the task."""
        try:
            await self._deliver(agent_id, envelope)
            self.outage.recovered()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if dependency_of(exc) is not None:  # the database or the bus is down: later
                self.outage.failed(exc)
                await self._retry_later(agent_id, envelope)
                return
            log.error("task %s: dispatch to agent %s failed", envelope.id, agent_id, exc_info=exc)
            await self._publish(
                self._error(envelope, "dispatch_failed", UNREACHABLE, True, agent_id), envelope
            )

    async def _retry_later(self, agent_id: str, envelope: Envelope) -> None:
        if envelope.expired():
            self.dropped += 1  # the step times out on its own
            return
        await asyncio.sleep(1.0 + random.random())
        if self._closing:
            await self._hand_back([(agent_id, envelope)])
        else:
            self.submit(agent_id, envelope)

    async def _deliver(self, agent_id: str, envelope: Envelope) -> None:
        async with self.sessions() as session:
            # It may have waited for a slot: a cancelled run's task is never sent.
            dead = await dead_tasks(session, [envelope], utcnow())
            agent = None if dead else await session.get(AgentRow, agent_id)
        if dead:
            self.dropped += 1
            log.info("task %s not sent to agent %s: %s", envelope.id, agent_id, dead[envelope.id])
            return
        if agent is None or not agent.endpoint:
            await self._publish(
                self._error(envelope, "agent_gone", f"agent {agent_id} is not registered", True),
                envelope,
            )
            return
        failure = _Failure("dispatch_failed", UNREACHABLE, True)
        for attempt in range(1, self.attempts + 1):
            sent_at = utcnow()
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
                if status == 202:  # it answers later: the step is running from now on
                    await self._publish(_started(envelope, agent_id, sent_at), envelope)
                    return
                if status == 200:
                    await self._publish(
                        answer_envelope(envelope, agent_id, _answer(body), sent_at), envelope
                    )
                    return
                log.warning("task %s: agent %s answered %s", envelope.id, agent_id, status)
                failure = _Failure("dispatch_failed", f"the agent answered {status}", True)
                if status not in RETRY_STATUS and status < 500:
                    failure = _Failure("dispatch_rejected", failure.message, False)
                    break
            await asyncio.sleep(min(2.0, 0.1 * 2**attempt) * (0.5 + random.random()))
        await self._publish(
            self._error(envelope, failure.code, failure.message, failure.retryable, agent_id),
            envelope,
        )

    async def _post(self, endpoint: str, envelope: Envelope) -> tuple[int, bytes]:
        """POST the task; the status and the body, read up to ``max_reply_bytes``."""
        data = envelope.to_json()
        headers = {
            "content-type": "application/json",
            # The same key as the envelope's own signature, over the exact bytes sent.
            SIGNATURE_HEADER: sign_bytes(data, self.authenticator.key),
        }
        async with self.client.stream("POST", endpoint, content=data, headers=headers) as response:
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

    async def _publish(self, envelope: Envelope, task: Envelope) -> None:
        """Publish the answer to ``task``, retrying with backoff while the bus is down (until
        the task's deadline: after it, the step's timeout decides)."""
        deadline = task.deadline.timestamp() if task.deadline is not None else None
        delay = 0.1
        while True:
            try:
                await self.transport.publish(streams.RESULTS, self.authenticator.stamp(envelope))
                return
            except Exception as exc:
                if dependency_of(exc) is None:
                    log.exception("could not publish the answer of an http agent")
                    return
                self.outage.failed(exc)
                if self._closing or (deadline is not None and utcnow().timestamp() > deadline):
                    log.warning("answer %s of an HTTP agent not published: %s", envelope.id, exc)
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
