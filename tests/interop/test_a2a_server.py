"""MODX as an A2A server, driven by the a2a-sdk's own client over JSON-RPC: discovered through
its Agent Card, a message runs the ``sara-tax`` workflow and streams a status update per step
transition then the answer as an artifact, a second task is cancelled, text is routed by
discovery (or asks which skill), tokens and roles are checked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from a2a.client import A2ACardResolver, A2AClientError, Client, ClientConfig, ClientFactory
from a2a.types import (
    AgentCard,
    CancelTaskRequest,
    GetTaskRequest,
    ListTasksRequest,
    Message,
    Part,
    Role,
    SendMessageRequest,
    StreamResponse,
    Task,
    TaskState,
)
from a2a.utils.errors import InvalidParamsError, TaskNotCancelableError, TaskNotFoundError
from google.protobuf import json_format
from google.protobuf.struct_pb2 import Value
from pydantic import BaseModel

from agents.legal.workflow import DEMO_CASE, SARA_TAX
from agents.sdk import Agent, TaskContext
from bus.ids import new_id
from services.db.models import DEFAULT_TENANT
from services.interop.a2a_skills import ASK
from services.interop.translate.a2a import SKILL_SCHEMAS, output_of, plain
from tests.e2e.test_legal import start_legal
from tests.fixtures.services import wait_until
from tests.fixtures.stack import TOKEN, Stack


class Said(BaseModel):
    text: str


helper = Agent("a2a-helper", version="1.0.0", description="Shouts; holds.")


@helper.capability("text.shout", description="Shout a text: the same text in capital letters.")
async def shout(request: Said, ctx: TaskContext) -> Said:
    return Said(text=request.text.upper())


@helper.capability("work.hold", description="Holds a number until cancelled.")
async def hold(request: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    await asyncio.get_running_loop().create_future()  # never done: ends when cancelled
    return {}


@asynccontextmanager
async def a2a_client(
    stack: Stack, token: str = TOKEN, *, streaming: bool = True, polling: bool = False
) -> AsyncIterator[tuple[Client, AgentCard]]:
    """The SDK's client, made from MODX's card as the SDK's resolver fetches it."""
    headers = {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(headers=headers, timeout=httpx.Timeout(30, read=300)) as http:
        card = await A2ACardResolver(http, stack.url).get_agent_card()
        config = ClientConfig(httpx_client=http, streaming=streaming, polling=polling)
        client = ClientFactory(config).create(card)
        try:
            yield client, card
        finally:
            await client.close()


def data_message(value: Any) -> SendMessageRequest:
    part = Part()
    part.data.CopyFrom(json_format.ParseDict(value, Value()))
    message = Message(message_id=new_id(), role=Role.ROLE_USER, parts=[part])
    return SendMessageRequest(message=message)


def text_message(text: str) -> SendMessageRequest:
    message = Message(message_id=new_id(), role=Role.ROLE_USER, parts=[Part(text=text)])
    return SendMessageRequest(message=message)


async def collect(client: Client, request: SendMessageRequest) -> list[StreamResponse]:
    return [event async for event in client.send_message(request)]


def only_task(events: list[StreamResponse]) -> Task:
    assert len(events) == 1 and events[0].HasField("task"), events
    return events[0].task


async def rest_run(stack: Stack, run_id: str) -> dict[str, Any]:
    response = await stack.client.get(f"/v1/runs/{run_id}")
    assert response.status_code == 200, response.text
    run: dict[str, Any] = response.json()
    return run


@pytest.mark.prolog
async def test_sdk_client_runs_sara_tax_streaming_then_cancels_a_second_task(
    stack: Stack, swipl: str
) -> None:
    await start_legal(stack)
    await stack.agent(helper)
    assert (await stack.client.post("/v1/workflows", json=SARA_TAX)).status_code in (200, 201)
    async with a2a_client(stack) as (client, card):
        assert card.capabilities.streaming
        assert card.supported_interfaces[0].url == f"{stack.url}/a2a"
        assert "bearer" in card.security_schemes
        skills = {skill.id: skill for skill in card.skills}
        assert {"workflow.sara-tax", "legal.validate_facts", "text.shout"} <= set(skills)
        assert "tax:CaseFacts" in skills["legal.validate_facts"].tags
        (extension,) = [e for e in card.capabilities.extensions if e.uri == SKILL_SCHEMAS]
        schemas = plain(json_format.MessageToDict(extension.params))["skills"]
        assert schemas["workflow.sara-tax"]["inputSchema"] == SARA_TAX["input_schema"]

        case = {"case": DEMO_CASE.read_text(), "case_id": "demo"}
        events = await collect(client, data_message({"skill": "workflow.sara-tax", "input": case}))
        assert events[0].HasField("task")
        task_id = events[0].task.id
        run = await rest_run(stack, task_id)
        assert run["status"] == "succeeded" and run["workflow"] == "sara-tax"
        steps = [
            plain(json_format.MessageToDict(e.status_update.status.message.parts[1].data))["step"]
            for e in events
            if e.HasField("status_update") and e.status_update.status.message.parts
            if e.status_update.status.state == TaskState.TASK_STATE_WORKING
        ]
        transitions = [(s["step_id"], s["status"]) for s in steps]
        for step in ("parse", "check", "infer", "explain"):
            assert (step, "running") in transitions and (step, "succeeded") in transitions
        history = (await stack.client.get(f"/v1/runs/{task_id}/events")).json()
        step_events = [e for e in history if e["step_id"] and e["to_state"]]
        assert len(transitions) == len(step_events)  # one update per transition, none missed
        artifacts = [e.artifact_update.artifact for e in events if e.HasField("artifact_update")]
        assert len(artifacts) == 1 and output_of(artifacts[0].parts) == run["output"]
        assert isinstance(run["output"]["answer"], int)
        assert events[-1].status_update.status.state == TaskState.TASK_STATE_COMPLETED

        got = await client.get_task(GetTaskRequest(id=task_id))
        assert got.status.state == TaskState.TASK_STATE_COMPLETED
        assert output_of(got.artifacts[0].parts) == run["output"]

    async with a2a_client(stack, streaming=False, polling=True) as (client, _):
        second = only_task(await collect(client, data_message({"skill": "work.hold", "input": {}})))
        assert second.status.state in (
            TaskState.TASK_STATE_SUBMITTED,
            TaskState.TASK_STATE_WORKING,
        )

        async def holding() -> bool:
            steps = (await rest_run(stack, second.id))["steps"]
            return bool(steps) and steps[0]["status"] == "running"

        await wait_until(holding, timeout=300)
        cancelled = await client.cancel_task(CancelTaskRequest(id=second.id))
        assert cancelled.status.state == TaskState.TASK_STATE_CANCELED
        assert (await rest_run(stack, second.id))["status"] == "cancelled"
        with pytest.raises(TaskNotCancelableError, match="has ended"):
            await client.cancel_task(CancelTaskRequest(id=second.id))

        listed = await client.list_tasks(ListTasksRequest())
        assert {task_id, second.id} <= {t.id for t in listed.tasks}
        assert listed.total_size == len(listed.tasks)
        canceled = await client.list_tasks(ListTasksRequest(status=TaskState.TASK_STATE_CANCELED))
        assert [t.id for t in canceled.tasks] == [second.id]


async def greetings(stack: Stack) -> None:
    """Two workflows that discovery cannot tell apart for 'greet the person by name'."""
    await stack.agent(helper)
    for name in ("greet-formal", "greet-casual"):
        workflow = {
            "name": name,
            "description": "Greet a person by name.",
            "input_schema": {
                "type": "object",
                "required": ["text"],
                "properties": {"text": {"type": "string"}},
            },
            "steps": [{"id": "s", "capability": "text.shout", "input": {"text": "$.input.text"}}],
            "output": "$.steps.s.output",
        }
        assert (await stack.client.post("/v1/workflows", json=workflow)).status_code in (200, 201)


async def test_text_is_routed_by_discovery_or_asks_which_skill(stack: Stack) -> None:
    await greetings(stack)
    async with a2a_client(stack, streaming=False) as (client, _):
        done = only_task(await collect(client, text_message("shout this text in capital letters")))
        assert done.status.state == TaskState.TASK_STATE_COMPLETED
        run = await rest_run(stack, done.id)
        assert run["workflow"] == "a2a.text.shout"
        assert output_of(done.artifacts[0].parts) == {"text": "SHOUT THIS TEXT IN CAPITAL LETTERS"}

        asked = only_task(await collect(client, text_message("greet the person by name")))
        assert asked.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
        question = output_of(asked.status.message.parts)
        assert "Which skill" in question["text"]
        candidates = [c["skill"] for c in question["data"]["candidates"]]
        assert set(candidates[:2]) == {"workflow.greet-formal", "workflow.greet-casual"}
        listed = (await stack.client.get("/v1/runs", params={"workflow": "greet-formal"})).json()
        assert listed["items"] == []  # nothing ran

        chosen = question["data"]["candidates"][0]["send"]
        done = only_task(await collect(client, data_message(chosen)))
        assert done.status.state == TaskState.TASK_STATE_COMPLETED
        assert output_of(done.artifacts[0].parts) == {"text": "GREET THE PERSON BY NAME"}


async def test_bad_messages_are_refused_naming_what_is_wrong(stack: Stack) -> None:
    await stack.agent(helper)
    async with a2a_client(stack, streaming=False) as (client, _):
        with pytest.raises(InvalidParamsError, match=r"no live agent serves 'no\.such'"):
            await collect(client, data_message({"skill": "no.such", "input": {}}))
        with pytest.raises(InvalidParamsError, match=r"\$\.input\.text"):
            await collect(client, data_message({"skill": "text.shout", "input": {"text": 3}}))
        with pytest.raises(InvalidParamsError, match="names a skill"):
            await collect(client, data_message({"no": "skill"}))
        with pytest.raises(TaskNotFoundError, match="no task"):
            await client.get_task(GetTaskRequest(id=new_id()))
    listed = (await stack.client.get("/v1/runs")).json()
    assert listed["items"] == []  # none of them started a run


async def test_same_message_id_is_the_same_task(stack: Stack) -> None:
    await stack.agent(helper)
    request = data_message({"skill": "text.shout", "input": {"text": "once"}})
    async with a2a_client(stack, streaming=False) as (client, _):
        first = only_task(await collect(client, request))
        again = only_task(await collect(client, request))
    assert first.id == again.id
    assert len((await stack.client.get("/v1/runs")).json()["items"]) == 1


async def test_tokens_and_roles(stack: Stack) -> None:
    await stack.agent(helper)
    run_id = await stack.submit(
        {"name": "w", "steps": [{"id": "s", "capability": "text.shout"}]}, {"text": "x"}
    )
    async with httpx.AsyncClient(base_url=stack.url) as http:
        public = (await http.get("/.well-known/agent-card.json")).json()
        assert [s["id"] for s in public["skills"]] == [ASK]  # no skill of any tenant
        assert public["capabilities"]["extendedAgentCard"]
        assert public["securitySchemes"]["bearer"]["httpAuthSecurityScheme"]["scheme"] == "Bearer"
        wrong = await http.get(
            "/.well-known/agent-card.json", headers={"authorization": "Bearer nope"}
        )
        assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
        rpc = {"jsonrpc": "2.0", "id": 1, "method": "ListTasks", "params": {}}
        assert (await http.post("/a2a", json=rpc)).status_code == 401
    viewer = await stack.client.post(
        "/v1/tokens",
        json={"tenant": DEFAULT_TENANT, "role": "viewer"},
        headers={"authorization": f"Bearer {stack.settings.admin_token}"},
    )
    assert viewer.status_code == 201, viewer.text
    async with a2a_client(stack, viewer.json()["token"], streaming=False) as (client, card):
        assert "text.shout" in {skill.id for skill in card.skills}
        assert [t.id for t in (await client.list_tasks(ListTasksRequest())).tasks] == [run_id]
        assert (await client.get_task(GetTaskRequest(id=run_id))).id == run_id
        with pytest.raises(A2AClientError, match="403"):
            await collect(client, data_message({"skill": "text.shout", "input": {"text": "x"}}))
