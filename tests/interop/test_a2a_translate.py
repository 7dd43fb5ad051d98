"""The A2A half of the translation layer, round trip by round trip: text, data, files by URL,
errors and cancellation, and what protobuf's numbers and depth limit cost."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from a2a.types import Message, Part, Role, SendMessageResponse, Task, TaskState
from google.protobuf import json_format

from services.db.models import RunRow
from services.interop.a2a_translate import (
    MAX_DATA_DEPTH,
    TASK_STATE_OF_RUN,
    NotACall,
    call_of,
    error_of,
    parts_of,
    status_of,
    task_of,
    value_of,
)


def over_the_wire(task: Task) -> Task:
    """A task as a JSON-RPC client reads it: to JSON and back."""
    wire = json_format.MessageToDict(SendMessageResponse(task=task))
    return json_format.ParseDict(wire, SendMessageResponse()).task


def nested(levels: int) -> Any:
    value: Any = "leaf"
    for level in range(levels):
        value = [value] if level % 2 else {"k": value}
    return value


def run(status: str, output: Any = None, error: dict[str, Any] | None = None) -> RunRow:
    now = datetime.now(UTC)
    return RunRow(
        id="run-1",
        workflow_name="w",
        status=status,
        output=output,
        error=error,
        created_at=now,
        started_at=now,
        finished_at=now if status not in ("pending", "running") else None,
    )


@pytest.mark.parametrize(
    "value",
    [
        "a text",
        {"answer": 1234, "ratio": 0.25, "items": [1, "two", None, True], "nested": {"a": []}},
        [1, 2, 3],
        7,
        {"file": {"url": "https://example.org/case.pdf", "media_type": "application/pdf"}},
        {"file": {"url": "https://example.org/x", "filename": "x.txt"}},
        nested(MAX_DATA_DEPTH + 10),  # past protobuf's depth: JSON text, same value
        None,
    ],
)
def test_values_survive_parts_and_the_wire(value: Any) -> None:
    task = task_of(run("succeeded", output=value))
    assert value_of(task.artifacts[0].parts) == value
    assert value_of(over_the_wire(task).artifacts[0].parts) == value


def test_each_kind_of_value_has_its_kind_of_part() -> None:
    assert parts_of("x")[0].WhichOneof("content") == "text"
    assert parts_of({"a": 1})[0].WhichOneof("content") == "data"
    file = parts_of({"file": {"url": "https://example.org/f.pdf", "media_type": "application/pdf"}})
    assert (file[0].url, file[0].media_type) == ("https://example.org/f.pdf", "application/pdf")
    deep = parts_of(nested(MAX_DATA_DEPTH + 1))[0]
    assert (deep.WhichOneof("content"), deep.media_type) == ("text", "application/json")
    assert parts_of(nested(MAX_DATA_DEPTH))[0].WhichOneof("content") == "data"
    # An object with "file" and other keys is data, not a file.
    assert parts_of({"file": {"url": "u"}, "more": 1})[0].WhichOneof("content") == "data"


def test_large_integers_lose_precision_past_two_to_the_53() -> None:
    task = over_the_wire(task_of(run("succeeded", output={"big": 2**60, "exact": 2**53})))
    value = value_of(task.artifacts[0].parts)
    assert value["exact"] == 2**53 and isinstance(value["exact"], int)
    assert isinstance(value["big"], float)  # what the protocol's doubles keep


def test_raw_parts_come_as_base64_files() -> None:
    part = Part(raw=b"\x00\x01", media_type="application/octet-stream", filename="b.bin")
    assert value_of([part]) == {
        "file": {"bytes": "AAE=", "media_type": "application/octet-stream", "filename": "b.bin"}
    }


def test_several_parts_are_a_list_and_none_is_none() -> None:
    assert value_of([Part(text="a"), *parts_of({"b": 1})]) == ["a", {"b": 1}]
    assert value_of([]) is None


def test_run_states_map_onto_task_states_and_back() -> None:
    assert TASK_STATE_OF_RUN["pending"] == TaskState.TASK_STATE_SUBMITTED
    assert TASK_STATE_OF_RUN["running"] == TaskState.TASK_STATE_WORKING
    assert TASK_STATE_OF_RUN["succeeded"] == TaskState.TASK_STATE_COMPLETED
    assert TASK_STATE_OF_RUN["failed"] == TaskState.TASK_STATE_FAILED
    assert TASK_STATE_OF_RUN["timed_out"] == TaskState.TASK_STATE_FAILED
    assert TASK_STATE_OF_RUN["cancelled"] == TaskState.TASK_STATE_CANCELED


def test_errors_round_trip_through_the_status_message() -> None:
    error = {"code": "agent_error", "message": "no such class: Foo", "details": [{"path": "$.x"}]}
    task = over_the_wire(task_of(run("failed", error=error)))
    assert task.status.state == TaskState.TASK_STATE_FAILED
    assert task.status.message.parts[0].text == "no such class: Foo"
    assert error_of(task.status.message, "failed") == error
    assert not task.artifacts
    # Another agent's failure says it in text only: the text is the message.
    theirs = Message(role=Role.ROLE_AGENT, parts=[Part(text="quota exceeded")])
    assert error_of(theirs, "failed") == {"message": "quota exceeded"}
    assert error_of(None, "the task failed") == {"message": "the task failed"}


def test_cancellation_round_trips() -> None:
    cancelled = over_the_wire(
        task_of(run("cancelled", error={"code": "cancelled", "message": "by request"}))
    )
    assert cancelled.status.state == TaskState.TASK_STATE_CANCELED
    assert error_of(cancelled.status.message, "") == {"code": "cancelled", "message": "by request"}
    assert status_of(run("running")).state == TaskState.TASK_STATE_WORKING


def test_a_message_names_a_skill_in_data_or_asks_in_text() -> None:
    data = Message(parts=[Part(text="please"), *parts_of({"skill": "s.x", "input": {"a": 1}})])
    call = call_of(data)
    assert (call.skill, call.input) == ("s.x", {"a": 1})
    assert call_of(Message(parts=[Part(text="hello"), Part(text="there")])).text == "hello\nthere"
    with pytest.raises(NotACall, match="names a skill"):
        call_of(Message(parts=parts_of({"no": "skill"})))
