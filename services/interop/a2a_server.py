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

import json
import logging
import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
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
    Role,
    SendMessageRequest,
    SubscribeToTaskRequest,
    Task,
    TaskPushNotificationConfig,
    TaskState,
)
from a2a.utils.constants import (
    AGENT_CARD_WELL_KNOWN_PATH,
    DEFAULT_LIST_TASKS_PAGE_SIZE,
    MAX_LIST_TASKS_PAGE_SIZE,
)
from a2a.utils.error_handlers import build_error_details
from a2a.utils.errors import (
    JSON_RPC_ERROR_CODE_MAP,
    A2AError,
    ContentTypeNotSupportedError,
    InternalError,
    InvalidParamsError,
    InvalidRequestError,
    JSONParseError,
    PushNotificationNotSupportedError,
    TaskNotCancelableError,
    TaskNotFoundError,
    UnsupportedOperationError,
)
from a2a.utils.task import apply_history_length, validate_history_length
from google.protobuf import json_format
from sqlalchemy import ColumnElement
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from bus.ids import new_id
from services.api.deps import still_holds
from services.api.errors import ApiError
from services.api.input_guard import RpcKind
from services.auth import OPERATORS, Principal
from services.db.models import A2aTaskRow, EventRow, RunRow, StepRow, utcnow
from services.discovery.embed_run import EMBED_TENANT
from services.discovery.ranking import Capability, Corpus
from services.discovery.search import discovery_of
from services.interop import a2a_tasks, bearer, calls
from services.interop.a2a_params import refused as refused_param
from services.interop.a2a_skills import ASK, Skill, agent_card, skills_of
from services.interop.sealed import sealing, sealing_stream
from services.interop.translate.a2a import (
    RUN_STATES_OF_TASK,
    SIGNAL_META,
    NotACall,
    ask_task,
    call_of,
    cancelled_ask,
    final_events,
    history_of,
    message_json,
    output_of,
    step_update,
    task_of,
)
from services.orchestrator import runs
from services.orchestrator.engine import NoWaiter
from services.orchestrator.states import TERMINAL_RUN
from services.orchestrator.steps.base import SignalRefused
from services.runtime import Runtime

log = logging.getLogger(__name__)

# Errors the handlers did not mean to answer tell their type, never their text (SQL included).
sealed = sealing(A2AError, lambda text: InternalError(message=text))
sealed_stream = sealing_stream(A2AError, lambda text: InternalError(message=text))

RPC_PATH = "/a2a"
CARD_PATH = AGENT_CARD_WELL_KNOWN_PATH
PRINCIPAL_KEY = "modx.a2a.principal"
REVOKED = "the token was revoked, rotated or expired while the call ran"
STARTS_OR_CANCELS = frozenset({"SendMessage", "SendStreamingMessage", "CancelTask"})
# Methods of a capability the card says MODX lacks: A2A answers PushNotificationNotSupported
# whatever their params (3.3.4), so those are not checked first.
PUSH_CONFIGS = frozenset(
    {
        "CreateTaskPushNotificationConfig",
        "GetTaskPushNotificationConfig",
        "ListTaskPushNotificationConfigs",
        "DeleteTaskPushNotificationConfig",
    }
)
CANCELLED_BY_CLIENT = "cancelled by A2A client"
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
        self.holds: Callable[[], Awaitable[bool]] = context.state["holds"]

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
        principal = request.scope[PRINCIPAL_KEY]
        runtime = request.app.state.runtime

        async def holds() -> bool:  # a stream ends when its token is revoked meanwhile
            return await still_holds(request, runtime, principal)

        context.state["holds"] = holds
        return context


def rpc_url(request: Request) -> str:
    """The JSON-RPC endpoint's URL as the caller reaches this server."""
    return str(request.base_url).rstrip("/") + RPC_PATH


@dataclass(frozen=True)
class _Started:
    """A run a message started or answered: follow it from event ``after``."""

    run_id: str
    context_id: str | None
    after: int = 0


def picked(message: Message, candidates: Mapping[str, Any]) -> tuple[str, Any] | None:
    """The candidate a follow-up to an ask picks, with its input: a data part naming it
    (``{"skill", "input"?}``; without input, the candidate's), or a text that names exactly one
    (its id, or a workflow's name)."""
    try:
        call = call_of(message)
    except NotACall:
        return None
    if call.skill is not None:
        if call.skill not in candidates:
            return None
        given = call.input if call.input not in ({}, None) else None
        return call.skill, given if given is not None else candidates[call.skill]["send"]["input"]
    named = [
        skill
        for skill in candidates
        if any(
            re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])", call.text, re.IGNORECASE)
            for name in {skill, skill.removeprefix(calls.WORKFLOW_PREFIX)}
        )
    ]
    if len(named) != 1:
        return None
    return named[0], candidates[named[0]]["send"]["input"]


def _check_sent(params: SendMessageRequest) -> None:
    """What a sent message may not ask, beyond its params' shape (``a2a_params``): to speak as
    the agent, or push notifications the card says MODX does not send."""
    if params.message.role != Role.ROLE_USER:
        raise InvalidParamsError(
            message="message.role: a client's message is ROLE_USER (ROLE_AGENT is the server's)",
            data={"path": "$.params.message.role", "in": "body"},
        )
    if params.configuration.HasField("task_push_notification_config"):
        # A2A: a client's attempt "to use push notification features" the agent lacks
        raise PushNotificationNotSupportedError(
            message="push notifications are not supported (the card: pushNotifications false)"
        )


def _run_task(
    run: RunRow,
    row: A2aTaskRow | None,
    answers: Iterable[EventRow],
    waits: Sequence[a2a_tasks.Waiting],
    context_id: str | None = None,
) -> Task:
    """A run as a task, in its context (``context_id``, else its row's) with its history: the
    messages of the ask it answers (its row's), its call, the answers it took."""
    context = context_id or (row.context_id if row is not None else None)
    asked = row.history if row is not None else ()
    history = history_of(run, calls.skill_of(run), answers, context_id=context, asked=asked)
    return task_of(run, history, context_id=context, waits=waits)


class RunTasks(RequestHandler):
    """A2A requests answered from MODX runs (see the module docstring)."""

    async def _read(self, caller: _Caller, task_id: str) -> RunRow:
        async with caller.runtime.readers() as session:
            run = await runs.get_run(session, task_id, caller.tenant)
        if run is None:  # another tenant's run answers as one that does not exist
            raise TaskNotFoundError(message=f"no task {task_id!r}")
        return run

    async def _task(self, caller: _Caller, task_id: str) -> Task:
        """A task as it is now: a run (input-required while a ``wait`` step waits) with its
        history, or an ask."""
        async with caller.runtime.readers() as session:
            found = await a2a_tasks.run_and_steps(session, task_id, caller.tenant)
            row = await a2a_tasks.get(session, task_id, caller.tenant)
            answers = await a2a_tasks.answers_by_run(session, [found[0]] if found else [])
        if found is not None:
            run, steps = found
            waits = a2a_tasks.waits_of(run, steps)
            return _run_task(run, row, answers.get(run.id, ()), waits)
        if row is not None and row.ask is not None:
            return ask_task(row.id, row.context_id, row.ask, row.history)
        raise TaskNotFoundError(message=f"no task {task_id!r}")

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
        return await self._ask(caller, message, text, takers, ranked.scores)

    async def _ask(
        self,
        caller: _Caller,
        message: Message,
        text: str,
        takers: dict[str, Skill],
        scores: Mapping[str, float],
    ) -> Task:
        """Store the question (which skill?) as a task, and answer it."""
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
        context = message.context_id or task_id
        question = (
            f"Which skill: {', '.join(best)}? Answer on this task (taskId {task_id}) with a "
            'data part {"skill": "<id>"} (each candidate\'s "send" is one) or a text naming one.'
        )
        ask = {"text": text, "question": question, "candidates": candidates}
        return await self._keep_asking(caller, task_id, context, ask, message)

    async def _keep_asking(
        self, caller: _Caller, task_id: str, context: str, ask: dict[str, Any], message: Message
    ) -> Task:
        ask = {**ask, "asked_at": utcnow().isoformat()}
        sent = message_json(message)
        async with caller.runtime.sessions() as session:
            await a2a_tasks.save_ask(session, task_id, caller.tenant, context, ask, sent)
        async with caller.runtime.readers() as session:
            row = await a2a_tasks.get(session, task_id, caller.tenant)
        assert row is not None and row.ask is not None
        return ask_task(row.id, row.context_id, row.ask, row.history)

    async def _start(self, caller: _Caller, message: Message) -> _Started | Task:
        """Start the run a message asks for, or answer the task it names (``taskId``); an
        input-required task when it is ambiguous."""
        if message.task_id:
            return await self._continue(caller, message)
        for index, part in enumerate(message.parts):
            # A2A: a media type the agent does not take is -32005 (a file beside the call
            # was dropped unread before); the card's defaultInputModes say what it takes.
            if part.WhichOneof("content") in ("url", "raw"):
                raise ContentTypeNotSupportedError(
                    message=f"parts[{index}]: a new task takes a data part or text, not a file "
                    f"({part.media_type or 'no media type'})"
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
        run_id = await self._run(caller, skill, arguments, key=key)
        if message.context_id and message.context_id != run_id:
            async with caller.runtime.sessions() as session:
                await a2a_tasks.remember_context(session, run_id, caller.tenant, message.context_id)
        return _Started(run_id, message.context_id or None)

    async def _run(
        self, caller: _Caller, skill: str, arguments: Any, *, key: str | None, run_id: str = ""
    ) -> str:
        try:
            return await calls.start(
                caller.runtime,
                caller.tenant,
                skill,
                arguments,
                protocol="a2a",
                key=key,
                run_id=run_id or None,
            )
        except calls.CallRefused as exc:
            raise InvalidParamsError(message=str(exc)) from None

    async def _continue(self, caller: _Caller, message: Message) -> _Started | Task:
        """A message on an existing task: it picks a skill for an ask, or answers the ``wait``
        step a run waits on."""
        task_id = message.task_id
        async with caller.runtime.readers() as session:
            found = await a2a_tasks.run_and_steps(session, task_id, caller.tenant)
            row = await a2a_tasks.get(session, task_id, caller.tenant)
        context = row.context_id if row is not None else task_id
        if message.context_id and message.context_id != context:
            raise InvalidParamsError(
                message=f"contextId: task {task_id} is in context {context!r}, "
                f"not {message.context_id!r}"
            )
        if found is not None:
            run, steps = found
            after = await self._answer(caller, message, run, steps)
            return _Started(run.id, context, after)
        if row is None or row.ask is None:
            raise TaskNotFoundError(message=f"no task {task_id!r}")
        candidates = {c["skill"]: c for c in row.ask["candidates"]}
        choice = picked(message, candidates)
        if choice is None:
            question = (
                f"Still not one skill: answer with one of {', '.join(candidates)}, "
                'in a data part {"skill": "<id>"} or a text naming it.'
            )
            return await self._keep_asking(
                caller, task_id, context, {**row.ask, "question": question}, message
            )
        skill, arguments = choice
        # One run per ask, whoever answers first (a resent answer finds it).
        key = calls.idempotency_key("a2a", f"task:{task_id}")
        run_id = await self._run(caller, skill, arguments, key=key, run_id=task_id)
        return _Started(run_id, context)

    async def _answer(
        self, caller: _Caller, message: Message, run: RunRow, steps: Sequence[StepRow]
    ) -> int:
        """Deliver a message's parts as the signal a ``wait`` step of the run waits for;
        returns the last event id before it (to follow the run from there)."""
        if run.status in TERMINAL_RUN:
            raise UnsupportedOperationError(
                message=f"task {run.id} has ended ({run.status}): it takes no further messages"
            )
        waits = a2a_tasks.waits_of(run, steps)
        if not waits:
            raise UnsupportedOperationError(message=f"task {run.id} is not waiting for input")
        signals = sorted({w.signal for w in waits})
        named = json_format.MessageToDict(message.metadata).get(SIGNAL_META)
        if named is None and len(signals) > 1:
            raise InvalidParamsError(
                message=f"metadata.{SIGNAL_META}: the task waits for {', '.join(signals)}; name one"
            )
        signal = named if named is not None else signals[0]
        if signal not in signals:
            raise InvalidParamsError(
                message=f"metadata.{SIGNAL_META}: the task waits for {', '.join(signals)}, "
                f"not {signal!r}"
            )
        async with caller.runtime.readers() as session:
            after = await runs.last_event_id(session, run.id, run.created_at)
        body = output_of(message.parts)
        try:
            took = await caller.runtime.orchestrator.signal_run(
                run.id, signal, body, caller.principal.name
            )
        except SignalRefused as exc:  # the field at fault, in the body the data part carries
            raise InvalidParamsError(message=f"{exc.path}: {exc.message}") from None
        except NoWaiter as exc:  # answered meanwhile, timed out, or the run ended
            raise UnsupportedOperationError(message=str(exc)) from None
        if took is None:
            raise TaskNotFoundError(message=f"no task {run.id!r}")
        return after

    @sealed
    async def on_message_send(self, params: SendMessageRequest, context: ServerCallContext) -> Task:
        _check_sent(params)
        caller = _Caller(context)
        validate_history_length(params.configuration)
        started = await self._start(caller, params.message)
        if isinstance(started, Task):
            return apply_history_length(started, params.configuration)
        if not params.configuration.return_immediately:
            # Until the run ends, or waits for input (an interrupted task answers too).
            async for _event in self._follow(caller, started, stop_at_input=True):
                pass
        return apply_history_length(await self._task(caller, started.run_id), params.configuration)

    @sealed_stream
    async def on_message_send_stream(
        self, params: SendMessageRequest, context: ServerCallContext
    ) -> AsyncGenerator[Event]:
        _check_sent(params)
        caller = _Caller(context)
        started = await self._start(caller, params.message)
        if isinstance(started, Task):
            yield started
            return
        async for event in self._follow(caller, started, stop_at_input=True):
            yield event

    @sealed_stream
    async def on_subscribe_to_task(
        self, params: SubscribeToTaskRequest, context: ServerCallContext
    ) -> AsyncGenerator[Event]:
        caller = _Caller(context)
        task_id = params.id
        async with caller.runtime.readers() as session:
            run = await runs.get_run(session, task_id, caller.tenant)
            # A2A: the task as it is, then what comes next. Replaying its history after that
            # took a client back through states the task had left (read before the task, so
            # nothing is missed between; an update may repeat what the task already says).
            after = await runs.last_event_id(session, run.id, run.created_at) if run else 0
        task = await self._task(caller, task_id)
        if run is None:  # an ask: no run to follow until a message picks a skill
            yield task
            return
        if run.status in TERMINAL_RUN:
            raise UnsupportedOperationError(message=f"task {params.id} has ended ({run.status})")
        async for event in self._follow(caller, _Started(run.id, task.context_id, after)):
            yield event

    async def _follow(
        self,
        caller: _Caller,
        started: _Started,
        *,
        stop_at_input: bool = False,
    ) -> AsyncGenerator[Event]:
        """The task (with its history), a status update per step transition (input-required
        while a ``wait`` step waits), then the artifact and final status; with
        ``stop_at_input``, the stream ends when the task waits for input (A2A: an interrupted
        task ends a message's stream)."""
        async with caller.runtime.readers() as session:
            found = await a2a_tasks.run_and_steps(session, started.run_id, caller.tenant)
            if found is None:
                raise TaskNotFoundError(message=f"no task {started.run_id!r}")
            kept = await a2a_tasks.get(session, started.run_id, caller.tenant)
            answers = await a2a_tasks.answers_by_run(session, [found[0]])
        last, steps = found
        tracker = a2a_tasks.WaitTracker(last, steps if started.after else ())
        context = started.context_id
        waits = list(tracker.waiting.values())
        yield _run_task(last, kept, answers.get(last.id, ()), waits, context)
        async for last, events in calls.history(caller.runtime, started.run_id, started.after):
            for row in events:
                if a2a_tasks.moves(row):
                    tracker.see(last, row)
                    waits = list(tracker.waiting.values())
                    if not await caller.holds():
                        return  # the token was revoked (or rotated, or expired) meanwhile
                    yield step_update(last, row, context_id=context, waits=waits)
            if stop_at_input and tracker.interrupted(last):
                return
        if not await caller.holds():
            return
        for event in final_events(last, context):
            yield event

    @sealed
    async def on_get_task(self, params: GetTaskRequest, context: ServerCallContext) -> Task:
        validate_history_length(params)
        return apply_history_length(await self._task(_Caller(context), params.id), params)

    @sealed
    async def on_list_tasks(
        self, params: ListTasksRequest, context: ServerCallContext
    ) -> ListTasksResponse:
        caller = _Caller(context)
        validate_history_length(params)
        size = params.page_size or DEFAULT_LIST_TASKS_PAGE_SIZE
        if not 1 <= size <= MAX_LIST_TASKS_PAGE_SIZE:
            raise InvalidParamsError(message=f"pageSize: from 1 to {MAX_LIST_TASKS_PAGE_SIZE}")
        statuses: tuple[str, ...] = ()
        where: tuple[ColumnElement[bool], ...] = ()
        wanted = params.status
        if wanted == TaskState.TASK_STATE_INPUT_REQUIRED:  # a running run that waits for input
            statuses, where = ("running",), (a2a_tasks.waiting(),)
        elif wanted != TaskState.TASK_STATE_UNSPECIFIED:
            statuses = RUN_STATES_OF_TASK.get(wanted, ("none",))
            if wanted == TaskState.TASK_STATE_WORKING:
                where = (~a2a_tasks.waiting(),)
        with_asks = wanted in (
            TaskState.TASK_STATE_UNSPECIFIED,
            TaskState.TASK_STATE_INPUT_REQUIRED,
        )
        context_id = params.context_id or None
        # A2A: tasks whose status was last updated at or after it, the last updated first
        updated_after = (
            params.status_timestamp_after.ToDatetime(tzinfo=UTC)  # naive was -32603
            if params.HasField("status_timestamp_after")
            else None
        )
        filters = runs.RunFilter(
            tenant=caller.tenant,
            statuses=statuses,
            ids=a2a_tasks.runs_in_context(caller.tenant, context_id) if context_id else None,
            updated_after=updated_after,
            where=where,
        )
        try:
            after = runs.decode_cursor(params.page_token) if params.page_token else None
        except ValueError:
            raise InvalidParamsError(message="pageToken: not a token of this list") from None
        async with caller.runtime.readers() as session:
            page, more = await runs.list_runs(
                session, filters, size, params.page_token or None, by_update=True
            )
            total = await runs.count_runs(session, filters)
            asks: list[A2aTaskRow] = []
            if with_asks:
                asks = await a2a_tasks.list_asks(
                    session,
                    caller.tenant,
                    context_id=context_id,
                    updated_after=updated_after,
                    after=after,
                    limit=size,
                )
                total += await a2a_tasks.count_asks(
                    session, caller.tenant, context_id=context_id, updated_after=updated_after
                )
            rows = await a2a_tasks.rows_of(session, [run.id for run in page])
            answers = await a2a_tasks.answers_by_run(session, page)
            waits = await a2a_tasks.waits_by_run(session, page)
        merged: list[RunRow | A2aTaskRow] = sorted(
            [*page, *asks], key=lambda row: (row.updated_at, row.id), reverse=True
        )
        shown = merged[:size]
        cursor = ""
        if shown and (more is not None or len(merged) > size):
            cursor = runs.cursor_after(shown[-1].updated_at, shown[-1].id)
        tasks = [
            apply_history_length(
                _run_task(row, rows.get(row.id), answers.get(row.id, ()), waits.get(row.id, ()))
                if isinstance(row, RunRow)
                else ask_task(row.id, row.context_id, row.ask or {}, row.history),
                params,
            )
            for row in shown
        ]
        return ListTasksResponse(
            tasks=tasks, next_page_token=cursor, page_size=size, total_size=total
        )

    @sealed
    async def on_cancel_task(self, params: CancelTaskRequest, context: ServerCallContext) -> Task:
        caller = _Caller(context)
        task_id = params.id
        async with caller.runtime.sessions() as session:
            ask = await a2a_tasks.forget_ask(session, task_id, caller.tenant)
        if ask is not None:  # no run to cancel: the ask ends here
            return cancelled_ask(ask.id, ask.context_id, ask.history, CANCELLED_BY_CLIENT)
        await self._read(caller, task_id)
        if not await caller.runtime.orchestrator.cancel_run(task_id, CANCELLED_BY_CLIENT):
            run = await self._read(caller, task_id)
            raise TaskNotCancelableError(message=f"task {task_id} has ended ({run.status})")
        return task_of(await self._read(caller, task_id))

    @sealed
    async def on_get_extended_agent_card(
        self, params: GetExtendedAgentCardRequest, context: ServerCallContext
    ) -> AgentCard:
        caller = _Caller(context)
        skills = await skills_of(caller.runtime, caller.tenant)
        return agent_card(skills, rpc_url=caller.rpc_url, version=caller.version)

    @sealed
    async def on_create_task_push_notification_config(
        self, params: TaskPushNotificationConfig, context: ServerCallContext
    ) -> TaskPushNotificationConfig:
        raise PushNotificationNotSupportedError

    @sealed
    async def on_get_task_push_notification_config(
        self, params: GetTaskPushNotificationConfigRequest, context: ServerCallContext
    ) -> TaskPushNotificationConfig:
        raise PushNotificationNotSupportedError

    @sealed
    async def on_list_task_push_notification_configs(
        self, params: ListTaskPushNotificationConfigsRequest, context: ServerCallContext
    ) -> ListTaskPushNotificationConfigsResponse:
        raise PushNotificationNotSupportedError

    @sealed
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
        if not json_body(request):
            # A2A's JSON-RPC binding: requests are application/json (the SDK read any body)
            _, content = refusal(
                None, "request", "content-type", "must be application/json", where="header"
            )
            await Response(content, status_code=415, media_type="application/json")(
                scope, receive, send
            )
            return
        if await _notification(request):
            # JSON-RPC 2.0, 4.1: a notification is never answered. Every A2A method is a
            # request whose outcome only its answer tells, so none is run unanswered.
            await Response(status_code=204)(scope, receive, send)
            return
        refused = await self._refused_params(request)
        if refused is not None:
            await refused(scope, receive, send)
            return
        response = await self.dispatcher.handle_requests(request)
        # A call's answer is whole by now (a blocking SendMessage waited for its run): as
        # GET /v1/runs/{id}/wait, it is sent only while its token holds. A stream checks
        # before each event it sends (``_follow``).
        if isinstance(response, JSONResponse) and not await still_holds(
            request, request.app.state.runtime, principal
        ):
            await bearer.refusal(ApiError(401, "unauthorized", REVOKED))(scope, receive, send)
            return
        await response(scope, receive, send)

    async def _refused_params(self, request: Request) -> Response | None:
        """A ``-32602`` for params that leave out a REQUIRED field or name an enum value that
        does not exist, which the SDK's parser would let through (``a2a_params``); else None."""
        try:
            body = await request.json()  # kept on the request: the dispatcher reads it again
        except ValueError:
            return None
        if not isinstance(body, dict):
            return None
        method = str(body.get("method"))
        model = self.dispatcher.METHOD_TO_MODEL.get(method)
        descriptor = getattr(model, "DESCRIPTOR", None)  # a protobuf message class
        if descriptor is None or method in PUSH_CONFIGS:
            return None
        found = refused_param(body.get("params"), descriptor)
        if found is None:
            return None
        request_id = body.get("id")
        if isinstance(request_id, bool) or not isinstance(request_id, str | int):
            request_id = None
        status, content = refusal(request_id, "params", *found)
        return Response(content, status_code=status, media_type="application/json")

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


_REFUSED: dict[RpcKind, type[A2AError]] = {
    "parse": JSONParseError,
    "request": InvalidRequestError,
    "params": InvalidParamsError,
}


def refusal(
    request_id: str | int | None, kind: RpcKind, path: str, reason: str, *, where: str = "body"
) -> tuple[int, bytes]:
    """The input guard's refusal of a hostile body, as the SDK's dispatcher answers its own
    errors (HTTP 200, the field in the error's ``ErrorInfo`` metadata): the SDK's client then
    raises ``InvalidParamsError`` with the path instead of a bare HTTP error. Written out here:
    the SDK's ``build_error_response`` has no model for a parse error."""
    error = _REFUSED[kind](message=f"{path}: {reason}", data={"path": path, "in": where})
    code = JSON_RPC_ERROR_CODE_MAP[type(error)]
    details = build_error_details(error)
    error_body = {"code": code, "message": error.message, "data": details}
    body = {"jsonrpc": "2.0", "id": request_id, "error": error_body}
    return 200, json.dumps(body).encode()


def json_body(request: Request) -> bool:
    """Whether the request says its body is JSON (``application/json``, any parameters)."""
    media = request.headers.get("content-type", "")
    return media.split(";", 1)[0].strip().lower() == "application/json"


async def _notification(request: Request) -> bool:
    """Whether the body is a JSON-RPC notification: a valid request object without ``id``
    (JSON-RPC 2.0, 4.1; an invalid one is answered with the error, as section 5 says)."""
    try:
        body = await request.json()  # kept on the request: the dispatcher reads it again
    except ValueError:
        return False
    return (
        isinstance(body, dict)
        and "id" not in body
        and body.get("jsonrpc") == "2.0"
        and isinstance(body.get("method"), str)
    )


async def _method(request: Request) -> str | None:
    """The JSON-RPC method a request calls (None when the body is not a JSON-RPC request: the
    dispatcher answers the error)."""
    try:
        body = await request.json()  # kept on the request: the dispatcher reads it again
    except ValueError:
        return None
    method = body.get("method") if isinstance(body, dict) else None
    return method if isinstance(method, str) else None
