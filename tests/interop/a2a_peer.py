"""A real A2A agent for the tests, built with the a2a-sdk's server (its request handler, task
store and JSON-RPC routes), served by uvicorn in the test process.

Its skills: ``shout`` completes with the input's ``text`` in capitals as an artifact (after a
working status); ``refuse`` fails, saying why; ``ask`` wants input, ``rounds`` times (the input's,
default 1: which tax year, with the choices as a data part, then which filing status...), each
answer a message in the same task and context (checked, and kept in ``answers``), then completes
with the answers; ``hold`` works until it is cancelled. Which skill runs is the message's
``modx/skill`` metadata. Every cancellation it receives is counted in ``cancelled``, and the
``Authorization`` header of every request it gets is kept in ``authorizations`` (with a
``token``, its JSON-RPC endpoint wants it).

To break it on purpose: with ``release`` set, ``shout`` works until that event is set; each
JSON-RPC method named in ``cut`` has its next response stream cut after its first event (the
connection closes mid-stream; one cut per entry); methods in ``refuse`` answer "method not
found" (a peer without them); each method in ``unavailable`` has its next call answered HTTP
503 (one per entry); a method in ``headless`` has the first event of its streams dropped
(counted in ``dropped``); each method in ``lose`` has its next answer lost after the peer
handled it (the response's headers go out, then the connection closes before its first
byte of body: a proxy that drops the answer; counted in ``lost``); ``down`` answers HTTP 503 to every JSON-RPC request (and
``down_after_cut`` sets it at the first cut: a peer that crashed mid-stream). Every task
it creates is counted in ``tasks``, every JSON-RPC method it gets in ``calls``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from a2a.helpers import new_task_from_user_message, new_text_message
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types import AgentCapabilities, AgentCard, AgentInterface, AgentSkill
from a2a.utils.constants import PROTOCOL_VERSION_CURRENT
from google.protobuf import json_format
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from services.db.models import AgentRow
from services.interop.a2a_client import fetch_card
from services.interop.translate.a2a import SKILL_META, output_of, parts_of
from services.orchestrator.remote.a2a import A2aDelivery
from services.registry.schemas import A2aPeer, CapabilitySpec
from services.registry.schemas import AgentCard as ModxCard
from tests.fixtures.services import free_port

QUESTIONS = ["Which tax year?", "Which filing status?", "Any dependents?"]
CHOICES = {"choices": [2024, 2025]}
SKILLS = {
    "shout": "Shout a text: the same text in capital letters.",
    "refuse": "Refuses every request, saying why.",
    "ask": "Asks which tax year before it works.",
    "hold": "Works until it is cancelled.",
}


@dataclass
class Peer:
    """A running peer: its card's URL and what it saw."""

    url: str
    card_url: str
    cancelled: list[str] = field(default_factory=list)
    served: list[str] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    authorizations: list[tuple[str, str]] = field(default_factory=list)
    """(path, Authorization header or "") of every request."""
    tasks: list[str] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    release: asyncio.Event | None = None
    cut: list[str] = field(default_factory=list)
    cuts: list[str] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    unavailable: list[str] = field(default_factory=list)
    headless: set[str] = field(default_factory=set)
    dropped: list[str] = field(default_factory=list)
    lose: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    down: bool = False
    down_after_cut: bool = False
    port: int = 0


class StreamCut(Exception):
    """Raised by the peer's app mid-response: uvicorn then closes the connection, so the client
    reads a stream that breaks (the test asked for it)."""


@dataclass(frozen=True)
class Answer:
    """An answer the ``ask`` skill received: the ids it named, those of the task it reached."""

    message_task_id: str
    message_context_id: str
    task_id: str
    context_id: str
    value: Any


class PeerExecutor(AgentExecutor):
    """Answers by skill (see the module docstring)."""

    def __init__(self, peer: Peer) -> None:
        self.peer = peer
        self.rounds: dict[str, int] = {}

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        message = context.message
        assert message is not None
        metadata: dict[str, Any] = json_format.MessageToDict(message.metadata)
        skill = str(metadata.get(SKILL_META, "shout"))
        self.peer.served.append(skill)
        task = context.current_task
        if task is None:  # a new task; an answer continues the current one
            task = new_task_from_user_message(message)
            self.peer.tasks.append(task.id)
            await event_queue.enqueue_event(task)
        updater = TaskUpdater(event_queue, task.id, task.context_id)
        await updater.start_work()

        def say(text: str, data: dict[str, Any] | None = None) -> Any:
            said = new_text_message(text, context_id=task.context_id, task_id=task.id)
            if data is not None:
                said.parts.extend(parts_of(data))
            return said

        if skill == "shout":
            value = output_of(message.parts)
            text = str(value.get("text", "")) if isinstance(value, dict) else ""
            if self.peer.release is not None:
                await self.peer.release.wait()
            await updater.add_artifact(parts_of({"text": text.upper()}), name="shouted")
            await updater.complete()
        elif skill == "refuse":
            await updater.failed(say("I refuse: the input is not to my taste"))
        elif skill == "ask":
            mine = [a for a in self.peer.answers if a.task_id == task.id]
            if context.current_task is None:
                value = output_of(message.parts)
                rounds = value.get("rounds", 1) if isinstance(value, dict) else 1
                self.rounds[task.id] = int(rounds or 1)
            else:
                answer = Answer(
                    message.task_id,
                    message.context_id,
                    task.id,
                    task.context_id,
                    output_of(message.parts),
                )
                self.peer.answers.append(answer)
                mine.append(answer)
            if len(mine) < self.rounds[task.id]:
                data = CHOICES if not mine else None
                await updater.requires_input(say(QUESTIONS[len(mine) % len(QUESTIONS)], data))
            else:
                result = {"answers": [a.value for a in mine], "task_id": task.id}
                await updater.add_artifact(parts_of(result), name="answers")
                await updater.complete()
        else:
            await asyncio.get_running_loop().create_future()  # until cancelled

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.task_id is not None
        self.peer.cancelled.append(context.task_id)
        task_id, context_id = context.task_id, context.context_id or context.task_id
        await TaskUpdater(event_queue, task_id, context_id).cancel()


def card_of(url: str, *, streaming: bool) -> AgentCard:
    return AgentCard(
        name="Tax Helper",
        description="A test A2A agent.",
        version="1.2.3",
        supported_interfaces=[
            AgentInterface(
                url=f"{url}/rpc",
                protocol_binding="JSONRPC",
                protocol_version=PROTOCOL_VERSION_CURRENT,
            )
        ],
        capabilities=AgentCapabilities(streaming=streaming),
        default_input_modes=["text/plain", "application/json"],
        default_output_modes=["text/plain"],
        skills=[
            AgentSkill(id=name, name=name, description=text, tags=["test"])
            for name, text in SKILLS.items()
        ],
    )


@contextlib.asynccontextmanager
async def running_peer(
    *, streaming: bool = True, token: str | None = None, port: int | None = None
) -> AsyncIterator[Peer]:
    """Serve the peer on a loopback port (``port``, or a free one) until the block ends; with
    ``token``, its JSON-RPC endpoint answers 401 to a request without ``Authorization:
    <token>``. A peer started again on the same port is the same agent that forgot its tasks."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    peer = Peer(url=url, card_url=f"{url}/.well-known/agent-card.json", port=port)
    card = card_of(url, streaming=streaming)
    handler = DefaultRequestHandler(PeerExecutor(peer), InMemoryTaskStore(), card)
    routes = [*create_agent_card_routes(card), *create_jsonrpc_routes(handler, rpc_url="/rpc")]
    app = Starlette(routes=routes)

    async def watched(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            seen = headers.get(b"authorization", b"").decode()
            peer.authorizations.append((str(scope["path"]), seen))
            if token is not None and scope["path"] == "/rpc" and seen != token:
                await Response("unauthorized", status_code=401)(scope, receive, send)
                return
            if scope["path"] == "/rpc":
                await breaking(scope, receive, send)
                return
        await app(scope, receive, send)

    async def breaking(scope: Scope, receive: Receive, send: Send) -> None:
        """The JSON-RPC endpoint, broken as the peer's fields say."""
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = bool(message.get("more_body"))
        try:
            request = json.loads(body)
        except ValueError:
            request = {}
        method = str(request.get("method")) if isinstance(request, dict) else ""
        peer.calls.append(method)
        if method in peer.unavailable:
            peer.unavailable.remove(method)
            await Response("busy", status_code=503)(scope, receive, send)
            return
        if peer.down:
            await Response("restarting", status_code=503)(scope, receive, send)
            return
        if method in peer.refuse:
            error = {"code": -32601, "message": f"Method not found: {method}"}
            answer = {"jsonrpc": "2.0", "id": request.get("id"), "error": error}
            await Response(json.dumps(answer), media_type="application/json")(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        cutting = method in peer.cut
        if cutting:
            peer.cut.remove(method)
        losing = method in peer.lose
        if losing:
            peer.lose.remove(method)

        async def sending(message: Message) -> None:
            event = message["type"] == "http.response.body" and b"data:" in message.get("body", b"")
            answered = message["type"] == "http.response.body" and (
                b"data:" in message.get("body", b"") or b'"result"' in message.get("body", b"")
            )
            if losing and answered:
                # The peer has answered (its task exists): the answer never arrives.
                peer.lost.append(method)
                raise StreamCut(f"the test peer loses this {method} answer on purpose")
            if event and method in peer.headless and method not in peer.dropped:
                peer.dropped.append(method)
                message = {**message, "body": b""}
            await send(message)
            if cutting and event:
                peer.cuts.append(method)
                peer.down = peer.down or peer.down_after_cut
                raise StreamCut(f"the test peer cuts this {method} stream on purpose")

        await app(scope, replay, sending)

    server = uvicorn.Server(
        uvicorn.Config(watched, host="127.0.0.1", port=port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
        await asyncio.sleep(0.02)
    try:
        yield peer
    finally:
        server.should_exit = True
        await serving


__all__ = ["CHOICES", "QUESTIONS", "SKILLS", "Answer", "Peer", "StreamCut", "running_peer"]


async def registered(
    delivery: A2aDelivery, card_url: str, capability: str, skill: str
) -> tuple[AgentCard, AgentRow]:
    """The peer's card, and the agent row MODX keeps once the peer is registered with
    ``capability`` served by its ``skill``: what a delivery needs, without a stack."""
    card = await fetch_card(delivery.http, card_url)
    peer = A2aPeer(
        card_url=card_url, card=json_format.MessageToDict(card), skills={capability: skill}
    )
    modx_card = ModxCard(
        name="helper", transport="a2a", a2a=peer, capabilities=[CapabilitySpec(name=capability)]
    )
    return card, AgentRow(id="helper-id", card=modx_card.model_dump(mode="json"))
