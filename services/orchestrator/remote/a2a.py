"""A2A agents: a step is a message to the remote agent (``SendStreamingMessage`` when its card
allows streaming; otherwise ``SendMessage`` with ``returnImmediately``, then ``GetTask`` until
the task ends), and the remote task's final state is the step's answer
(``services.interop.translate.a2a.answer_of_task``): completed with its artifacts as the
output; failed, rejected or cancelled as an error; input-required as an error whose message is
the agent's question.

The step runs (``task.started``) once the message is sent. A task MODX no longer needs (its
run was cancelled...) is cancelled here by the dispatcher: the peer gets ``CancelTask``.

Liveness: ``keep`` fetches every A2A agent's card each round and renews the agent's lease when
the card answers, so the router sends steps only to agents that are up.
"""

from __future__ import annotations

import asyncio
import logging

import httpx
from a2a.client import A2AClientError, Client, ClientConfig, ClientFactory
from a2a.types import (
    AgentCard,
    CancelTaskRequest,
    GetTaskRequest,
    SendMessageRequest,
    StreamResponse,
    Task,
)
from a2a.utils.errors import A2AError
from google.protobuf import json_format
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bus.envelope import Envelope
from services.db.models import AgentRow, utcnow
from services.egress import EgressPolicy
from services.interop.a2a_client import CardRefused, fetch_card, guarded_http
from services.interop.translate import a2a as translate_a2a
from services.orchestrator.remote.delivery import DeliveryFailed, Reply
from services.registry import store
from services.registry.schemas import A2aPeer
from services.registry.schemas import AgentCard as ModxCard

log = logging.getLogger(__name__)

TRANSPORT = "a2a"
UNREACHABLE = "the A2A agent could not be reached"
POLL_S = (0.02, 2.0)  # GetTask backoff: first and longest wait (doubling)


def peer_of(agent: AgentRow) -> A2aPeer:
    """The agent's A2A settings: its card's URL, the card, its skills by capability."""
    card = ModxCard.model_validate(agent.card)
    assert card.a2a is not None
    return card.a2a


def remote_card(peer: A2aPeer) -> AgentCard:
    """The remote Agent Card the agent was registered with."""
    return json_format.ParseDict(peer.card, AgentCard(), ignore_unknown_fields=True)


class A2aDelivery:
    """Sends steps to A2A agents over their JSON-RPC interface."""

    def __init__(self, egress: EgressPolicy, *, timeout_s: float = 300.0) -> None:
        self.egress = egress
        self.http = guarded_http(egress, timeout_s)
        self._keeper: asyncio.Task[None] | None = None

    def client(self, card: AgentCard) -> Client:
        """The SDK's client for ``card`` (no I/O: it shares this delivery's HTTP client)."""
        # Without streaming, the message returns at once (returnImmediately) and the task is
        # polled: MODX knows the task's id from the start, so it can cancel it.
        streaming = card.capabilities.streaming
        config = ClientConfig(httpx_client=self.http, streaming=streaming, polling=not streaming)
        return ClientFactory(config).create(card)

    async def deliver(self, agent: AgentRow, task: Envelope, reply: Reply) -> None:
        """Send the step's input; the remote task's final state is the step's answer."""
        peer = peer_of(agent)
        client = self.client(remote_card(peer))
        skill = peer.skills.get(task.topic, task.topic)
        message = translate_a2a.request_message(task.payload, skill)
        remote = Task()
        started_at = utcnow()
        await reply.started(started_at)
        try:
            async for event in client.send_message(SendMessageRequest(message=message)):
                if event.HasField("message"):  # an answer without a task
                    output = translate_a2a.output_of(event.message.parts)
                    await reply.answer({"output": output}, started_at)
                    return
                _apply(remote, event)
            remote = await self._until_final(client, remote)
        except asyncio.CancelledError as cancelled:
            reason = str(cancelled.args[0]) if cancelled.args else "cancelled by MODX"
            await self._cancel(client, remote.id, reason)
            raise
        except A2AError as exc:  # the peer refused the request (JSON-RPC error)
            log.warning("task %s: A2A agent %s refused: %s", task.id, agent.id, exc)
            raise DeliveryFailed("bad_input", f"the A2A agent refused: {exc}", False) from None
        except (A2AClientError, httpx.HTTPError) as exc:
            log.warning("task %s: A2A agent %s failed: %r", task.id, agent.id, exc)
            raise DeliveryFailed("dispatch_failed", UNREACHABLE, True) from None
        await reply.answer(translate_a2a.answer_of_task(remote), started_at)

    async def _until_final(self, client: Client, remote: Task) -> Task:
        """``remote`` once it is in a final state (``GetTask`` with backoff while it works)."""
        wait = POLL_S[0]
        while remote.status.state not in translate_a2a.FINAL_STATES:
            if not remote.id:
                raise DeliveryFailed("bad_answer", "the A2A agent answered no task", False)
            await asyncio.sleep(wait)
            wait = min(wait * 2, POLL_S[1])
            remote = await client.get_task(GetTaskRequest(id=remote.id))
        return remote

    async def _cancel(self, client: Client, remote_id: str, reason: str) -> None:
        if not remote_id:
            return
        try:
            await asyncio.wait_for(client.cancel_task(CancelTaskRequest(id=remote_id)), 5.0)
            log.info("A2A task %s cancelled: %s", remote_id, reason)
        except Exception as exc:  # it ended meanwhile, or the peer is gone: nothing to cancel
            log.debug("could not cancel A2A task %s: %s", remote_id, exc)

    def start(
        self, sessions: async_sessionmaker[AsyncSession], lease_s: float, every_s: float
    ) -> None:
        """Start the liveness loop (``keep``) in the background."""
        self._keeper = asyncio.create_task(self.keep(sessions, lease_s, every_s), name="a2a-keeper")

    async def keep(
        self, sessions: async_sessionmaker[AsyncSession], lease_s: float, every_s: float
    ) -> None:
        """Forever: renew the leases of the A2A agents whose card answers."""
        while True:
            try:
                await self.keep_once(sessions, lease_s)
            except Exception as exc:  # an outage: the next round tries again
                log.debug("A2A liveness round failed: %s", exc)
            await asyncio.sleep(every_s)

    async def keep_once(self, sessions: async_sessionmaker[AsyncSession], lease_s: float) -> None:
        """One round: fetch each A2A agent's card; those that answer keep their lease."""
        async with sessions() as session:
            query = select(AgentRow).where(
                AgentRow.transport == TRANSPORT,
                AgentRow.status.in_([store.ONLINE, store.OFFLINE]),
            )
            agents = list((await session.execute(query)).scalars())

        async def answers(agent: AgentRow) -> str | None:
            try:
                await fetch_card(self.http, peer_of(agent).card_url)
            except CardRefused as exc:
                log.warning("A2A agent %s (%s) is not answering: %s", agent.name, agent.id, exc)
                return None
            return agent.id

        up = [a for a in await asyncio.gather(*(answers(a) for a in agents)) if a is not None]
        if up:
            async with sessions() as session, session.begin():
                await store.renew_leases(session, up, lease_s)

    async def close(self) -> None:
        """Stop the liveness loop and close connections."""
        if self._keeper is not None:
            self._keeper.cancel()
            await asyncio.gather(self._keeper, return_exceptions=True)
        await self.http.aclose()


def _apply(remote: Task, event: StreamResponse) -> None:
    """Fold one streamed event into the remote task as MODX knows it."""
    if event.HasField("task"):
        remote.CopyFrom(event.task)
    elif event.HasField("status_update"):
        remote.id = remote.id or event.status_update.task_id
        remote.status.CopyFrom(event.status_update.status)
    elif event.HasField("artifact_update"):
        update = event.artifact_update
        remote.id = remote.id or update.task_id
        for artifact in remote.artifacts:
            if artifact.artifact_id == update.artifact.artifact_id:
                if update.append:
                    artifact.parts.extend(update.artifact.parts)
                else:
                    artifact.CopyFrom(update.artifact)
                return
        remote.artifacts.append(update.artifact)


__all__ = ["A2aDelivery", "peer_of", "remote_card"]
