"""Translation between MODX and A2A 1.0: JSON values and parts, runs and tasks, errors.

Values and parts (both directions):

- a string is one text part; ``{"file": {"url", "media_type"?, "filename"?}}`` is one URL part
  (a file by reference); any other JSON value is one data part, unless it nests deeper than
  :data:`MAX_DATA_DEPTH` (protobuf refuses messages nested past 100 levels, and each JSON level
  costs two or three): then it is a text part of media type ``application/json``, read back as
  JSON;
- parts back to a value: no part is ``None``, one part is its value, several are the list of
  their values. Raw (inline bytes) parts come as ``{"file": {"bytes": <base64>, …}}``.

A2A carries data as ``google.protobuf.Value``, whose numbers are doubles: an integral number
comes back as an ``int`` (exact up to 2**53, beyond which precision is lost), and the order of
an object's keys is not kept.

A task is a run: its id and context id are the run's id, its state the run's
(:data:`TASK_STATE_OF_RUN`), its one artifact the run's output, its status message the error of
a run that did not succeed.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
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
from services.db.models import EventRow, RunRow

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


def part_value(part: Part) -> Any:
    """The JSON value a part carries (see the module docstring)."""
    kind = part.WhichOneof("content")
    if kind == "text" and part.media_type == JSON_MEDIA:
        try:
            return json.loads(part.text)
        except ValueError:
            return part.text
    if kind == "text":
        return part.text
    if kind == "data":
        return plain(json_format.MessageToDict(part.data))
    file: dict[str, Any] = {}
    if kind == "url":
        file["url"] = part.url
    elif kind == "raw":
        file["bytes"] = base64.b64encode(part.raw).decode()
    for field in ("media_type", "filename"):
        if getattr(part, field):
            file[field] = getattr(part, field)
    return {"file": file}


def value_of(parts: Iterable[Part]) -> Any:
    """The value of a message's or an artifact's parts: None, one value, or a list."""
    values = [part_value(part) for part in parts]
    if not values:
        return None
    return values[0] if len(values) == 1 else values


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


def _file_by_url(value: Any) -> dict[str, Any] | None:
    if not (isinstance(value, dict) and set(value) == {"file"} and isinstance(value["file"], dict)):
        return None
    file = value["file"]
    if not isinstance(file.get("url"), str) or not set(file) <= {"url", "media_type", "filename"}:
        return None
    return file


def parts_of(value: Any) -> list[Part]:
    """The parts that carry a JSON value (see the module docstring)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [Part(text=value)]
    file = _file_by_url(value)
    if file is not None:
        return [
            Part(
                url=file["url"],
                media_type=file.get("media_type", ""),
                filename=file.get("filename", ""),
            )
        ]
    if depth(value) > MAX_DATA_DEPTH:
        return [Part(text=json.dumps(value, ensure_ascii=False), media_type=JSON_MEDIA)]
    part = Part()
    part.data.CopyFrom(json_format.ParseDict(value, Value()))
    return [part]


def agent_message(text: str, data: Any = None, *, task_id: str = "") -> Message:
    """A message of the agent (MODX): a text, and a data part when ``data`` is given."""
    parts = [Part(text=text)]
    if data is not None:
        parts.extend(parts_of(data) if not isinstance(data, str) else [Part(text=data)])
    return Message(
        message_id=new_id(), role=Role.ROLE_AGENT, parts=parts, task_id=task_id, context_id=task_id
    )


def error_message(error: Any, *, task_id: str = "") -> Message:
    """A run's or step's error as a status message: its text, and the error as a data part."""
    text = error.get("message") if isinstance(error, dict) else None
    return agent_message(str(text or error or "failed"), {"error": error}, task_id=task_id)


def error_of(message: Message | None, default: str) -> dict[str, Any]:
    """The error a failed task's status message carries: MODX's own (its data part), or its
    text as the message."""
    if message is not None:
        for part in message.parts:
            value = part_value(part)
            if isinstance(value, dict) and isinstance(value.get("error"), dict):
                error: dict[str, Any] = value["error"]
                return error
        texts = [part.text for part in message.parts if part.WhichOneof("content") == "text"]
        if texts:
            return {"message": " ".join(texts)}
    return {"message": default}


def _timestamp(moment: datetime | None) -> Timestamp | None:
    if moment is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def status_of(run: RunRow) -> TaskStatus:
    """A run's state as a task status; a run that failed says why."""
    status = TaskStatus(state=TASK_STATE_OF_RUN.get(run.status, TaskState.TASK_STATE_WORKING))
    stamp = _timestamp(run.finished_at or run.started_at or run.created_at)
    if stamp is not None:
        status.timestamp.CopyFrom(stamp)
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


def task_of(run: RunRow, history: Iterable[Message] = ()) -> Task:
    """A run as an A2A task."""
    task = Task(id=run.id, context_id=run.id, status=status_of(run), history=list(history))
    if run.status == "succeeded":
        task.artifacts.append(artifact_of(run))
    task.metadata.CopyFrom(struct_of({META_RUN_ID: run.id, META_WORKFLOW: run.workflow_name}))
    return task


def step_update(run: RunRow, event: EventRow) -> TaskStatusUpdateEvent:
    """A transition of one of the run's steps, as a status update of the (working) task."""
    step = {
        "step_id": event.step_id,
        "status": event.to_state,
        "from": event.from_state,
        "attempt": event.attempt,
        "agent_id": event.agent_id,
    }
    text = f"step {event.step_id} {event.to_state}"
    status = TaskStatus(
        state=TaskState.TASK_STATE_WORKING,
        message=agent_message(text, {"step": step}, task_id=run.id),
    )
    stamp = _timestamp(event.created_at)
    if stamp is not None:
        status.timestamp.CopyFrom(stamp)
    return TaskStatusUpdateEvent(task_id=run.id, context_id=run.id, status=status)


def final_events(run: RunRow) -> list[TaskStatusUpdateEvent | TaskArtifactUpdateEvent]:
    """What ends a task's stream: the artifact (when the run succeeded), then the last status."""
    events: list[TaskStatusUpdateEvent | TaskArtifactUpdateEvent] = []
    if run.status == "succeeded":
        events.append(
            TaskArtifactUpdateEvent(
                task_id=run.id, context_id=run.id, artifact=artifact_of(run), last_chunk=True
            )
        )
    events.append(TaskStatusUpdateEvent(task_id=run.id, context_id=run.id, status=status_of(run)))
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
        value = part_value(part)
        if isinstance(value, dict) and isinstance(value.get("skill"), str):
            return SkillCall(value["skill"], value.get("input", {}), "")
        if isinstance(value, str):
            texts.append(value)
    text = "\n".join(t for t in texts if t.strip())
    if not text:
        raise NotACall(
            'a message names a skill in a data part {"skill": "<id>", "input": {…}}, '
            "or asks in text"
        )
    return SkillCall(None, None, text)
