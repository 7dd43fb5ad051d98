"""The HTTP agent: the FastAPI app (over ASGI), ``run_http`` and ``report_result``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from agents.sdk import AgentSettings, RequestRejected
from agents.sdk.http_agent import create_http_app, report_result
from bus.envelope import Envelope, Kind
from tests.fixtures.errors import assert_error
from tests.sdk.fake_registry import CLIENT_TOKEN, FakeRegistry, background, free_port, proven, serve
from tests.sdk.sample_agent import Gate, build_agent


def task_body(capability: str, payload: Any) -> dict[str, Any]:
    envelope = Envelope(
        kind=Kind.TASK,
        topic=capability,
        sender="orchestrator",
        run_id="r",
        step_id="s",
        payload=payload,
    )
    return envelope.model_dump(mode="json", by_alias=True)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = build_agent().http_app()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://agent"
    ) as http:
        yield http


async def test_task_answers_inline_with_the_output(client: httpx.AsyncClient) -> None:
    response = await client.post("/task", json=task_body("math.add", {"a": 2, "b": 5}))

    assert response.status_code == 200
    assert response.json() == {"output": {"total": 7}}


async def test_usage_is_reported_inline(client: httpx.AsyncClient) -> None:
    response = await client.post("/task", json=task_body("math.metered", {"a": 1, "b": 1}))

    assert response.json()["usage"] == {"additions": 2}


@pytest.mark.parametrize(
    ("capability", "payload", "code", "retryable"),
    [
        ("math.busy", {}, "busy", True),
        ("math.refuse", {}, "fatal_error", False),
        ("math.crash", {}, "internal_error", True),
        ("math.add", {"a": 1}, "invalid_input", False),
        ("math.unknown", {}, "unknown_capability", False),
    ],
)
async def test_task_answers_inline_with_a_structured_error(
    client: httpx.AsyncClient, capability: str, payload: Any, code: str, retryable: bool
) -> None:
    response = await client.post("/task", json=task_body(capability, payload))

    assert response.status_code == 200
    error = response.json()["error"]
    assert {"code", "message", "retryable", "details"} <= set(error)
    assert (error["code"], error["retryable"]) == (code, retryable)


async def test_invalid_input_names_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/task", json=task_body("math.add", {"a": 1}))

    assert "b: Field required" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "body",
    [b"not json", b'{"kind": "task"}', b'{"kind": "result", "topic": "math.add", "sender": "x"}'],
)
async def test_a_body_that_is_not_a_task_envelope_is_a_422(
    client: httpx.AsyncClient, body: bytes
) -> None:
    response = await client.post("/task", content=body)

    assert_error(response, 422, "invalid_envelope")


async def test_verifier_rejects_with_403() -> None:
    app = create_http_app(build_agent(), verifier=lambda envelope: "bad signature")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://agent"
    ) as http:
        response = await http.post("/task", json=task_body("math.add", {"a": 1, "b": 1}))

    assert_error(response, 403)
    assert response.json()["error"] == {
        "code": "rejected_envelope",
        "message": "bad signature",
        "details": {},
    }


async def test_run_http_registers_serves_heartbeats_and_deregisters() -> None:
    fake = FakeRegistry()
    gate = Gate()
    agent = build_agent(gate)
    agent_port = free_port()
    public_url = f"http://127.0.0.1:{agent_port}"
    async with serve(fake.app(), free_port()) as url:
        settings = AgentSettings(url=url, api_token=CLIENT_TOKEN, retry_initial_s=0.01)
        stop = asyncio.Event()
        serving = agent.run_http(
            "127.0.0.1", agent_port, public_url, settings=settings, stop=stop, handle_signals=False
        )
        async with background(serving) as running, httpx.AsyncClient(base_url=public_url) as http:
            await fake.wait_for(lambda: bool(fake.agents))
            slow = asyncio.create_task(http.post("/task", json=task_body("math.slow", {"n": 3})))
            await gate.wait_started(1)
            await fake.wait_for(
                lambda: any(c.body == {"in_flight": 1} for c in fake.of("POST", "/heartbeat"))
            )
            stop.set()
            await fake.wait_for(lambda: bool(fake.of("DELETE")))
            gate.release.set()
            response = await slow  # deregistered first, then the request in flight finished
            await running

    [registration] = fake.of("POST", "/v1/agents")
    assert proven(registration.body) == proven(
        agent.card(transport="http", endpoint=f"{public_url}/task")
    )
    assert response.json() == {"output": {"done": 3}}


async def test_report_result_posts_the_body_with_the_agent_token() -> None:
    fake = FakeRegistry()
    fake.agents["a1"] = "agent-token"
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=fake.app()), base_url="http://modx"
    ) as http:
        await report_result("task-9", {"output": {"total": 1}}, "agent-token", client=http)
        with pytest.raises(RequestRejected) as caught:
            await report_result("unknown", {"output": 1}, "agent-token", client=http)

    [call, _] = fake.of("POST")
    assert (call.path, call.token, call.body) == (
        "/v1/tasks/task-9/result",
        "agent-token",
        {"output": {"total": 1}},
    )
    assert caught.value.status == 404
