"""Dispatch to remote agents (here HTTP ones) is bounded and loses nothing: a window per agent,
a cancelled run's queued tasks never sent and its deliveries in flight cut short, and a delivery
that meets a database outage sent once it is over."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from agents.sdk import Agent, AgentSettings, TaskContext
from bus.envelope import Envelope
from services.config import Settings
from services.orchestrator.definitions import parse_definition
from services.registry import store
from services.registry.schemas import AgentCard
from services.runtime import Runtime
from tests.fixtures.proxy import TcpProxy
from tests.fixtures.services import free_port, wait_until
from tests.fixtures.stack import TOKEN, Stack, running_stack


class Endpoint:
    """An HTTP agent that counts the tasks it gets and how many run at once."""

    def __init__(self, overlap: int = 1) -> None:
        self.gate = asyncio.Event()
        self.gate.set()
        self.overlapped = asyncio.Event()  # set once `overlap` deliveries ran at once
        self.received: list[str] = []
        self.running = 0
        self.most = 0
        self.agent = Agent("slow-http", max_concurrency=100)

        @self.agent.capability("test.slow")
        async def slow(request: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
            self.received.append(ctx.run_id or "")
            self.running += 1
            self.most = max(self.most, self.running)
            if self.running >= overlap:
                self.overlapped.set()
            try:
                # The first `overlap` deliveries wait for each other: with the window's size,
                # the window fills whatever the machine's load.
                await self.overlapped.wait()
                await asyncio.sleep(0.02)  # some work: a step's time runs from the POST
                await self.gate.wait()
            finally:
                self.running -= 1
            return {"ok": True}


FAN_OUT = {
    "name": "fan",
    "steps": [
        {
            "id": "each",
            "capability": "test.slow",
            "for_each": "$.input.items",
            "input": {"i": "$.item"},
        }
    ],
}


@contextlib.asynccontextmanager
async def serving(endpoint: Endpoint, stack: Stack) -> AsyncIterator[None]:
    port = free_port()
    stop = asyncio.Event()
    task = asyncio.create_task(
        endpoint.agent.run_http(
            "127.0.0.1",
            port,
            f"http://127.0.0.1:{port}",
            settings=AgentSettings(url=stack.url, api_token=TOKEN),
            stop=stop,
            handle_signals=False,
        )
    )
    try:
        await stack.wait_agent("slow-http")
        yield
    finally:
        endpoint.gate.set()  # nothing left blocked when the test failed early
        stop.set()
        await task


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(
        "embedded", tmp_path, None, None, http_dispatch_per_agent=3, egress_allow=["127.0.0.1"]
    ) as stack:
        yield stack


async def test_no_more_posts_to_an_agent_at_once_than_its_window(stack: Stack) -> None:
    endpoint = Endpoint(overlap=3)
    async with serving(endpoint, stack):
        run_id = await stack.submit(FAN_OUT, {"items": list(range(30))})
        run = await stack.wait(run_id)
    assert run["status"] == "succeeded", run
    assert len(endpoint.received) == 30
    assert endpoint.most == 3


async def test_a_cancelled_runs_queued_tasks_are_never_sent(stack: Stack) -> None:
    endpoint = Endpoint()
    endpoint.gate.clear()
    http = stack.runtime.remote
    async with serving(endpoint, stack):
        run_id = await stack.submit(FAN_OUT, {"items": list(range(10))})
        await wait_until(lambda: len(endpoint.received) == 3 and http.queued == 7)
        response = await stack.client.post(f"/v1/runs/{run_id}/cancel")
        assert response.status_code == 202, response.text
        endpoint.gate.set()
        await wait_until(lambda: http.queued == 0 and http.in_flight == 0)
    assert len(endpoint.received) == 3  # none of the 7 queued was sent
    # Each of the 7 was dropped at its check before sending, or cut short by the watcher
    # during that check (a slow machine: seen once under load); the 3 sent were cut short or
    # answered. No other way out of the dispatcher leaves ``received`` at 3.
    assert 7 <= http.dropped + http.cancelled <= 10, (http.dropped, http.cancelled)


async def test_a_cancelled_runs_deliveries_in_flight_are_cut_short(stack: Stack) -> None:
    endpoint = Endpoint()
    endpoint.gate.clear()  # the agent never answers on its own
    remote = stack.runtime.remote
    async with serving(endpoint, stack):
        run_id = await stack.submit(FAN_OUT, {"items": list(range(3))})
        await wait_until(lambda: len(endpoint.received) == 3)
        response = await stack.client.post(f"/v1/runs/{run_id}/cancel")
        assert response.status_code == 202, response.text
        await wait_until(lambda: remote.in_flight == 0)
        assert remote.cancelled == 3
        assert (await stack.wait(run_id))["status"] == "cancelled"


@pytest.mark.postgres
async def test_a_delivery_that_meets_a_database_outage_is_sent_after_it(
    postgres_migrated_url: str, tmp_path: Path
) -> None:
    target = urlparse(postgres_migrated_url.replace("+asyncpg", ""))
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432, free_port())
    await proxy.restore()
    url = postgres_migrated_url.replace(
        f"{target.hostname}:{target.port or 5432}", f"127.0.0.1:{proxy.port}"
    )
    settings = Settings(database_url=url, data_dir=tmp_path, egress_allow=["127.0.0.1"])
    runtime = await Runtime.open(settings, orchestrate=False)
    endpoint = Endpoint()
    port = free_port()
    stop = asyncio.Event()
    app_task = asyncio.create_task(_serve_app(endpoint.agent, port, stop))
    try:
        card = AgentCard.model_validate(
            {
                "name": "slow-http",
                "transport": "http",
                "endpoint": f"http://127.0.0.1:{port}/task",
                "capabilities": [{"name": "test.slow"}],
            }
        )
        async with runtime.sessions() as session, session.begin():
            agent, _ = await store.register_agent(session, card, lease_s=600)
        sent: list[tuple[str, Envelope]] = []
        runtime.orchestrator.relay.remote_submit = lambda a, e: sent.append((a, e))
        definition = parse_definition(
            {"name": "one", "steps": [{"id": "a", "capability": "test.slow", "input": {}}]}
        )
        run = await runtime.orchestrator.create_run(definition, {})
        assert run is not None and len(sent) == 1

        await proxy.cut()
        runtime.remote.submit(*sent[0])
        await wait_until(lambda: runtime.remote.outage.down)  # its database read failed
        await proxy.restore()
        await wait_until(lambda: endpoint.received == [run.id], timeout=60)
        assert agent.id == sent[0][0]
    finally:
        stop.set()
        await app_task
        await runtime.close()
        await proxy.cut()


async def _serve_app(agent: Agent, port: int, stop: asyncio.Event) -> None:
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(agent.http_app(), host="127.0.0.1", port=port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    await stop.wait()
    server.should_exit = True
    await serving


async def test_an_http_steps_time_runs_from_the_post_to_the_answer(stack: Stack) -> None:
    # The agent answers in its 200 body and never announces a start: the POST is the start.
    endpoint = Endpoint()
    async with serving(endpoint, stack):
        run_id = await stack.submit(FAN_OUT, {"items": [1]})
        run = await stack.wait(run_id)
    assert run["status"] == "succeeded", run
    (item,) = [s for s in run["steps"] if s.get("item_index") is not None]
    started = datetime.fromisoformat(item["started_at"])
    finished = datetime.fromisoformat(item["finished_at"])
    assert (finished - started).total_seconds() >= 0.02, item  # the handler sleeps 20 ms
