"""Cancellation, heartbeats and progress reach the agent, in both modes (issue 17, point 5).

A cancelled run's handler observes its cancellation, over the bus and over HTTP, and nothing it
answers afterwards is recorded; a task whose heartbeats stop is sent again long before its own
timeout; ``ctx.progress`` shows in the run's events and its event stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from agents.sdk import Agent, AgentSettings, TaskContext
from services.dashboard import auth
from tests.fixtures.services import free_port, wait_until
from tests.fixtures.stack import ADMIN, TOKEN, Stack

COOKIE = {"cookie": f"{auth.COOKIE}={auth.issue(ADMIN)}"}


class Sleeper:
    """An agent whose handler sleeps for 60 s and notes when it is cancelled."""

    def __init__(self, name: str) -> None:
        self.started = asyncio.Event()
        self.cancelled = asyncio.Event()
        self.agent = Agent(name)

        @self.agent.capability("test.sleep60")
        async def sleep60(request: dict[str, Any]) -> dict[str, Any]:
            self.started.set()
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                self.cancelled.set()
                raise
            return {"slept": True}


SLEEP = {"name": "sleep", "steps": [{"id": "nap", "capability": "test.sleep60"}]}


@contextlib.asynccontextmanager
async def over_http(agent: Agent, stack: Stack) -> AsyncIterator[None]:
    port = free_port()
    stop = asyncio.Event()
    serving = asyncio.create_task(
        agent.run_http(
            "127.0.0.1",
            port,
            f"http://127.0.0.1:{port}",
            settings=AgentSettings(url=stack.url, api_token=TOKEN),
            stop=stop,
            handle_signals=False,
        )
    )
    try:
        await stack.wait_agent(agent.name)
        yield
    finally:
        stop.set()
        await serving


async def _cancel_and_check(stack: Stack, sleeper: Sleeper) -> None:
    run_id = await stack.submit(SLEEP)
    await wait_until(sleeper.started.is_set)
    response = await stack.client.post(f"/v1/runs/{run_id}/cancel")
    assert response.status_code == 202, response.text
    await wait_until(sleeper.cancelled.is_set)
    run = (await stack.client.get(f"/v1/runs/{run_id}")).json()
    assert run["status"] == "cancelled"
    assert [(s["status"], s["output"]) for s in run["steps"]] == [("cancelled", None)]
    events = await stack.events(run_id)
    cancels = [
        e for e in events if e["type"] == "message.sent" and e["data"].get("topic") == "task.cancel"
    ]
    assert len(cancels) == 1, events
    assert not [e for e in events if e["type"] == "step.succeeded"]
    ledger = (await stack.client.get(f"/v1/runs/{run_id}/ledger")).json()
    assert [e["kind"] for e in ledger["entries"]] == ["run.cancelled"]


async def test_a_cancel_reaches_a_bus_agents_handler(stack: Stack) -> None:
    sleeper = Sleeper("sleeper-bus")
    await stack.agent(sleeper.agent)
    await _cancel_and_check(stack, sleeper)


async def test_a_cancel_reaches_an_http_agents_handler(stack: Stack) -> None:
    sleeper = Sleeper("sleeper-http")
    async with over_http(sleeper.agent, stack):
        await _cancel_and_check(stack, sleeper)
        # Its POST was answered "cancelled": the answer came, and was not recorded.
        await wait_until(lambda: stack.runtime.remote.in_flight == 0)


class Stopper:
    """The first delivery heartbeats once and then hangs without a heartbeat; later ones
    answer at once."""

    def __init__(self) -> None:
        self.deliveries: list[str] = []
        self.first_cancelled = asyncio.Event()
        self.agent = Agent("stopper", max_concurrency=4)

        @self.agent.capability("test.hang_once")
        async def hang_once(request: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
            self.deliveries.append(ctx.task_id)
            if len(self.deliveries) == 1:
                await ctx.heartbeat()
                try:
                    await asyncio.Event().wait()
                except asyncio.CancelledError:
                    self.first_cancelled.set()
                    raise
            return {"delivery": len(self.deliveries)}


HEARTBEAT = {
    "name": "heartbeat",
    "steps": [
        {
            "id": "work",
            "capability": "test.hang_once",
            "timeout_s": 600,
            "heartbeat_timeout_s": 1,
        }
    ],
    "output": "$.steps.work.output",
}


async def test_a_task_whose_heartbeats_stop_is_sent_again(stack: Stack) -> None:
    stopper = Stopper()
    await stack.agent(stopper.agent)
    run_id = await stack.submit(HEARTBEAT)
    run = await stack.wait(run_id)
    assert run["status"] == "succeeded", run
    assert run["output"] == {"delivery": 2}
    step = run["steps"][0]
    assert step["attempt"] == 1  # the same attempt, sent again
    assert len(stopper.deliveries) == 2 and len(set(stopper.deliveries)) == 2
    await wait_until(stopper.first_cancelled.is_set)  # the stuck holder was told to stop
    events = await stack.events(run_id)
    lost = [e for e in events if e["type"] == "step.heartbeat_lost"]
    assert len(lost) == 1 and lost[0]["data"]["task_id"] == stopper.deliveries[0]
    # Long before the step's own timeout (600 s): the heartbeat timeout decided.
    scheduled = datetime.fromisoformat(step["scheduled_at"])
    finished = datetime.fromisoformat(step["finished_at"])
    assert (finished - scheduled).total_seconds() < 600


async def test_a_task_that_heartbeats_is_left_to_run(stack: Stack) -> None:
    beats = Agent("beater")

    @beats.capability("test.beat")
    async def beat(request: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
        for _ in range(28):  # 7 s in all, over twice the heartbeat timeout
            await ctx.heartbeat()
            await asyncio.sleep(0.25)
        return {"done": True}

    await stack.agent(beats)
    workflow = {
        "name": "beats",
        "steps": [{"id": "b", "capability": "test.beat", "heartbeat_timeout_s": 3}],
    }
    run = await stack.wait(await stack.submit(workflow))
    assert run["status"] == "succeeded", run
    events = await stack.events(run["run_id"])
    assert not [e for e in events if e["type"] == "step.heartbeat_lost"]


async def test_progress_reaches_the_runs_events_and_stream_while_it_runs(stack: Stack) -> None:
    reporter = Agent("reporter")
    seen: list[asyncio.Event] = [asyncio.Event(), asyncio.Event()]

    @reporter.capability("test.report")
    async def report(request: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
        await ctx.progress("half way", {"done": 1, "of": 2})
        await seen[0].wait()  # the test saw it in the run's stream, while this still runs
        await ctx.progress("nearly", {"done": 2, "of": 2})
        await seen[1].wait()
        return {"ok": True}

    await stack.agent(reporter)
    workflow = {"name": "report", "steps": [{"id": "r", "capability": "test.report"}]}
    run_id = await stack.submit(workflow)
    streamed: list[dict[str, Any]] = []
    async with stack.client.stream("GET", f"/v1/runs/{run_id}/stream", timeout=60) as response:
        async for line in response.aiter_lines():
            if line.startswith("data: ") and '"step.progress"' in line:
                streamed.append(json.loads(line[len("data: ") :]))
                if len(streamed) == 1:  # the dashboard shows it while the step runs
                    page = await stack.client.get(f"/dashboard/runs/{run_id}", headers=COOKIE)
                    assert "half way" in page.text
                seen[len(streamed) - 1].set()
            if len(streamed) == 2:
                break
    run = await stack.wait(run_id)
    assert run["status"] == "succeeded", run
    assert [e["data"]["message"] for e in streamed] == ["half way", "nearly"]
    progress = [
        (e["step_id"], e["data"])
        for e in await stack.events(run_id)
        if e["type"] == "step.progress"
    ]
    assert progress == [
        ("r", {"message": "half way", "data": {"done": 1, "of": 2}}),
        ("r", {"message": "nearly", "data": {"done": 2, "of": 2}}),
    ]
