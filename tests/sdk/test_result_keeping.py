"""An agent keeps a finished result through a Redis outage: it retries until the task's
deadline instead of running the task again, and spills to a file if it must stop first."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from agents.sdk import Agent
from agents.sdk.runtime import TaskRuntime
from agents.sdk.spill import ResultSpill
from bus import ConsumerOptions, streams
from bus.envelope import Envelope, Kind, utcnow
from bus.redis_streams import RedisStreamsTransport
from tests.fixtures.proxy import TcpProxy
from tests.fixtures.services import free_port, wait_until

pytestmark = pytest.mark.redis


class Held:
    """A capability that finishes only when released, counting its executions."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.runs = 0

    def agent(self, announce_after_s: float = 60) -> Agent:
        # A short visibility timeout: a task left pending would be run again within seconds.
        agent = Agent(
            "keeper",
            consumer_options=ConsumerOptions(visibility_timeout_s=1.0, block_ms=200),
            announce_after_s=announce_after_s,
        )

        @agent.capability("test.held")
        async def held(request: dict[str, Any]) -> dict[str, Any]:
            self.runs += 1
            await self.release.wait()
            return {"ok": True}

        return agent


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[tuple[TcpProxy, RedisStreamsTransport, str]]:
    """A proxy the agent reaches Redis through, a direct transport, and the proxied URL."""
    target = urlparse(redis_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 6379, free_port())
    await proxy.restore()
    direct = RedisStreamsTransport(redis_url)
    yield proxy, direct, f"redis://127.0.0.1:{proxy.port}{target.path}"
    await proxy.cut()
    await direct.close()


async def results(direct: RedisStreamsTransport) -> list[Envelope]:
    entries: Any = await direct.client.xrange(streams.RESULTS)
    found = [Envelope.from_json(fields[b"data"]) for _, fields in entries]
    return [e for e in found if e.kind is Kind.RESULT]


async def send_task(direct: RedisStreamsTransport) -> Envelope:
    task = Envelope(
        kind=Kind.TASK,
        topic="test.held",
        sender="orchestrator",
        run_id="run-1",
        step_id="a",
        attempt=1,
        deadline=utcnow() + timedelta(seconds=120),
        payload={},
    )
    await direct.publish(streams.tasks("test.held"), task)
    return task


async def test_a_result_outlives_a_redis_outage_longer_than_the_quick_retries(
    redis: tuple[TcpProxy, RedisStreamsTransport, str], tmp_path: Path
) -> None:
    proxy, direct, url = redis
    held = Held()
    transport = RedisStreamsTransport(url, reconnect_cap_s=0.5)
    runtime = TaskRuntime(held.agent(), transport, "agent-1")
    await runtime.start()
    try:
        await send_task(direct)
        await wait_until(lambda: held.runs == 1)
        await proxy.cut()
        cut_at = time.monotonic()
        held.release.set()
        # Past the transport's few quick attempts, which used to give the result up.
        await wait_until(lambda: time.monotonic() - cut_at > 4, timeout=30)
        await proxy.restore()

        async def answered() -> bool:
            return len(await results(direct)) == 1

        await wait_until(answered, timeout=60)
        pending = await direct.pending(streams.tasks("test.held"), "test.held")
        assert pending == 0  # acknowledged with its result: never handed to another agent
        assert held.runs == 1
    finally:
        await runtime.stop(drain=False)
        await transport.close()


async def test_a_task_started_lost_to_an_outage_does_not_cost_the_finished_result(
    redis: tuple[TcpProxy, RedisStreamsTransport, str],
) -> None:
    """The handler's ``task.started`` is due while Redis is out of reach, so publishing it
    fails. The finished result is still kept and published: the task is not handed back to
    run again (which, on a shared stream, another agent did after the visibility timeout,
    and the orchestrator then refused its answer: the task was bound to this agent)."""
    proxy, direct, url = redis
    held = Held()
    transport = RedisStreamsTransport(url, reconnect_cap_s=0.5)
    runtime = TaskRuntime(held.agent(announce_after_s=0.5), transport, "agent-1")
    await runtime.start()
    try:
        task = await send_task(direct)
        await wait_until(lambda: held.runs == 1)
        await proxy.cut()  # before the announcement is due
        cut_at = time.monotonic()
        # Past the announcement and the transport's quick attempts at publishing it.
        await wait_until(lambda: time.monotonic() - cut_at > 4, timeout=30)
        held.release.set()
        await asyncio.sleep(0.5)
        await proxy.restore()

        async def answered() -> bool:
            return len(await results(direct)) == 1

        await wait_until(answered, timeout=60)
        [result] = await results(direct)
        assert (result.sender, result.causation_id) == ("agent-1", task.id)
        pending = await direct.pending(streams.tasks("test.held"), "test.held")
        assert pending == 0
        assert held.runs == 1
    finally:
        await runtime.stop(drain=False)
        await transport.close()


async def test_a_result_unsent_at_shutdown_is_spilled_and_published_on_restart(
    redis: tuple[TcpProxy, RedisStreamsTransport, str], tmp_path: Path
) -> None:
    proxy, direct, url = redis
    held = Held()
    spill = ResultSpill(tmp_path / "keeper.unsent.jsonl")
    transport = RedisStreamsTransport(url, reconnect_cap_s=0.5)
    runtime = TaskRuntime(held.agent(), transport, "agent-1", spill=spill)
    await runtime.start()
    task = await send_task(direct)
    await wait_until(lambda: held.runs == 1)
    await proxy.cut()
    held.release.set()
    await runtime.stop(drain=True)  # must not wait for the task's deadline either
    await transport.close()
    assert spill.path.exists()
    assert await results(direct) == []

    await proxy.restore()
    again = TaskRuntime(held.agent(), direct, "agent-2", spill=ResultSpill(spill.path))
    await again.start()
    try:
        # agent-2 may also run the task again (agent-1 never acknowledged it): only the
        # kept result is agent-1's.
        kept = [e for e in await results(direct) if e.sender == "agent-1"]
        assert [(e.causation_id, e.payload["output"]) for e in kept] == [(task.id, {"ok": True})]
        assert not spill.path.exists()
    finally:
        await again.stop(drain=False)
