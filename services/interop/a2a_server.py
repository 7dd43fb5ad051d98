"""MODX as an A2A 1.0 server: the Agent Card at ``/.well-known/agent-card.json`` and the JSON-RPC
endpoint at ``/a2a``, with the same Bearer tokens as the REST API.

The a2a-sdk's JSON-RPC dispatcher parses requests and frames answers (JSON, or SSE for
streams); :class:`RunTasks` answers them from MODX's runs. A task is a run:

- ``SendMessage`` starts a run of the skill a data part names (``{"skill", "input"}``), or of
  the skill that discovery ranks best for a message's text, and answers the task when the run
  has ended (at once with ``returnImmediately``). When the ranking leaves two skills close, the
  task answers ``TASK_STATE_INPUT_REQUIRED`` with the candidates, and nothing runs.
- ``SendStreamingMessage`` (and ``SubscribeToTask``) answer the task, a status update at every
  transition of a step, then the output as an artifact and the final status.
- ``GetTask``, ``ListTasks`` and ``CancelTask`` read, list and cancel the tenant's runs.

A message's id is the run's idempotency key (``a2a:<messageId>``): a message sent again is the
same task. Starting and cancelling need an operator or admin token (403 otherwise).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Mapping
from typing import Any

from a2a.server.context import ServerCallContext
from a2a.server.events.event_queue import Event
from a2a.server.request_handlers.request_handler import RequestHandler
from a2a.server.request_handlers.response_helpers import agent_card_to_dict
from a2a.server.routes.common import DefaultServerCallContextBuilder
from a2a.server.routes.jsonrpc_dispatcher import JsonRpcDispatcher
from a2a.types import (
    AgentCard,
    CancelTaskRequest,
    DeleteTaskPushNotificationConfigRequest,
    GetExtendedAgentCardRequest,
    GetTaskPushNotificationConfigRequest,
    GetTaskRequest,
    ListTaskPushNotificationConfigsRequest,
    ListTaskPushNotificationConfigsResponse,
    ListTasksRequest,
    ListTasksResponse,
    Message,
    SendMessageRequest,
    SubscribeToTaskRequest,
    Task,
    TaskPushNotificationConfig,
    TaskState,
    TaskStatus,
)
from a2a.utils.constants import (
    AGENT_CARD_WELL_KNOWN_PATH,
    DEFAULT_LIST_TASKS_PAGE_SIZE,
    MAX_LIST_TASKS_PAGE_SIZE,
)
from a2a.utils.errors import (
    InvalidParamsError,
    PushNotificationNotSupportedError,
    TaskNotCancelableError,
    TaskNotFoundError,
    UnsupportedOperationError,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from bus.ids import new_id
from services.api.errors import ApiError
from services.auth import OPERATORS, Principal
from services.db.models import RunRow
from services.discovery.embed_run import EMBED_TENANT
from services.discovery.ranking import Capability, Corpus
from services.discovery.search import discovery_of
from services.interop import bearer, calls
from services.interop.a2a_skills import ASK, Skill, agent_card, skills_of
from services.interop.translate.a2a import (
    RUN_STATES_OF_TASK,
    NotACall,
    agent_message,
    call_of,
    final_events,
    step_update,
    task_of,
)
from services.orchestrator import runs
from services.orchestrator.states import TERMINAL_RUN
from services.runtime import Runtime

log = logging.getLogger(__name__)

RPC_PATH = "/a2a"
CARD_PATH = AGENT_CARD_WELL_KNOWN_PATH
PRINCIPAL_KEY = "modx.a2a.principal"
STARTS_OR_CANCELS = frozenset({"SendMessage", "SendStreamingMessage", "CancelTask"})
MAX_QUERY = 2000  # characters of a text that discovery ranks (as GET /v1/capabilities?q=)
# When a text-only message is clear enough to start a skill (see ``choose``).
MIN_SIMILARITY = 0.3
MIN_MARGIN = 0.05
LEXICAL_RATIO = 0.8
CANDIDATES = 3


def choose(scores: Mapping[str, float], ranking: str) -> str | None:
    """The skill a ranking clearly puts first, or None when it is ambiguous.

    Embeddings (cosine similarity): the best scores at least ``MIN_SIMILARITY`` and leads the
    next by ``MIN_MARGIN``. BM25 (unbounded scores): the best is positive and the next scores
    at most ``LEXICAL_RATIO`` of it.
    """
    ordered = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    if not ordered or ordered[0][1] <= 0:
        return None
    best, runner_up = ordered[0][1], ordered[1][1] if len(ordered) > 1 else None
    if ranking == "embedding":
        clear = best >= MIN_SIMILARITY and (runner_up is None or best - runner_up >= MIN_MARGIN)
    else:
        clear = runner_up is None or runner_up <= LEXICAL_RATIO * best
    return ordered[0][0] if clear else None


class _Caller:
    """What a handler method needs of its request: the runtime, the caller, the app's state."""

    def __init__(self, context: ServerCallContext) -> None:
        self.runtime: Runtime = context.state["runtime"]
        self.principal: Principal = context.state["principal"]
        self.app_state: Any = context.state["app_state"]
        self.rpc_url: str = context.state["rpc_url"]
        self.version: str = context.state["version"]

    @property
    def tenant(self) -> str:
        return self.principal.tenant


class _Context(DefaultServerCallContextBuilder):
    """The SDK's call context, with MODX's runtime and the authenticated caller."""

    def build(self, request: Request) -> ServerCallContext:
        context = super().build(request)
        context.state["runtime"] = request.app.state.runtime
        context.state["principal"] = request.scope[PRINCIPAL_KEY]
        context.state["app_state"] = request.app.state
        context.state["rpc_url"] = rpc_url(request)
        context.state["version"] = request.app.version
        return context


def rpc_url(request: Request) -> str:
    """The JSON-RPC endpoint's URL as the caller reaches this server."""
    return str(request.base_url).rstrip("/") + RPC_PATH


class RunTasks(RequestHandler):
    """A2A requests answered from MODX runs (see the module docstring)."""

    async def _read(self, caller: _Caller, task_id: str) -> RunRow:
        async with caller.runtime.readers() as session:
            run = await runs.get_run(session, task_id, caller.tenant)
        if run is None:  # another tenant's run answers as one that does not exist
            raise TaskNotFoundError(message=f"no task {task_id!r}")
        return run

    async def _route(self, caller: _Caller, message: Message, text: str) -> tuple[str, Any] | Task:
        """The skill and input for a text-only message, or an input-required task listing the
        candidates when discovery's ranking is ambiguous."""
        skills = {s.id: s for s in await skills_of(caller.runtime, caller.tenant)}
        takers = {i: s for i, s in skills.items() if s.text_input(text) is not None}
        if not takers:
            raise InvalidParamsError(
                message='no skill takes a lone text: send a data part {"skill", "input"}'
            )
        discovery = discovery_of(caller.app_state, caller.runtime)
        corpus = Corpus(Capability(s.id, s.description) for s in takers.values())
        scope = EMBED_TENANT.set(caller.tenant)
        try:
            ranked = await discovery.rank(text[:MAX_QUERY], corpus)
        finally:
            EMBED_TENANT.reset(scope)
        chosen = choose(ranked.scores, ranked.ranking)
        if chosen is not None:
            return chosen, takers[chosen].text_input(text)
        return self._ask(message, text, takers, ranked.scores)

    def _ask(
        self, message: Message, text: str, takers: dict[str, Skill], scores: Mapping[str, float]
    ) -> Task:
        best = sorted(takers, key=lambda i: (-scores.get(i, 0.0), i))[:CANDIDATES]
        candidates = [
            {
                "skill": i,
                "description": takers[i].description,
                "score": round(scores.get(i, 0.0), 4),
                "send": {"skill": i, "input": takers[i].text_input(text)},
            }
            for i in best
        ]
        task_id = new_id()
        question = (
            f"Which skill: {', '.join(best)}? Send a new message with a data part "
            '{"skill": "<id>", "input": …} (each candidate\'s "send" is one).'
        )
        status = TaskStatus(
            state=TaskState.TASK_STATE_INPUT_REQUIRED,
            message=agent_message(question, {"candidates": candidates}, task_id=task_id),
        )
        return Task(
            id=task_id,
            context_id=message.context_id or task_id,
            status=status,
            history=[message],
        )

    async def _start(self, caller: _Caller, message: Message) -> str | Task:
        """Start the run a message asks for; an input-required task when it is ambiguous."""
        if message.task_id:
            await self._read(caller, message.task_id)  # TaskNotFoundError when it is not one
            raise UnsupportedOperationError(
                message="a MODX task takes no further messages: send a new message"
            )
        try:
            call = call_of(message)
        except NotACall as exc:
            raise InvalidParamsError(message=str(exc)) from None
        skill, arguments = call.skill, call.input
        if skill == ASK:
            if not isinstance(arguments, str) or not arguments.strip():
                raise InvalidParamsError(message=f"$.input: {ASK} takes a text")
            skill, call_text = None, arguments
        else:
            call_text = call.text
        if skill is None:
            routed = await self._route(caller, message, call_text)
            if isinstance(routed, Task):
                return routed
            skill, arguments = routed
        key = calls.idempotency_key("a2a", message.message_id) if message.message_id else None
        try:
            return await calls.start(
                caller.runtime, caller.tenant, skill, arguments, protocol="a2a", key=key
            )
        except calls.CallRefused as exc:
            raise InvalidParamsError(message=str(exc)) from None

    async def on_message_send(self, params: SendMessageRequest, context: ServerCallContext) -> Task:
        caller = _Caller(context)
        started = await self._start(caller, params.message)
        if isinstance(started, Task):
            return started
        if params.configuration.return_immediately:
            return task_of(await self._read(caller, started), [params.message])
        ended = None
        async for run, _events in calls.history(caller.runtime, started):
            ended = run
        if ended is None:
            raise TaskNotFoundError(message=f"run {started} is gone")
        return task_of(ended, [params.message])

    async def on_message_send_stream(
        self, params: SendMessageRequest, context: ServerCallContext
    ) -> AsyncGenerator[Event]:
        caller = _Caller(context)
        started = await self._start(caller, params.message)
        if isinstance(started, Task):
            yield started
            return
        async for event in self._follow(caller, started, [params.message]):
            yield event

    async def on_subscribe_to_task(
        self, params: SubscribeToTaskRequest, context: ServerCallContext
    ) -> AsyncGenerator[Event]:
        caller = _Caller(context)
        run = await self._read(caller, params.id)
        if run.status in TERMINAL_RUN:
            raise UnsupportedOperationError(message=f"task {params.id} has ended ({run.status})")
        async for event in self._follow(caller, params.id, []):
            yield event

    async def _follow(
        self, caller: _Caller, run_id: str, history: list[Message]
    ) -> AsyncGenerator[Event]:
        """The task, a status update per step transition, then the artifact and final status."""
        last = await self._read(caller, run_id)
        yield task_of(last, history)
        async for last, events in calls.history(caller.runtime, run_id):
            for row in events:
                if row.step_id is not None and row.to_state is not None:
                    yield step_update(last, row)
        for event in final_events(last):
            yield event

    async def on_get_task(self, params: GetTaskRequest, context: ServerCallContext) -> Task:
        return task_of(await self._read(_Caller(context), params.id))

    async def on_list_tasks(
        self, params: ListTasksRequest, context: ServerCallContext
    ) -> ListTasksResponse:
        caller = _Caller(context)
        size = params.page_size or DEFAULT_LIST_TASKS_PAGE_SIZE
        if not 1 <= size <= MAX_LIST_TASKS_PAGE_SIZE:
            raise InvalidParamsError(message=f"pageSize: from 1 to {MAX_LIST_TASKS_PAGE_SIZE}")
        statuses: tuple[str, ...] = ()
        if params.status != TaskState.TASK_STATE_UNSPECIFIED:
            statuses = RUN_STATES_OF_TASK.get(params.status, ("none",))
        filters = runs.RunFilter(
            tenant=caller.tenant,
            statuses=statuses,
            id_prefix=params.context_id or None,  # a task's context id is its run's id
            created_after=(
                params.status_timestamp_after.ToDatetime(tzinfo=None)
                if params.HasField("status_timestamp_after")
                else None
            ),
        )
        async with caller.runtime.readers() as session:
            try:
                page, cursor = await runs.list_runs(
                    session, filters, size, params.page_token or None
                )
            except ValueError:
                raise InvalidParamsError(message="pageToken: not a token of this list") from None
            total = await runs.count_runs(session, filters)
        if params.context_id:
            page = [run for run in page if run.id == params.context_id]
        return ListTasksResponse(
            tasks=[task_of(run) for run in page],
            next_page_token=cursor or "",
            page_size=size,
            total_size=total,
        )

    async def on_cancel_task(self, params: CancelTaskRequest, context: ServerCallContext) -> Task:
        caller = _Caller(context)
        await self._read(caller, params.id)
        if not await caller.runtime.orchestrator.cancel_run(params.id, "cancelled by A2A client"):
            run = await self._read(caller, params.id)
            raise TaskNotCancelableError(message=f"task {params.id} has ended ({run.status})")
        return task_of(await self._read(caller, params.id))

    async def on_get_extended_agent_card(
        self, params: GetExtendedAgentCardRequest, context: ServerCallContext
    ) -> AgentCard:
        caller = _Caller(context)
        skills = await skills_of(caller.runtime, caller.tenant)
        return agent_card(skills, rpc_url=caller.rpc_url, version=caller.version)

    async def on_create_task_push_notification_config(
        self, params: TaskPushNotificationConfig, context: ServerCallContext
    ) -> TaskPushNotificationConfig:
        raise PushNotificationNotSupportedError

    async def on_get_task_push_notification_config(
        self, params: GetTaskPushNotificationConfigRequest, context: ServerCallContext
    ) -> TaskPushNotificationConfig:
        raise PushNotificationNotSupportedError

    async def on_list_task_push_notification_configs(
        self, params: ListTaskPushNotificationConfigsRequest, context: ServerCallContext
    ) -> ListTaskPushNotificationConfigsResponse:
        raise PushNotificationNotSupportedError

    async def on_delete_task_push_notification_config(
        self, params: DeleteTaskPushNotificationConfigRequest, context: ServerCallContext
    ) -> None:
        raise PushNotificationNotSupportedError


class A2aEndpoint:
    """The JSON-RPC endpoint (an ASGI app) and the Agent Card (a route endpoint)."""

    def __init__(self) -> None:
        self.dispatcher = JsonRpcDispatcher(RunTasks(), context_builder=_Context())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            principal = await bearer.reader(request)
            if principal.role not in OPERATORS and await _method(request) in STARTS_OR_CANCELS:
                raise ApiError(403, "forbidden", "starting or cancelling a task needs an operator")
        except ApiError as exc:
            await bearer.refusal(exc)(scope, receive, send)
            return
        scope[PRINCIPAL_KEY] = principal
        response = await self.dispatcher.handle_requests(request)
        await response(scope, receive, send)

    async def card(self, request: Request) -> Response:
        """``GET /.well-known/agent-card.json``: with a token, the card lists the tenant's skills;
        without one, the public card (how to connect, no skills)."""
        skills = None
        if "authorization" in request.headers:
            try:
                principal = await bearer.reader(request)
            except ApiError as exc:
                return bearer.refusal(exc)
            skills = await skills_of(request.app.state.runtime, principal.tenant)
        card = agent_card(skills, rpc_url=rpc_url(request), version=request.app.version)
        return JSONResponse(agent_card_to_dict(card))


async def _method(request: Request) -> str | None:
    """The JSON-RPC method a request calls (None when the body is not a JSON-RPC request: the
    dispatcher answers the error)."""
    try:
        body = await request.json()  # kept on the request: the dispatcher reads it again
    except ValueError:
        return None
    method = body.get("method") if isinstance(body, dict) else None
    return method if isinstance(method, str) else None
