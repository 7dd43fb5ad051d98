"""A2A agents: a step is a message to the remote agent (``SendStreamingMessage`` when its card
allows streaming; otherwise ``SendMessage`` with ``returnImmediately``, then ``GetTask`` until
the task ends), and the remote task's final state is the step's answer
(``services.interop.translate.a2a.answer_of_task``): completed with its artifacts as the
output; failed, rejected or cancelled as an error. The remote task's and context's ids are
kept on the step (``conversation``).

Input-required is a question (``Reply.asks``): the step waits for a signal that answers it
(``services.orchestrator.conversation``), and that answer comes back here as a task of schema
``TASK_INPUT``: a message to the same remote task and context (A2A multi-turn), after which the
task is followed as before, to its end or to its next question.

Each attempt's message has a context id and a message id MODX derives from the step and the
attempt under a secret of its own (``attempt_ids``), the same however often the attempt is
sent, and that no one else can name; the context is recorded on the step (``task.started``)
before the message goes, and an attempt sent again uses the context recorded. An answer lost
after the peer made its task (a ``SendMessage`` response, or a stream that breaks before its
first event) is looked for by that context (``ListTasks``, A2A 1.0 §3.1.4) and followed; so
is the task of an attempt sent again whose first holder died before the peer named the task.
Only when the peer has no such task is the message sent again; a peer without ``ListTasks``
gets it again at once (the step's retry), as nothing can tell whether it has it.

A stream that breaks once the peer has made its task (the connection cut, the peer restarting)
does not end the step: the same task is followed again, by ``SubscribeToTask`` (A2A 1.0
§3.1.6; each time it breaks again), or by ``GetTask`` when the peer cannot subscribe (a task
that has ended, a peer without the method), with backoff; ``resume_tries`` misses in a row fail
the step as a peer out of reach. A task the peer no longer knows fails it as
``remote_task_lost``, naming the task. A second remote task is only ever made by the step's
own retry.

The step runs (``task.started``) once the message is sent. A task MODX no longer needs (its
run was cancelled...) is cancelled here by the dispatcher: the peer gets ``CancelTask``, unless
the task sent again follows the same remote task (its holder's heartbeats came late:
``in_flight``, "Resumed"), when the delivery only stops; a task
that waits for an answer (nothing in flight) is cancelled by the conversation's handle
(``cancel``). Every call carries the headers the agent was registered with.

Liveness: ``keep`` fetches every A2A agent's card each round and renews the agent's lease when
the card answers, so the router sends steps only to agents that are up.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx
from a2a.client import (
    A2AClientError,
    A2AClientTimeoutError,
    Client,
    ClientCallContext,
    ClientConfig,
    ClientFactory,
)
from a2a.types import (
    AgentCard,
    CancelTaskRequest,
    GetTaskRequest,
    ListTasksRequest,
    Message,
    SendMessageRequest,
    StreamResponse,
    SubscribeToTaskRequest,
    Task,
    TaskState,
)
from a2a.utils.errors import A2AError, InternalError, TaskNotFoundError
from google.protobuf import json_format
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bus.envelope import Envelope
from bus.tasks import cancel_and_wait
from services.db.models import AgentRow, utcnow
from services.egress import EgressPolicy, EgressRefused
from services.interop.a2a_client import CardRefused, fetch_card, guarded_http
from services.interop.translate import TranslationError
from services.interop.translate import a2a as translate_a2a
from services.orchestrator.conversation import TASK_INPUT, TASK_RESUME
from services.orchestrator.remote.delivery import DeliveryFailed, Reply
from services.registry import store
from services.registry.schemas import A2aPeer
from services.registry.schemas import AgentCard as ModxCard

log = logging.getLogger(__name__)

TRANSPORT = "a2a"
UNREACHABLE = "the A2A agent could not be reached"
UNAUTHORIZED = "register it with the headers it needs (POST /v1/agents/a2a headers)"
POLL_S = (0.02, 2.0)  # GetTask backoff: first and longest wait (doubling)
RESUME_S = (0.25, 8.0)  # backoff while a task's peer is out of reach: first and longest wait
HEARTBEAT_S = 5.0  # a delivery's heartbeats: a step's heartbeat_timeout_s should be 3 times it
RESUME_TRIES = 6  # calls in a row that reach nothing (about 16 s) before the step fails
NOT_A_SUBSCRIPTION = (
    "the A2A agent's answer is not A2A: a subscription that does not start with the task"
)


def peer_of(agent: AgentRow) -> A2aPeer:
    """The agent's A2A settings: its card's URL, the card, its skills by capability."""
    card = ModxCard.model_validate(agent.card)
    assert card.a2a is not None
    return card.a2a


def remote_card(peer: A2aPeer) -> AgentCard:
    """The remote Agent Card the agent was registered with."""
    return json_format.ParseDict(peer.card, AgentCard(), ignore_unknown_fields=True)


class Unlisted(Exception):
    """The peer cannot list its tasks (no ``ListTasks``): whether it made one is unknown."""


class A2aDelivery:
    """Sends steps to A2A agents over their JSON-RPC interface."""

    def __init__(self, egress: EgressPolicy, *, secret: bytes, timeout_s: float = 300.0) -> None:
        """``secret``: what the attempts' ids are derived under; every replica needs the same
        (the orchestrator's key: this label keeps the two uses apart)."""
        self.egress = egress
        self.ids_key = hmac.digest(secret, b"modx a2a attempt ids", "sha256")
        self.http = guarded_http(egress, timeout_s)
        self.resume_tries = RESUME_TRIES
        self._keeper: asyncio.Task[None] | None = None

    def client(self, card: AgentCard) -> Client:
        """The SDK's client for ``card`` (no I/O: it shares this delivery's HTTP client)."""
        # Without streaming, the message returns at once (returnImmediately) and the task is
        # polled: MODX knows the task's id from the start, so it can cancel it.
        streaming = card.capabilities.streaming
        config = ClientConfig(httpx_client=self.http, streaming=streaming, polling=not streaming)
        return ClientFactory(config).create(card)

    async def deliver(self, agent: AgentRow, task: Envelope, reply: Reply) -> None:
        """Send the step's input (or, for a task that answers the agent's question, the answer
        to the same remote task); the remote task's next final state is the step's answer."""
        peer = peer_of(agent)
        client = self.client(remote_card(peer))
        context = call_context(peer)
        skill = peer.skills.get(task.topic, task.topic)
        answering = task.schema_ == TASK_INPUT
        started_at = None if answering else utcnow()
        remote = Task()
        beating = asyncio.create_task(_beat(reply), name=f"a2a-heartbeat-{task.id}")
        try:
            if answering:
                remote = await self._answer(client, context, task.payload, skill)
            else:
                assert started_at is not None
                found = await self._start(client, context, task, skill, remote, reply, started_at)
                if found is not None:  # an answer without a task
                    await reply.answer({"output": found}, started_at)
                    return
            remote = await self._until_final(client, context, remote, _asked(task))
        except asyncio.CancelledError as cancelled:
            reason = str(cancelled.args[0]) if cancelled.args else "cancelled by MODX"
            if not reply.resumed:  # else the task sent again follows this remote task
                await self._cancel(client, context, remote.id, reason)
            raise
        except TranslationError as exc:  # the step's input, before anything was sent
            raise DeliveryFailed("bad_input", str(exc), False) from None
        except (
            A2AError,
            A2AClientError,
            httpx.HTTPError,
            json_format.ParseError,
            ValueError,
        ) as exc:
            log.warning("task %s: A2A agent %s failed: %r", task.id, agent.id, exc)
            raise _failure(exc) from None
        finally:
            await cancel_and_wait([beating])
        conversation = translate_a2a.conversation_of(remote)
        if remote.status.state == TaskState.TASK_STATE_INPUT_REQUIRED:
            await reply.asks(translate_a2a.question_of(remote), conversation)
            return
        answer = translate_a2a.answer_of_task(remote)
        await reply.answer({**answer, "conversation": conversation}, started_at)

    async def _start(
        self,
        client: Client,
        context: ClientCallContext,
        task: Envelope,
        skill: str,
        remote: Task,
        reply: Reply,
        started_at: datetime,
    ) -> Any:
        """Start the attempt's remote task, or follow the one it has already (``remote``
        folds it in); the output when the peer answers with a message instead of a task."""

        async def named(made: Task) -> None:  # recorded on the step before it goes on
            await reply.started(started_at, conversation=_handle(made))

        context_id, message_id = attempt_ids(task, self.ids_key)
        handle = _handle_of(task.payload) if task.schema_ == TASK_RESUME else None
        if handle is not None and handle.get("context_id"):
            context_id = str(handle["context_id"])  # the one the peer has (recorded when sent)
        if handle is not None and handle.get("task_id"):
            # Sent again (the process that followed it died): follow the same remote task.
            remote.CopyFrom(_resumed(handle))
            await named(remote)
            await self._resubscribe(client, context, remote)
            return None
        # The context goes on the step before the message: an attempt sent again looks there.
        await reply.started(started_at, conversation={"context_id": context_id})
        if handle is not None:  # sent before, by a holder that died before the peer named it
            try:
                found = await self._find(client, context, context_id)
            except Unlisted:
                found = None  # nothing can tell: send it again
            if found is not None:
                remote.CopyFrom(found)
                await named(remote)
                await self._resubscribe(client, context, remote)
                return None
        step_input = task.payload.get("input") if handle is not None else task.payload
        message = translate_a2a.request_message(step_input, skill)
        message.context_id, message.message_id = context_id, message_id
        return await self._send(client, context, message, remote, named, lost_in=context_id)

    async def _send(
        self,
        client: Client,
        context: ClientCallContext,
        message: Message,
        remote: Task,
        named: Callable[[Task], Awaitable[None]] | None = None,
        *,
        lost_in: str = "",
    ) -> Any:
        """Send ``message``, folding what comes back into ``remote``; the output when the peer
        answers with a message instead of a task, else None. ``named`` is told the task as
        soon as the peer names it.

        ``lost_in``: the context the message makes its task in. When the answer is lost
        before it names the task, the task is looked for there and followed; the message goes
        again only when the peer has none (up to ``resume_tries`` times)."""
        misses, wait = 0, RESUME_S[0]
        while True:
            request = SendMessageRequest(message=message)
            seen = 0
            try:
                async for event in client.send_message(request, context=context):
                    if event.HasField("message"):
                        return translate_a2a.output_of(event.message.parts)
                    _apply(remote, event)
                    seen += 1
                    if named is not None and remote.id:
                        await named(remote)
                        named = None
                return None
            except (A2AError, httpx.HTTPError) as exc:
                if seen and remote.id and _transient(exc):
                    log.info(
                        "A2A task %s: its stream broke (%r); subscribing again", remote.id, exc
                    )
                    break
                # Before the task is named, nothing says whether the peer has the message.
                misses += 1
                if seen or not lost_in or not _transient(exc) or misses >= self.resume_tries:
                    raise
                log.info("A2A message %s: its answer is lost (%r)", message.message_id, exc)
                lost = exc
            # Outside the handler: what fails next must not carry this break as its context.
            await asyncio.sleep(wait)
            wait = min(wait * 2, RESUME_S[1])
            try:
                found = await self._find(client, context, lost_in)
            except Unlisted:  # nothing can tell whether it has the message: the step's retry
                raise _failure(lost) from None
            if found is None:
                continue  # the peer did not make it: send it again (the same message id)
            remote.CopyFrom(found)
            if named is not None:
                await named(remote)
            break
        await self._resubscribe(client, context, remote)
        return None

    async def _find(
        self, client: Client, context: ClientCallContext, context_id: str
    ) -> Task | None:
        """The task the peer made in ``context_id`` (``ListTasks``), None when it has none.

        Tried again with backoff while the peer is out of reach, as ``_get``. A peer that
        cannot list (method not found, unsupported) raises ``Unlisted``: whether it has the
        task is unknown."""
        misses, wait = 0, RESUME_S[0]
        request = ListTasksRequest(context_id=context_id, include_artifacts=True, page_size=10)
        while True:
            try:
                listed = await client.list_tasks(request, context=context)
                break
            except (A2AError, httpx.HTTPError) as exc:
                misses += 1
                if not _transient(exc):
                    if isinstance(exc, A2AError) and not isinstance(exc, A2AClientError):
                        raise Unlisted(str(exc)) from exc
                    raise
                if misses >= self.resume_tries:
                    raise
                log.info("A2A context %s: ListTasks failed: %r", context_id, exc)
            await asyncio.sleep(wait)
            wait = min(wait * 2, RESUME_S[1])
        # A peer that ignores the filter must not make MODX follow another step's task.
        mine = [t for t in listed.tasks if t.context_id == context_id and t.id]
        if mine and mine[0].status.state in translate_a2a.FINAL_STATES:
            return await self._get(client, context, mine[0].id)  # whole: a list may trim it
        if len(mine) > 1:
            log.warning(
                "A2A context %s holds %d tasks; following %s", context_id, len(mine), mine[0].id
            )
        return mine[0] if mine else None

    async def _resubscribe(self, client: Client, context: ClientCallContext, remote: Task) -> None:
        """Follow ``remote``, whose stream broke, by subscribing to it again until it ends or
        asks. Returns early when the peer cannot subscribe to it (it has ended, or the peer
        has no such method) or a stream ends first: ``_until_final`` then reads it."""
        misses, wait = 0, RESUME_S[0]
        while remote.status.state not in translate_a2a.FINAL_STATES:
            await asyncio.sleep(wait)
            seen = 0
            try:
                request = SubscribeToTaskRequest(id=remote.id)
                async for event in client.subscribe(request, context=context):
                    if not seen and not event.HasField("task"):
                        # A2A: the first event is the task as it is now. It replaces what MODX
                        # holds, so a peer that breaks its streams again and again cannot make
                        # that grow past one response's bound (MAX_RESPONSE_BYTES).
                        raise DeliveryFailed("bad_answer", NOT_A_SUBSCRIPTION, False)
                    _apply(remote, event)
                    seen += 1
                return
            except TaskNotFoundError:
                raise _lost(remote.id) from None
            except NotImplementedError:  # a card without streaming: the SDK will not try
                return
            except (A2AError, httpx.HTTPError) as exc:
                if not _transient(exc):
                    if isinstance(exc, A2AError) and not isinstance(exc, A2AClientError):
                        return  # refused (an ended task, no such method): read it instead
                    raise
                log.info("A2A task %s: subscribing again failed: %r", remote.id, exc)
            # A stream that brought news before it broke again is progress, not a miss.
            misses, wait = (0, RESUME_S[0]) if seen > 1 else (misses + 1, wait * 2)
            wait = min(wait, RESUME_S[1])
            if misses >= self.resume_tries:
                raise DeliveryFailed("dispatch_failed", UNREACHABLE, True)

    async def _get(self, client: Client, context: ClientCallContext, task_id: str) -> Task:
        """``GetTask``, tried again with backoff while the peer is out of reach (or answers
        408, 429 or 5xx), up to ``resume_tries`` times; a task the peer does not know is
        ``remote_task_lost``."""
        misses, wait = 0, RESUME_S[0]
        while True:
            try:
                return await client.get_task(GetTaskRequest(id=task_id), context=context)
            except TaskNotFoundError:
                raise _lost(task_id) from None
            except (A2AError, httpx.HTTPError) as exc:
                misses += 1
                if not _transient(exc) or misses >= self.resume_tries:
                    raise
                log.info("A2A task %s: GetTask failed: %r", task_id, exc)
            await asyncio.sleep(wait)
            wait = min(wait * 2, RESUME_S[1])

    async def _answer(
        self, client: Client, context: ClientCallContext, payload: Any, skill: str
    ) -> Task:
        """Send the answer to the remote task that asked (``payload``: ``{"answer",
        "conversation"}``); the task as it is then.

        The task is read first: when it no longer waits for this answer (it was sent once
        already, by a process that died before it could report the outcome), it is followed,
        not answered twice."""
        handle = payload.get("conversation") if isinstance(payload, dict) else None
        answer = payload.get("answer") if isinstance(payload, dict) else None
        if not (isinstance(handle, dict) and handle.get("task_id") and isinstance(answer, dict)):
            raise DeliveryFailed("bad_input", "the answer names no remote task", False)
        remote = await self._get(client, context, str(handle["task_id"]))
        asked = translate_a2a.conversation_of(remote)["asked"]
        if remote.status.state != TaskState.TASK_STATE_INPUT_REQUIRED or (
            asked != handle.get("asked", asked)  # it asks something else since
        ):
            return remote
        message = translate_a2a.answer_message(answer, skill, handle)
        found = await self._send(client, context, message, remote)
        if found is not None:  # the agent answered with a message: it is done
            remote.status.state = TaskState.TASK_STATE_COMPLETED
            remote.status.message.CopyFrom(Message(parts=translate_a2a.parts_of(found)))
        return remote

    async def _until_final(
        self, client: Client, context: ClientCallContext, remote: Task, asked: str
    ) -> Task:
        """``remote`` once it is in a final state (``GetTask`` with backoff while it works).

        ``asked``: the status message of the question just answered; a task that still shows
        it has not read the answer yet."""
        wait = POLL_S[0]
        while remote.status.state not in translate_a2a.FINAL_STATES or (
            asked and translate_a2a.conversation_of(remote)["asked"] == asked
        ):
            if not remote.id:
                raise DeliveryFailed("bad_answer", "the A2A agent answered no task", False)
            await asyncio.sleep(wait)
            wait = min(wait * 2, POLL_S[1])
            remote = await self._get(client, context, remote.id)
        return remote

    async def cancel(self, agent: AgentRow, envelope: Envelope) -> None:
        """A ``task.cancel`` for a step that waits for an answer: no delivery is in flight, so
        the remote task its conversation names gets ``CancelTask`` here."""
        payload = envelope.payload if isinstance(envelope.payload, dict) else {}
        handle = payload.get("conversation")
        if not isinstance(handle, dict) or not handle.get("task_id"):
            return  # a delivery in flight, if any, cancels its own task
        peer = peer_of(agent)
        client = self.client(remote_card(peer))
        reason = str(payload.get("reason") or "cancelled by MODX")
        await self._cancel(client, call_context(peer), str(handle["task_id"]), reason)

    async def _cancel(
        self, client: Client, context: ClientCallContext, remote_id: str, reason: str
    ) -> None:
        if not remote_id:
            return
        try:
            request = CancelTaskRequest(id=remote_id)
            await asyncio.wait_for(client.cancel_task(request, context=context), 5.0)
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
            peer = peer_of(agent)
            try:
                await fetch_card(self.http, peer.card_url, peer.headers)
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
        if self._keeper is not None:  # its database calls can swallow one cancel
            await cancel_and_wait([self._keeper])
        await self.http.aclose()


def call_context(peer: A2aPeer) -> ClientCallContext:
    """Every call to the peer carries the headers it was registered with (its credentials)."""
    return ClientCallContext(service_parameters=dict(peer.headers))


def _failure(exc: Exception) -> DeliveryFailed:
    """What a failed call to the peer is for the step: its credentials refused (final), the
    request refused (a JSON-RPC error or another 4xx: final), the peer failing (an HTTP 5xx,
    408 or 429, or its JSON-RPC internal error: retryable), an answer that is not A2A (not
    JSON, not JSON-RPC, a task the SDK cannot parse: final, ``bad_answer``), or the peer out
    of reach (retryable). The peer's URL stays in the log, not in the step's error; a peer that
    answered is never said to be out of reach."""
    status = _http_status(exc)
    if status in (401, 403):  # another attempt with the same credentials fails alike
        message = f"the A2A agent refused MODX's credentials (HTTP {status}): {UNAUTHORIZED}"
        return DeliveryFailed("unauthorized", message, False)
    if status is not None and 400 <= status < 500 and status not in (408, 429):
        return DeliveryFailed("bad_input", f"the A2A agent refused (HTTP {status})", False)
    if status is not None:
        return DeliveryFailed("dispatch_failed", f"the A2A agent answered HTTP {status}", True)
    if isinstance(exc, InternalError):
        return DeliveryFailed("agent_error", f"the A2A agent failed: {exc}", True)
    if isinstance(exc, A2AError) and not isinstance(exc, A2AClientError):
        return DeliveryFailed("bad_input", f"the A2A agent refused: {exc}", False)
    if _unreachable(exc):
        return DeliveryFailed("dispatch_failed", UNREACHABLE, True)
    # What is left was read from the peer and is not A2A: its reason (the SDK's) is short and
    # names no address.
    reason = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
    return DeliveryFailed("bad_answer", f"the A2A agent's answer is not A2A: {reason}", False)


async def _beat(reply: Reply) -> None:
    """Heartbeats while the delivery runs: a step's ``heartbeat_timeout_s`` (above
    ``HEARTBEAT_S``) then notices a process that died following its remote task."""
    while True:
        await asyncio.sleep(HEARTBEAT_S)
        try:
            await reply.heartbeat()
        except Exception as exc:  # the next one may pass; the step's timeout is the last resort
            log.debug("A2A heartbeat of task %s not sent: %r", reply.task.id, exc)


def _handle(remote: Task) -> dict[str, str]:
    """What the step keeps of a remote task to follow it again."""
    return {"task_id": remote.id, "context_id": remote.context_id}


def attempt_ids(task: Envelope, key: bytes) -> tuple[str, str]:
    """The context id and message id of the message that starts the remote task of ``task``'s
    attempt: derived from the run, the step and the attempt, so a holder that sends the
    attempt again (after another died) names the same context, where the peer's task is.

    Keyed (HMAC), not a UUIDv5 of the ids alone: anyone who learns a run id (the tenant's
    other agents, whoever it is shared with) could otherwise name its steps' contexts at a
    peer they also use, and list them (a peer that shows every client the same tasks), or
    put a task of their own there for a lost answer to follow."""
    attempt = f"{task.run_id}/{task.step_id}/{task.attempt}"
    return _keyed(key, "context:" + attempt), _keyed(key, "message:" + attempt)


def _keyed(key: bytes, text: str) -> str:
    digest = hmac.digest(key, text.encode(), "sha256")
    return str(uuid.UUID(bytes=digest[:16], version=4))


def _handle_of(payload: Any) -> dict[str, Any]:
    """The conversation a ``TASK_RESUME`` task names: a remote task, or only its context."""
    handle = payload.get("conversation") if isinstance(payload, dict) else None
    if not (isinstance(handle, dict) and (handle.get("task_id") or handle.get("context_id"))):
        raise DeliveryFailed("bad_input", "the task names no remote task to follow", False)
    return handle


def _resumed(handle: dict[str, Any]) -> Task:
    """The remote task ``handle`` names, as far as MODX knows it (still working)."""
    remote = Task(id=str(handle["task_id"]), context_id=str(handle.get("context_id") or ""))
    remote.status.state = TaskState.TASK_STATE_WORKING
    return remote


def _lost(task_id: str) -> DeliveryFailed:
    """The peer no longer knows the task MODX follows (it restarted, or dropped it): its
    answer is lost. Another attempt sends the step again, as a new remote task."""
    message = f"the A2A agent no longer knows task {task_id}: its answer is lost"
    return DeliveryFailed("remote_task_lost", message, True)


def _transient(exc: BaseException) -> bool:
    """Whether the peer may answer a moment later: out of reach, or HTTP 408, 429 or 5xx."""
    status = _http_status(exc)
    return _unreachable(exc) or status in (408, 429) or (status is not None and status >= 500)


def _unreachable(exc: BaseException) -> bool:
    """Whether the peer never answered: a connection, a timeout or an address egress refuses
    (checked again at each connection), not a reply."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, httpx.TransportError | A2AClientTimeoutError | EgressRefused):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _http_status(exc: BaseException) -> int | None:
    """The HTTP status an error of the SDK (or of httpx) comes from, if any."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, httpx.HTTPStatusError):
            return seen.response.status_code
        seen = seen.__cause__ or seen.__context__
    return None


def _asked(task: Envelope) -> str:
    """The question a task answers (its status message's id), or ""."""
    handle = task.payload.get("conversation") if isinstance(task.payload, dict) else None
    return str(handle.get("asked") or "") if isinstance(handle, dict) else ""


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


__all__ = ["A2aDelivery", "call_context", "peer_of", "remote_card"]
