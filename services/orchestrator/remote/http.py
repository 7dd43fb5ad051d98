"""HTTP agents: POST the signed task envelope, and read the answer.

An inline answer (``200 {"output"}`` or ``200 {"error"}``) is the step's answer; ``202`` means
the agent reports later through ``POST /v1/tasks/{id}/result``. ``MODX-Signature`` carries the
base64 Ed25519 signature of the orchestrator over the body's exact bytes, so the agent can check
it without rebuilding canonical JSON (docs/protocol.md, "Signatures").

Connections go only to addresses ``egress`` allows (``services.egress``); a reply is read up to
``max_reply_bytes``, and the whole exchange within ``timeout_s``.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

import httpx

from bus.envelope import Envelope
from bus.signing import Ed25519PrivateKey, sign_bytes
from services.db.models import AgentRow, utcnow
from services.egress import EgressPolicy, EgressRefused, GuardedTransport
from services.json_checks import parse_json, value_problem
from services.orchestrator.remote.delivery import DeliveryFailed, Reply

log = logging.getLogger(__name__)

RETRY_STATUS = {429, 502, 503, 504}
UNREACHABLE = "the agent could not be reached"
SIGNATURE_HEADER = "MODX-Signature"


class _TooLarge(Exception):
    """A reply past the size limit."""


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


class HttpDelivery:
    """POSTs tasks to HTTP agents, trying ``attempts`` times on errors worth another try."""

    def __init__(
        self,
        key: Ed25519PrivateKey,
        *,
        timeout_s: float = 30.0,
        attempts: int = 3,
        egress: EgressPolicy | None = None,
        max_reply_bytes: int = 4 * 1024 * 1024,
        connections: int = 64,
    ) -> None:
        self.key = key
        self.timeout_s = timeout_s
        self.attempts = attempts
        self.max_reply_bytes = max_reply_bytes
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=5.0),
            transport=GuardedTransport(egress or EgressPolicy()),
            trust_env=False,  # a proxy from the environment would connect past the check
            follow_redirects=False,
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        )

    async def close(self) -> None:
        """Close the connection pool."""
        await self.client.aclose()

    async def deliver(self, agent: AgentRow, task: Envelope, reply: Reply) -> None:
        """POST ``task`` to the agent's endpoint; publish its inline answer or its start."""
        if not agent.endpoint:
            raise DeliveryFailed("agent_gone", f"agent {agent.id} has no endpoint", True)
        failure = DeliveryFailed("dispatch_failed", UNREACHABLE, True)
        for attempt in range(1, self.attempts + 1):
            sent_at = utcnow()
            try:
                status, body = await self._post(agent.endpoint, task)
            except (httpx.TimeoutException, TimeoutError):
                log.warning("task %s: POST to agent %s timed out", task.id, agent.id)
                # The agent may be working on it; the step's own timeout decides what next.
                raise DeliveryFailed(
                    "dispatch_failed", "the agent did not answer in time", True
                ) from None
            except (httpx.HTTPError, EgressRefused) as exc:
                log.warning(
                    "task %s: POST to agent %s at %s failed: %r",
                    task.id,
                    agent.id,
                    agent.endpoint,
                    exc,
                )
                failure = DeliveryFailed("dispatch_failed", UNREACHABLE, True)
            except _TooLarge:
                message = f"the agent's answer is larger than {self.max_reply_bytes} bytes"
                raise DeliveryFailed("answer_too_large", message, False) from None
            else:
                if status == 202:  # it answers later: the step is running from now on
                    await reply.started(sent_at)
                    return
                if status == 200:
                    await reply.answer(_answer(body), sent_at)
                    return
                log.warning("task %s: agent %s answered %s", task.id, agent.id, status)
                message = f"the agent answered {status}"
                if status not in RETRY_STATUS and status < 500:
                    raise DeliveryFailed("dispatch_rejected", message, False)
                failure = DeliveryFailed("dispatch_failed", message, True)
            await asyncio.sleep(min(2.0, 0.1 * 2**attempt) * (0.5 + random.random()))
        raise failure

    async def cancel(self, agent: AgentRow, notice: Envelope) -> None:
        """POST a ``task.cancel`` to the agent's endpoint (a few tries); the answer does not
        matter (docs/protocol.md, "Cancellation, heartbeats and progress")."""
        if not agent.endpoint:
            return
        for attempt in range(3):
            try:
                status, _ = await self._post(agent.endpoint, notice)
                if status < 500:
                    return
            except (httpx.HTTPError, EgressRefused, _TooLarge, TimeoutError) as exc:
                log.info("cancel %s to agent %s: %r", notice.id, agent.id, exc)
            await asyncio.sleep(0.2 * 2**attempt)

    async def _post(self, endpoint: str, envelope: Envelope) -> tuple[int, bytes]:
        """POST the task; the status and the body, read up to ``max_reply_bytes`` within
        ``timeout_s`` in all (raises ``TimeoutError``).

        httpx's timeouts bound each read, not the exchange: an agent sending a byte now and
        then would hold one of the dispatcher's slots, shared by every tenant, for as long as
        its step may run (up to 7 days).
        """
        async with asyncio.timeout(self.timeout_s):
            return await self._exchange(endpoint, envelope)

    async def _exchange(self, endpoint: str, envelope: Envelope) -> tuple[int, bytes]:
        data = envelope.to_json()
        headers = {
            "content-type": "application/json",
            # The same key as the envelope's own signature, over the exact bytes sent.
            SIGNATURE_HEADER: sign_bytes(data, self.key),
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
