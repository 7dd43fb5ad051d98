"""An agent's own Redis user sabotaging the shared results streams (it may append there, so it
picks the entry's id and may trim): the runs of another tenant still complete, at once rather
than after their steps' timeout, and our own trimming raises no alarm (``bus.audit``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from bus import streams
from services.orchestrator.ownership import Ownership
from services.orchestrator.service import Orchestrator
from tests.e2e.test_tenancy import online, start, tenant, who
from tests.fixtures.identity import keyed
from tests.fixtures.services import wait_until
from tests.fixtures.stack import Stack, running_stack

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

LAST_ID = "18446744073709551615-18446744073709551615"
RUNS = 4


@pytest.fixture
async def stack(tmp_path: Path, postgres_migrated_url: str, redis_url: str) -> AsyncIterator[Stack]:
    async with running_stack("distributed", tmp_path, postgres_migrated_url, redis_url) as running:
        yield running


@pytest.fixture
async def server(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def saboteur(stack: Stack) -> Redis:
    """A client logged in as a registered bus agent's own Redis user (the default tenant's)."""
    card = keyed({"name": "saboteur", "capabilities": [{"name": "cap.sabotage"}]})
    registered = (await stack.client.post("/v1/agents", json=card)).json()
    return Redis.from_url(registered["bus_url"])


def tampering(kind: str) -> float:
    labels = {"streams": "results", "kind": kind}
    return REGISTRY.get_sample_value("modx_bus_tampering_total", labels) or 0.0


def results_streams(stack: Stack) -> list[str]:
    partitions = stack.settings.result_partitions
    return [streams.RESULTS, *(streams.result_partition(p) for p in range(partitions))]


def orchestrator(stack: Stack) -> Orchestrator:
    found: Orchestrator = stack.runtime.orchestrator
    return found


async def submit(stack: Stack, token: str) -> str:
    """A run of one ``echo.who`` step whose timeout is an hour: it cannot end by timing out."""
    workflow = {
        "name": "who",
        "steps": [{"id": "ask", "capability": "echo.who", "timeout_s": 3600}],
        "output": "$.steps.ask.output",
    }
    response = await stack.client.post(
        "/v1/runs",
        json={"workflow": workflow, "input": {}},
        headers={"authorization": f"Bearer {token}"},
    )
    assert response.status_code in (200, 202), response.text
    return str(response.json()["run_id"])


async def outcome(stack: Stack, token: str, run_id: str) -> dict[str, Any]:
    response = await stack.client.get(
        f"/v1/runs/{run_id}/wait",
        params={"timeout_s": 25},
        headers={"authorization": f"Bearer {token}"},
    )
    run: dict[str, Any] = response.json()
    return run


async def test_a_forged_last_id_does_not_stop_another_tenants_answers(
    stack: Stack, server: Redis
) -> None:
    beta = await tenant(stack, "beta")
    stop, task = await start(stack, who("beta-who", "echo.who"), beta["agent"])
    mallory = await saboteur(stack)
    forged_before = tampering("forged")
    try:
        await wait_until(lambda: online(stack, beta["operator"], "beta-who"), timeout=60)
        for stream in results_streams(stack):
            assert await mallory.xadd(stream, {"data": b"x"}, id=LAST_ID) == LAST_ID.encode()
        runs = [await submit(stack, beta["operator"]) for _ in range(RUNS)]
        for run_id in runs:
            run = await outcome(stack, beta["operator"], run_id)
            assert (run["status"], run["output"]) == ("succeeded", {"agent": "beta-who"}), run
        # Every stream was set back, and its forged entry kept as a dead letter.
        found = orchestrator(stack).redelivery.sabotaged
        assert sorted(a.stream for a in found if a.forged) == sorted(results_streams(stack))
        assert tampering("forged") == forged_before + len(results_streams(stack))
        for stream in results_streams(stack):
            assert await server.xadd(stream, {"data": b"an append"})
            dead = await stack.runtime.transport.dead_letters(stream)
            assert [d for d in dead if d.reason.startswith(f"forged: entry id {LAST_ID}")]
    finally:
        await mallory.aclose()
        stop.set()
        await asyncio.gather(task, return_exceptions=True)


async def test_answers_trimmed_before_they_are_read_are_asked_for_again(
    stack: Stack, server: Redis
) -> None:
    beta = await tenant(stack, "beta")
    stop, task = await start(stack, who("beta-who", "echo.who"), beta["agent"])
    mallory = await saboteur(stack)
    reading = orchestrator(stack)
    try:
        await wait_until(lambda: online(stack, beta["operator"], "beta-who"), timeout=60)
        # The replica stops reading answers (as under load): they wait in the streams.
        subscriptions = [reading._subscription, *reading._partitions.values()]
        for subscription in subscriptions:
            assert subscription is not None
            subscription.pause()
        # A read already waiting returns with the next entry: give it one, then none read more.
        for stream in results_streams(stack):
            await server.xadd(stream, {"data": b"wakes a waiting read"})

        async def idle() -> bool:
            lags = [(await server.xinfo_groups(s))[0]["lag"] for s in results_streams(stack)]
            return not any(lags)

        await wait_until(idle)
        runs = [await submit(stack, beta["operator"]) for _ in range(RUNS)]

        async def answered() -> bool:  # each task acknowledged: its answer was appended
            info = await server.xinfo_groups(streams.tasks("echo.who"))
            return sum(g["entries-read"] or 0 for g in info) >= RUNS and not any(
                g["pending"] for g in info
            )

        await wait_until(answered, timeout=60)
        for stream in results_streams(stack):
            await mallory.xadd(stream, {"data": b"x"}, maxlen=0, approximate=False)
            assert await server.xlen(stream) == 0
        for subscription in subscriptions:
            assert subscription is not None
            subscription.resume()

        for run_id in runs:
            run = await outcome(stack, beta["operator"], run_id)
            assert (run["status"], run["output"]) == ("succeeded", {"agent": "beta-who"}), run
            events = await stack.client.get(
                f"/v1/runs/{run_id}/events", headers={"authorization": f"Bearer {beta['operator']}"}
            )
            redelivered = [e for e in events.json() if e["type"] == "step.redelivered"]
            assert redelivered and "sabotaged" in redelivered[0]["data"]["reason"]
        found = reading.redelivery.sabotaged
        # Counted: every answer (and its task.started) trimmed, plus the saboteur's entries.
        assert sum(a.lost + a.lost_pending for a in found) >= 2 * RUNS
    finally:
        await mallory.aclose()
        stop.set()
        await asyncio.gather(task, return_exceptions=True)


async def test_our_own_trimming_raises_no_alarm(stack: Stack, server: Redis) -> None:
    beta = await tenant(stack, "beta")
    stop, task = await start(stack, who("beta-who", "echo.who"), beta["agent"])
    transport = stack.runtime.transport
    try:
        await wait_until(lambda: online(stack, beta["operator"], "beta-who"), timeout=60)
        transport.maxlen = 1  # type: ignore[attr-defined]  # every acknowledged answer may go
        trimmed = 0
        for _ in range(3):
            runs = [await submit(stack, beta["operator"]) for _ in range(RUNS)]
            for run_id in runs:
                assert (await outcome(stack, beta["operator"], run_id))["status"] == "succeeded"
            for stream in results_streams(stack):
                trimmed += await transport.trim(stream)
            assert await orchestrator(stack).redelivery.audit() == 0
        assert trimmed > 0
        assert not orchestrator(stack).redelivery.sabotaged
    finally:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)


async def test_answers_trimmed_from_modx_results_are_asked_for_again_for_any_replicas_run(
    stack: Stack, server: Redis
) -> None:
    """``modx.results`` carries answers of any run: the replica whose audit finds them trimmed
    sends again the tasks of runs another replica owns too (its audit then finds nothing)."""
    reading = orchestrator(stack)
    mallory = await saboteur(stack)
    # The saboteur never reads its tasks: the run's task stays in flight.
    step = {"id": "a", "capability": "cap.sabotage", "timeout_s": 3600}
    run_id = await stack.submit({"name": "waits", "steps": [step]})

    async def sent() -> bool:
        return any(e["type"] == "step.scheduled" for e in await stack.events(run_id))

    await wait_until(sent)
    ownership = reading.ownership
    partition = ownership.partition(run_id)
    # Another replica joins and takes the run's partition.
    name = "0-other" if partition % 2 == 0 else "zzz-other"
    other = Ownership(stack.runtime.sessions, name, partitions=ownership.partitions, lease_s=600)
    await other.renew()
    await ownership.renew()
    assert not ownership.owns(run_id) and other.owns(run_id)
    try:
        subscription = reading._subscription
        assert subscription is not None
        subscription.pause()
        await server.xadd(streams.RESULTS, {"data": b"wakes a waiting read"})

        async def idle() -> bool:
            return not (await server.xinfo_groups(streams.RESULTS))[0]["lag"]

        await wait_until(idle)
        await server.xadd(streams.RESULTS, {"data": b"an answer nobody read yet"})
        await mallory.xadd(streams.RESULTS, {"data": b"x"}, maxlen=0, approximate=False)

        async def redelivered() -> bool:
            events = await stack.events(run_id)
            return any(e["type"] == "step.redelivered" for e in events)

        await wait_until(redelivered)
        subscription.resume()
    finally:
        await mallory.aclose()
        await other.leave()
