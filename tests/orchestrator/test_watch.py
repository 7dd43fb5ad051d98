"""Run wake-ups: one shared interest per run, and notices between replicas over Redis."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from bus.redis_client import connect
from services.orchestrator.watch import RunNotices, RunWatch
from tests.fixtures.services import wait_until


async def test_waiters_on_one_run_share_one_interest_and_wake_together() -> None:
    watch = RunWatch()
    woken: list[bool] = []

    async def waiter() -> None:
        with watch.on_finish("r1") as finished:
            woken.append(await finished.wait(60))

    tasks = [asyncio.create_task(waiter()) for _ in range(50)]
    await wait_until(lambda: len(watch._on_finish) == 1 and watch._on_finish["r1"].count == 50)
    await watch.notify(["r2"], [])  # another run's change wakes nobody here
    await watch.notify(["r1"], ["r1"])
    await asyncio.gather(*tasks)
    assert woken == [True] * 50
    assert watch._on_finish == {}  # the last waiter out drops the interest


async def test_a_change_before_the_wait_is_not_missed() -> None:
    watch = RunWatch()
    with watch.on_change("r1") as changed:
        await watch.notify(["r1"])  # as if committed between the caller's read and its wait
        assert await changed.wait(60)


@pytest.mark.parametrize("server", ["redis_url", "redis_cluster_url"])
async def test_a_finish_on_one_replica_wakes_waiters_on_another(
    server: str, request: pytest.FixtureRequest
) -> None:
    """On one Redis, and on a Redis Cluster (whose nodes pass PUBLISH on to each other)."""
    url = request.getfixturevalue(server)
    channel = f"test:runs:{uuid.uuid4().hex}"
    clients = [connect(url), connect(url)]
    watches = [RunWatch(), RunWatch()]
    notices = [RunNotices(c, w, channel) for c, w in zip(clients, watches, strict=True)]
    for n in notices:
        n.start()
    try:
        for n in notices:
            await asyncio.wait_for(n.subscribed.wait(), 30)
        with watches[1].on_finish("r1") as finished, watches[1].on_change("r2") as changed:
            # Garbage on the channel is ignored (a notice only ever causes a re-read).
            for junk in (b"x", b"0" * 32 + b"{not json", b"1" * 32 + b'{"c": 5}'):
                await clients[0].publish(channel, junk)
            await watches[0].notify(["r1", "r2"], ["r1"])
            assert await finished.wait(60)
            assert await changed.wait(60)
    finally:
        for n in notices:
            await n.stop()
        for c in clients:
            await c.aclose()
