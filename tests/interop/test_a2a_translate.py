"""The A2A half of the translation layer, round trip by round trip through A2A's JSON wire
form: text, data, files by URL, errors and cancellation (runs as tasks, and remote tasks as
step answers), and what protobuf's numbers and depth limit cost."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from a2a.types import (
    Artifact,
    Message,
    Part,
    Role,
    SendMessageResponse,
    Task,
    TaskState,
    TaskStatus,
)
from google.protobuf import json_format

from services.db.models import RunRow
from services.interop.translate.a2a import (
    INPUT_REQUIRED,
    MAX_DATA_DEPTH,
    SKILL_META,
    TASK_STATE_OF_RUN,
    NotACall,
    answer_of_task,
    call_of,
    error_message,
    failure_of,
    output_of,
    parts_of,
    plain,
    request_message,
    status_of,
    task_of,
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


OUTPUTS: list[Any] = [
    {"answer": 1234, "ratio": 0.25, "items": [1, "two", None, True], "nested": {"a": []}},
    {"text": "the tax is $1,234"},
    {"text": "see the attached", "files": [{"uri": "https://x.test/a.pdf", "name": "a.pdf"}]},
    {"files": [{"uri": "https://x.test/b.csv", "mime_type": "text/csv"}]},
    {"deep": nested(MAX_DATA_DEPTH + 10)},  # past protobuf's depth: JSON text, same value
    {},
]


@pytest.mark.parametrize("output", OUTPUTS)
def test_outputs_survive_a_task_on_the_wire(output: Any) -> None:
    task = over_the_wire(task_of(run("succeeded", output=output)))
    assert output_of(task.artifacts[0].parts) == output


@pytest.mark.parametrize("step_input", OUTPUTS)
def test_step_inputs_survive_a_message_and_a_remote_answer(step_input: Any) -> None:
    message = request_message(step_input, "echo")
    assert plain(json_format.MessageToDict(message.metadata)) == {SKILL_META: "echo"}
    remote = Task(
        id="t",
        status=TaskStatus(state=TaskState.TASK_STATE_COMPLETED),
        artifacts=[Artifact(artifact_id="a", parts=list(message.parts))],
    )
    assert answer_of_task(over_the_wire(remote)) == {"output": step_input}


def test_each_kind_of_output_has_its_kind_of_part() -> None:
    (text,) = parts_of({"text": "x"})
    assert text.WhichOneof("content") == "text"
    assert parts_of({"a": 1})[0].WhichOneof("content") == "data"
    file = parts_of({"files": [{"uri": "https://x.test/f.pdf", "mime_type": "application/pdf"}]})
    assert (file[0].url, file[0].media_type) == ("https://x.test/f.pdf", "application/pdf")
    (deep,) = parts_of({"deep": nested(MAX_DATA_DEPTH)})
    assert (deep.WhichOneof("content"), deep.media_type) == ("text", "application/json")
    assert parts_of({"deep": nested(MAX_DATA_DEPTH - 2)})[0].WhichOneof("content") == "data"
    assert output_of(parts_of(7)) == {"result": 7}  # a value that is not an object


def test_large_integers_lose_precision_past_two_to_the_53() -> None:
    task = over_the_wire(task_of(run("succeeded", output={"big": 2**60, "exact": 2**53})))
    value = output_of(task.artifacts[0].parts)
    assert value["exact"] == 2**53 and isinstance(value["exact"], int)
    assert isinstance(value["big"], float)  # what the protocol's doubles keep


def test_a_peers_parts_become_an_output() -> None:
    raw = Part(raw=b"\x00\x01", media_type="application/octet-stream", filename="b.bin")
    assert output_of([Part(text="here"), raw]) == {
        "text": "here",
        "files": [
            {
                "uri": "data:application/octet-stream;base64,AAE=",
                "name": "b.bin",
                "mime_type": "application/octet-stream",
            }
        ],
    }
    assert output_of([Part(text="{not json", media_type="application/json")]) == {
        "text": "{not json"
    }


def test_run_states_map_onto_task_states() -> None:
    assert TASK_STATE_OF_RUN["pending"] == TaskState.TASK_STATE_SUBMITTED
    assert TASK_STATE_OF_RUN["running"] == TaskState.TASK_STATE_WORKING
    assert TASK_STATE_OF_RUN["succeeded"] == TaskState.TASK_STATE_COMPLETED
    assert TASK_STATE_OF_RUN["failed"] == TaskState.TASK_STATE_FAILED
    assert TASK_STATE_OF_RUN["timed_out"] == TaskState.TASK_STATE_FAILED
    assert TASK_STATE_OF_RUN["cancelled"] == TaskState.TASK_STATE_CANCELED
    assert status_of(run("running")).state == TaskState.TASK_STATE_WORKING


def test_errors_round_trip_through_the_status_message() -> None:
    error = {"code": "bad_input", "message": "no such class: Foo", "retryable": True}
    task = over_the_wire(task_of(run("failed", error=error)))
    assert task.status.state == TaskState.TASK_STATE_FAILED
    # the text: the error's chain of causes in one line, with its code (modx.error_text)
    assert task.status.message.parts[0].text == "no such class: Foo (bad_input)"
    assert not task.artifacts
    # Another MODX reading this task gets the error whole, as a step's answer.
    assert answer_of_task(task)["error"] == {**error, "remote_task_id": "run-1"}
    # Another agent's failure says it in text only: the text is the message.
    theirs = Message(role=Role.ROLE_AGENT, parts=[Part(text="quota exceeded")])
    assert failure_of(theirs, "failed").message == "quota exceeded"
    assert failure_of(None, "the task failed").message == "the task failed"


@pytest.mark.parametrize(
    ("state", "code"),
    [
        (TaskState.TASK_STATE_FAILED, "agent_error"),
        (TaskState.TASK_STATE_REJECTED, "rejected"),
        (TaskState.TASK_STATE_CANCELED, "cancelled"),
    ],
)
def test_remote_failures_rejections_and_cancellations_are_step_errors(
    state: TaskState, code: str
) -> None:
    status = TaskStatus(
        state=state, message=Message(role=Role.ROLE_AGENT, parts=[Part(text="why not")])
    )
    answer = answer_of_task(over_the_wire(Task(id="t", status=status)))
    assert answer["error"]["code"] == code and answer["error"]["message"] == "why not"
    assert answer["error"]["retryable"] is False


def test_cancellation_round_trips() -> None:
    cancelled = over_the_wire(
        task_of(run("cancelled", error={"code": "cancelled", "message": "by request"}))
    )
    assert cancelled.status.state == TaskState.TASK_STATE_CANCELED
    assert answer_of_task(cancelled)["error"]["message"] == "by request"


def test_input_required_is_the_agents_question() -> None:
    status = TaskStatus(
        state=TaskState.TASK_STATE_INPUT_REQUIRED,
        message=Message(role=Role.ROLE_AGENT, parts=[Part(text="Which tax year?")]),
    )
    error = answer_of_task(over_the_wire(Task(id="t9", status=status)))["error"]
    assert error["code"] == INPUT_REQUIRED
    assert "Which tax year?" in error["message"]
    assert error["details"] == {"question": "Which tax year?", "remote_task_id": "t9"}


def test_a_message_names_a_skill_in_data_or_asks_in_text() -> None:
    data = Message(parts=[Part(text="please"), *parts_of({"skill": "s.x", "input": {"a": 1}})])
    call = call_of(data)
    assert (call.skill, call.input) == ("s.x", {"a": 1})
    assert call_of(Message(parts=[Part(text="hello"), Part(text="there")])).text == "hello\nthere"
    with pytest.raises(NotACall, match="names a skill"):
        call_of(Message(parts=parts_of({"no": "skill"})))
    assert error_message({"message": "x"}).parts[0].text == "x"
