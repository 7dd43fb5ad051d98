"""The agent's on_start / on_stop hooks: every way of serving the agent runs them."""

from __future__ import annotations

import asyncio
import logging

import pytest
from fastapi.testclient import TestClient

from agents.sdk import Agent, SetupError
from agents.sdk.testing import AgentTestEnvironment


def hooked_agent(calls: list[str]) -> Agent:
    agent = Agent("hooked")
    release = asyncio.Event()

    @agent.capability("slow.echo")
    async def echo(request: dict[str, int]) -> dict[str, int]:
        calls.append("task started")
        await release.wait()
        calls.append("task done")
        return request

    @agent.on_start
    async def first_start() -> None:
        calls.append("start 1")

    @agent.on_start
    async def second_start() -> None:
        calls.append("start 2")

    @agent.on_stop
    async def first_stop() -> None:
        calls.append("stop 1")

    @agent.on_stop
    async def second_stop() -> None:
        calls.append("stop 2")

    agent.release = release  # type: ignore[attr-defined]
    return agent


async def test_hooks_run_at_start_and_after_the_drain_at_stop() -> None:
    calls: list[str] = []
    agent = hooked_agent(calls)
    env = AgentTestEnvironment(agent)
    await env.start()
    assert calls == ["start 1", "start 2"]
    task = await env.send(env.task("slow.echo", {"n": 1}))
    await env.started(task, timeout_s=10)
    stopping = asyncio.create_task(env.stop(drain=True))
    await asyncio.sleep(0.1)
    assert "stop 2" not in calls  # not while a task is still running
    agent.release.set()  # type: ignore[attr-defined]
    assert await stopping
    assert calls == ["start 1", "start 2", "task started", "task done", "stop 2", "stop 1"]


async def test_a_failing_stop_hook_is_logged_and_the_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[str] = []
    agent = hooked_agent(calls)

    @agent.on_stop
    async def broken() -> None:
        raise OSError("cannot close")

    async with AgentTestEnvironment(agent):
        pass
    assert calls == ["start 1", "start 2", "stop 2", "stop 1"]
    failed = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in failed] == ["agent hooked: on_stop hook broken failed"]


async def test_a_failed_start_still_runs_the_stop_hooks() -> None:
    calls: list[str] = []
    agent = hooked_agent(calls)

    @agent.on_start
    async def broken() -> None:
        raise OSError("no database")

    with pytest.raises(OSError, match="no database"):
        async with AgentTestEnvironment(agent):
            pass
    assert calls == ["start 1", "start 2", "stop 2", "stop 1"]


def test_the_http_app_runs_the_hooks_in_its_lifespan() -> None:
    calls: list[str] = []
    agent = hooked_agent(calls)
    with TestClient(agent.http_app()) as client:
        assert client.get("/healthz").status_code == 200
        assert calls == ["start 1", "start 2"]
    assert calls == ["start 1", "start 2", "stop 2", "stop 1"]


def test_a_hook_must_be_an_async_function_without_arguments() -> None:
    agent = Agent("hooked")

    def not_async() -> None: ...

    async def with_argument(x: int) -> None: ...

    with pytest.raises(SetupError, match="must be an async function"):
        agent.on_stop(not_async)  # type: ignore[type-var]
    with pytest.raises(SetupError, match="takes no arguments"):
        agent.on_start(with_argument)  # type: ignore[type-var]
