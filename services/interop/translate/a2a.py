"""A2A 1.0 ↔ MODX, through the neutral parts: messages and artifacts, runs and tasks, errors.

Parts: a text part is a text, a URL part a file (its ``media_type`` and ``filename`` as the
file's ``mime_type`` and ``name``), a raw part a ``data:`` file, a data part data. A2A carries
data as ``google.protobuf.Value``, whose numbers are doubles: integral numbers come back as
``int`` (exact up to 2**53), and object keys lose their order. Protobuf refuses messages nested
past 100 levels (a JSON level costs two or three), so data deeper than :data:`MAX_DATA_DEPTH`
goes as a text part of media type ``application/json``, read back as data.

A task is a run: its id and context id are the run's id, its state the run's
(:data:`TASK_STATE_OF_RUN`), its one artifact the run's output, its status message the error of
a run that did not succeed (the text, and the whole error as data ``{"error": …}``). A remote
task's state becomes a step's answer with :func:`answer_of_task`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from a2a.types import (
    Artifact,
    Message,
    Part,
    Role,
    Task,
    TaskArtifactUpdateEvent,
    TaskState,
    TaskStatus,
    TaskStatusUpdateEvent,
)
from google.protobuf import json_format
from google.protobuf.struct_pb2 import Struct, Value
from google.protobuf.timestamp_pb2 import Timestamp

from bus.ids import new_id
from modx.errors import error_text
from services.db.models import EventRow, RunRow
from services.interop.translate import parts
from services.interop.translate.parts import Failure

TASK_STATE_OF_RUN: dict[str, TaskState] = {
    "pending": TaskState.TASK_STATE_SUBMITTED,
    "running": TaskState.TASK_STATE_WORKING,
    "succeeded": TaskState.TASK_STATE_COMPLETED,
    "failed": TaskState.TASK_STATE_FAILED,
    "timed_out": TaskState.TASK_STATE_FAILED,
    "cancelled": TaskState.TASK_STATE_CANCELED,
}
RUN_STATES_OF_TASK: dict[TaskState, tuple[str, ...]] = {
    task: tuple(run for run, state in TASK_STATE_OF_RUN.items() if state == task)
    for task in TASK_STATE_OF_RUN.values()
}
SKILL_SCHEMAS = "urn:modx:a2a:skill-schemas:v1"
"""The Agent Card extension that carries each skill's JSON Schemas (docs/interop.md)."""
OUTPUT_ARTIFACT = "output"
META_RUN_ID = "modx/run_id"
META_WORKFLOW = "modx/workflow"
_EXACT = 2**53  # doubles hold every integer up to this
MAX_DATA_DEPTH = 32  # JSON levels a data part carries (measured: 38 still parse in a Task)
JSON_MEDIA = "application/json"


def plain(value: Any) -> Any:
    """A JSON value out of protobuf: integral numbers as ``int`` again."""
    if isinstance(value, float) and value.is_integer() and abs(value) <= _EXACT:
        return int(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def struct_of(value: dict[str, Any]) -> Struct:
    """A JSON object as a protobuf ``Struct`` (metadata)."""
    return json_format.ParseDict(value, Struct())


def depth(value: Any) -> int:
    """How deep a JSON value nests (a scalar is 0, ``[1]`` is 1)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(item, dict):
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, level + 1) for child in item)
    return deepest


def neutral(part: Part) -> parts.Part:
    """An A2A part as a neutral part (see the module docstring)."""
    kind = part.WhichOneof("content")
    if kind == "text" and part.media_type == JSON_MEDIA:
        try:
            value = json.loads(part.text)
        except ValueError:
            return parts.Text(part.text)
        return parts.Data(value) if isinstance(value, dict) else parts.Data({"result": value})
    if kind == "text":
        return parts.Text(part.text)
    if kind == "data":
        value = plain(json_format.MessageToDict(part.data))
        return parts.Data(value) if isinstance(value, dict) else parts.Data({"result": value})
    name, mime = part.filename or None, part.media_type or None
    if kind == "url":
        return parts.File(part.url, name, mime)
    if kind == "raw":
        encoded = base64.b64encode(part.raw).decode()
        return parts.File(f"data:{mime or 'application/octet-stream'};base64,{encoded}", name, mime)
    return parts.Text("")


def a2a_part(part: parts.Part) -> Part:
    """A neutral part as an A2A part."""
    if isinstance(part, parts.Text):
        return Part(text=part.text)
    if isinstance(part, parts.File):
        return Part(url=part.uri, filename=part.name or "", media_type=part.mime_type or "")
    if depth(part.data) >= MAX_DATA_DEPTH:
        return Part(text=json.dumps(part.data, ensure_ascii=False), media_type=JSON_MEDIA)
    out = Part()
    out.data.CopyFrom(json_format.ParseDict(part.data, Value()))
    return out


def parts_of(output: Any) -> list[Part]:
    """A MODX output (or step input) as A2A parts (``translate.parts_of``)."""
    return [a2a_part(p) for p in parts.parts_of(output)]


def output_of(a2a_parts: Iterable[Part]) -> Any:
    """The MODX output that A2A parts make (``translate.output_of``)."""
    return parts.output_of([neutral(p) for p in a2a_parts])


def agent_message(text: str, data: dict[str, Any] | None = None, *, task_id: str = "") -> Message:
    """A message of the agent (MODX): a text, and a data part when ``data`` is given."""
    found = [Part(text=text)] + ([a2a_part(parts.Data(data))] if data is not None else [])
    return Message(
        message_id=new_id(), role=Role.ROLE_AGENT, parts=found, task_id=task_id, context_id=task_id
    )


def error_message(error: Any, *, task_id: str = "") -> Message:
    """A run's or step's error as a status message: its text, and the error as data."""
    return agent_message(error_text(error), {"error": error}, task_id=task_id)


def failure_of(message: Message | None, default: str, code: str = "agent_error") -> Failure:
    """The failure a task's status message reports: MODX's own error (its data part, code and
    ``retryable`` kept), or the message's text."""
    if message is not None:
        for part in message.parts:
            found = neutral(part)
            error = found.data.get("error") if isinstance(found, parts.Data) else None
            if isinstance(error, dict) and isinstance(error.get("message"), str):
                return Failure(
                    str(error.get("code") or code), error["message"], bool(error.get("retryable"))
                )
        texts = [p.text for p in message.parts if p.WhichOneof("content") == "text" and p.text]
        if texts:
            return Failure(code, "\n".join(texts))
    return Failure(code, default)


def _timestamp(moment: datetime | None) -> Timestamp | None:
    if moment is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def wait_message(waits: Sequence[Any], *, task_id: str, context_id: str) -> Message:
    """What a run's waiting steps ask (``a2a_tasks.Waiting``): each prompt (or the signal it
    waits for) in text, and ``{"input_required": [{"step_id", "signal", "prompt"?, "schema"?}]}``
    as data."""
    lines = [w.prompt or f"step {w.step_id} waits for the signal {w.signal!r}" for w in waits]
    lines.append(
        f"Answer with a message on task {task_id} whose data part is the signal's body"
        + (" (metadata modx/signal names the signal)." if len(waits) > 1 else ".")
    )
    message = agent_message("\n".join(lines), {"input_required": [w.as_data() for w in waits]})
    message.task_id, message.context_id = task_id, context_id
    return message


def status_of(run: RunRow, waits: Sequence[Any] = (), context_id: str | None = None) -> TaskStatus:
    """A run's state as a task status: input-required while ``waits`` (its running ``wait``
    steps) ask something; a run that failed says why."""
    state = TASK_STATE_OF_RUN.get(run.status, TaskState.TASK_STATE_WORKING)
    if waits and run.status == "running":
        state = TaskState.TASK_STATE_INPUT_REQUIRED
    status = TaskStatus(state=state)
    stamp = _timestamp(run.updated_at)  # the run's last event: A2A lists tasks by it
    if stamp is not None:
        status.timestamp.CopyFrom(stamp)
    if state == TaskState.TASK_STATE_INPUT_REQUIRED:
        status.message.CopyFrom(
            wait_message(waits, task_id=run.id, context_id=context_id or run.id)
        )
    if run.status in ("failed", "timed_out", "cancelled") and run.error is not None:
        status.message.CopyFrom(error_message(run.error, task_id=run.id))
    return status


def artifact_of(run: RunRow) -> Artifact:
    """The run's output as the task's artifact."""
    return Artifact(
        artifact_id=f"{run.id}.{OUTPUT_ARTIFACT}",
        name=OUTPUT_ARTIFACT,
        description=f"the output of run {run.id}",
        parts=parts_of(run.output),
    )


def history_of(
    run: RunRow,
    skill: str | None,
    answers: Iterable[EventRow],
    *,
    context_id: str | None = None,
    asked: Iterable[dict[str, Any]] = (),
) -> list[Message]:
    """A run's messages as its task's history, oldest first: an ask's messages before it
    (``asked``, as kept), the call that started it (its input; with ``skill``, the data part
    ``{"skill", "input"}`` a client sends), then each answer it took (a ``signal.received``
    event: the body as parts, ``modx/signal`` naming the signal). MODX keeps a call's input,
    not the message it came in: a text that discovery routed comes back as that call."""
    context = context_id or run.id
    history = [json_format.ParseDict(m, Message(), ignore_unknown_fields=True) for m in asked]
    if skill is not None or run.input is not None:
        call = {"skill": skill, "input": run.input} if skill is not None else run.input
        history.append(_user_message(f"{run.id}.input", parts_of(call), run.id, context))
    for event in answers:
        data = event.data if isinstance(event.data, dict) else {}
        message = _user_message(
            f"{run.id}.answer.{event.id}", parts_of(data.get("body")), run.id, context
        )
        message.metadata.CopyFrom(struct_of({SIGNAL_META: data.get("signal")}))
        history.append(message)
    return history


def _user_message(message_id: str, found: list[Part], task_id: str, context_id: str) -> Message:
    return Message(
        message_id=message_id,
        role=Role.ROLE_USER,
        parts=found,
        task_id=task_id,
        context_id=context_id,
    )


def task_of(
    run: RunRow,
    history: Iterable[Message] = (),
    *,
    context_id: str | None = None,
    waits: Sequence[Any] = (),
) -> Task:
    """A run as an A2A task (in its own context unless ``context_id`` is given)."""
    context = context_id or run.id
    status = status_of(run, waits, context)
    task = Task(id=run.id, context_id=context, status=status, history=list(history))
    if run.status == "succeeded":
        task.artifacts.append(artifact_of(run))
    task.metadata.CopyFrom(struct_of({META_RUN_ID: run.id, META_WORKFLOW: run.workflow_name}))
    return task


def step_update(
    run: RunRow, event: EventRow, *, context_id: str | None = None, waits: Sequence[Any] = ()
) -> TaskStatusUpdateEvent:
    """A transition of one of the run's steps, as a status update of the task: working, or
    input-required while ``waits`` (the run's running ``wait`` steps) ask something."""
    context = context_id or run.id
    if waits:
        status = TaskStatus(
            state=TaskState.TASK_STATE_INPUT_REQUIRED,
            message=wait_message(waits, task_id=run.id, context_id=context),
        )
        stamp = _timestamp(event.created_at)
        if stamp is not None:
            status.timestamp.CopyFrom(stamp)
        return TaskStatusUpdateEvent(task_id=run.id, context_id=context, status=status)
    step = {
        "step_id": event.step_id,
        "status": event.to_state,
        "from": event.from_state,
        "attempt": event.attempt,
        "agent_id": event.agent_id,
    }
    text = f"step {event.step_id} {event.to_state or event.type}"
    status = TaskStatus(
        state=TaskState.TASK_STATE_WORKING,
        message=agent_message(text, {"step": step}, task_id=run.id),
    )
    stamp = _timestamp(event.created_at)
    if stamp is not None:
        status.timestamp.CopyFrom(stamp)
    return TaskStatusUpdateEvent(task_id=run.id, context_id=context, status=status)


def final_events(
    run: RunRow, context_id: str | None = None
) -> list[TaskStatusUpdateEvent | TaskArtifactUpdateEvent]:
    """What ends a task's stream: the artifact (when the run succeeded), then the last status."""
    context = context_id or run.id
    events: list[TaskStatusUpdateEvent | TaskArtifactUpdateEvent] = []
    if run.status == "succeeded":
        events.append(
            TaskArtifactUpdateEvent(
                task_id=run.id, context_id=context, artifact=artifact_of(run), last_chunk=True
            )
        )
    status = status_of(run, (), context)
    events.append(TaskStatusUpdateEvent(task_id=run.id, context_id=context, status=status))
    return events


@dataclass(frozen=True)
class SkillCall:
    """What a message asks: a skill and its input (a data part ``{"skill", "input"}``), or only
    text, which discovery routes."""

    skill: str | None
    input: Any
    text: str


class NotACall(ValueError):
    """A message that names no skill and carries no text."""


def call_of(message: Message) -> SkillCall:
    """The skill call a message makes (its first data part that names a ``skill``).

    Raises:
        NotACall: Neither a data part naming a skill nor any text.
    """
    texts: list[str] = []
    for part in message.parts:
        found = neutral(part)
        if isinstance(found, parts.Data) and isinstance(found.data.get("skill"), str):
            return SkillCall(found.data["skill"], found.data.get("input", {}), "")
        if isinstance(found, parts.Text) and found.text.strip():
            texts.append(found.text)
    if not texts:
        raise NotACall(
            'a message names a skill in a data part {"skill": "<id>", "input": {…}}, '
            "or asks in text"
        )
    return SkillCall(None, None, "\n".join(texts))


# MODX calling a remote A2A agent.

SKILL_META = "modx/skill"
SIGNAL_META = "modx/signal"
"""A message's metadata key that names the signal it answers (when a task waits for several)."""
INPUT_REQUIRED = "input_required"
FINAL_STATES = frozenset(
    {
        TaskState.TASK_STATE_COMPLETED,
        TaskState.TASK_STATE_FAILED,
        TaskState.TASK_STATE_CANCELED,
        TaskState.TASK_STATE_REJECTED,
        TaskState.TASK_STATE_INPUT_REQUIRED,
        TaskState.TASK_STATE_AUTH_REQUIRED,
    }
)
"""States in which a remote task asks nothing more of MODX's step: its answer is made."""


def request_message(step_input: Any, skill: str) -> Message:
    """The message that asks a remote agent's ``skill`` to work on a step's input (its parts;
    the skill's id in the metadata, as A2A has no field for it)."""
    return Message(
        message_id=new_id(),
        role=Role.ROLE_USER,
        parts=parts_of(step_input),
        metadata=struct_of({SKILL_META: skill}),
    )


def answer_of_task(task: Task) -> dict[str, Any]:
    """A remote task in a final state as a step's answer (``{"output"}`` or ``{"error"}``):
    completed is its artifacts' parts (or, without artifacts, its status message's) as the
    output; failed, rejected and cancelled are errors saying why; input-required (and
    auth-required) is an error whose message is the agent's question."""
    state = task.status.state
    message = task.status.message if task.status.HasField("message") else None
    if state == TaskState.TASK_STATE_COMPLETED:
        found = [p for artifact in task.artifacts for p in artifact.parts]
        if not found and message is not None:
            found = list(message.parts)
        return {"output": output_of(found)}
    if state in (TaskState.TASK_STATE_INPUT_REQUIRED, TaskState.TASK_STATE_AUTH_REQUIRED):
        question = failure_of(message, "the agent needs more input").message
        needs = "input" if state == TaskState.TASK_STATE_INPUT_REQUIRED else "authentication"
        error = {
            "code": INPUT_REQUIRED if needs == "input" else "auth_required",
            "message": f"the agent asks for {needs}: {question}",
            "retryable": False,
            "details": {"question": question, "remote_task_id": task.id},
        }
        return {"error": error}
    names = {
        TaskState.TASK_STATE_FAILED: ("agent_error", "the agent's task failed"),
        TaskState.TASK_STATE_REJECTED: ("rejected", "the agent rejected the task"),
        TaskState.TASK_STATE_CANCELED: ("cancelled", "the agent cancelled the task"),
    }
    code, default = names.get(state, ("bad_answer", f"the agent's task ended in state {state}"))
    failure = failure_of(message, default, code)
    return {"error": {**failure.as_answer()["error"], "remote_task_id": task.id}}


def question_of(task: Task) -> dict[str, Any]:
    """What a remote task in input-required asks: its status message's text, and its other
    parts (data, files) as MODX values."""
    message = task.status.message if task.status.HasField("message") else None
    texts: list[str] = []
    data: list[Any] = []
    for part in message.parts if message is not None else ():
        found = neutral(part)
        if isinstance(found, parts.Text):
            texts.append(found.text)
        else:
            data.append(parts.output_of([found]))
    return {"text": "\n".join(texts) or "the agent needs more input", "data": data}


def conversation_of(task: Task) -> dict[str, str]:
    """The handle on a remote task that MODX keeps on the step: the task's and its context's
    ids, and which status message asked (``asked``: a later status still in input-required
    with the same message is the same question, not a new one)."""
    message = task.status.message if task.status.HasField("message") else None
    asked = message.message_id if message is not None else ""
    return {"task_id": task.id, "context_id": task.context_id, "asked": asked}


def answer_message(answer: dict[str, Any], skill: str, conversation: dict[str, Any]) -> Message:
    """The message that answers a remote task's question (``{"text"?, "data"?}``) in the same
    task and context (A2A multi-turn): a text part, a data part."""
    found: list[parts.Part] = []
    if isinstance(answer.get("text"), str):
        found.append(parts.Text(answer["text"]))
    if "data" in answer:
        value = answer["data"]
        found.append(parts.Data(value if isinstance(value, dict) else {"result": value}))
    return Message(
        message_id=new_id(),
        role=Role.ROLE_USER,
        parts=[a2a_part(p) for p in found],
        task_id=str(conversation.get("task_id") or ""),
        context_id=str(conversation.get("context_id") or ""),
        metadata=struct_of({SKILL_META: skill}),
    )


def message_json(message: Message) -> dict[str, Any]:
    """A message as JSON (kept with an ask; :func:`ask_task` reads it back)."""
    return json_format.MessageToDict(message)


def ask_task(task_id: str, context_id: str, ask: dict[str, Any], history: list[Any]) -> Task:
    """A task that asks which skill before any run exists (``a2a_tasks``): input-required, its
    question as text and ``{"candidates": …}`` as data."""
    message = agent_message(ask["question"], {"candidates": ask["candidates"]})
    message.task_id, message.context_id = task_id, context_id
    status = TaskStatus(state=TaskState.TASK_STATE_INPUT_REQUIRED, message=message)
    stamp = _timestamp(ask.get("asked_at") and datetime.fromisoformat(ask["asked_at"]))
    if stamp is not None:
        status.timestamp.CopyFrom(stamp)
    messages = [json_format.ParseDict(m, Message(), ignore_unknown_fields=True) for m in history]
    return Task(id=task_id, context_id=context_id, status=status, history=messages)


def cancelled_ask(task_id: str, context_id: str, history: list[Any], reason: str) -> Task:
    """An ask cancelled before any run: canceled, the reason as a run's error would say it."""
    message = error_message({"message": reason, "code": "cancelled"}, task_id=task_id)
    message.context_id = context_id
    status = TaskStatus(state=TaskState.TASK_STATE_CANCELED, message=message)
    status.timestamp.GetCurrentTime()
    messages = [json_format.ParseDict(m, Message(), ignore_unknown_fields=True) for m in history]
    return Task(id=task_id, context_id=context_id, status=status, history=messages)
