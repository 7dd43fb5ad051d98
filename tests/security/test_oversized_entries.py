"""An agent's own Redis user appending entries of any size where it may append (ACL rules never
look at arguments, and a command a Redis function runs is checked against the caller's rules,
so agents cannot be made to append only through the functions): the server removes entries
over ``MODX_BUS_MAX_ENTRY_BYTES`` where it reads them, and tells them in the dead-letter
stream without their data (``bus._consumer``, ``bus.audit``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from bus import streams
from tests.e2e.test_tenancy import online, start, tenant, who
from tests.fixtures.services import wait_until
from tests.fixtures.stack import Stack, running_stack
from tests.security.test_results_sabotage import outcome, results_streams, saboteur, submit

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

HUGE = 8 * 1024 * 1024  # over the default bound (5 MiB); 10 MB was seen appended
SMALL = 1024 * 1024  # what a stream holding only small entries stays under (MEMORY USAGE)


@pytest.fixture
async def stack(tmp_path: Path, postgres_migrated_url: str, redis_url: str) -> AsyncIterator[Stack]:
    async with running_stack("distributed", tmp_path, postgres_migrated_url, redis_url) as running:
        yield running


@pytest.fixture
async def server(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def memory(server: Redis, key: str) -> int:
    return int(await server.memory_usage(key) or 0)


async def test_oversized_answers_are_removed_and_told_and_answers_still_count(
    stack: Stack, server: Redis
) -> None:
    beta = await tenant(stack, "beta")
    stop, task = await start(stack, who("beta-who", "echo.who"), beta["agent"])
    mallory = await saboteur(stack)
    targets = [streams.RESULTS, results_streams(stack)[-1]]
    try:
        await wait_until(lambda: online(stack, beta["operator"], "beta-who"), timeout=60)
        appended = {
            stream: [await mallory.xadd(stream, {"data": b"x" * HUGE}) for _ in range(3)]
            for stream in targets
        }

        async def removed() -> bool:
            for stream, ids in appended.items():
                for entry_id in ids:
                    if await server.xrange(stream, entry_id, entry_id):
                        return False
            return True

        await wait_until(removed, timeout=60)
        for stream, ids in appended.items():
            dead = await stack.runtime.transport.dead_letters(stream)
            assert len(dead) == len(ids), dead
            for letter in dead:
                bound = stack.settings.bus_max_entry_bytes
                assert letter.reason.startswith(
                    f"too large: {HUGE} bytes, over the bound of {bound}"
                ), letter.reason
                assert letter.data == b""
            # Neither the stream nor its dead letters keep the megabytes.
            assert await memory(server, stream) < SMALL
            assert await memory(server, streams.dlq(stream)) < SMALL
        # The orchestrator keeps working, and honest answers still count.
        runs = [await submit(stack, beta["operator"]) for _ in range(4)]
        for run_id in runs:
            run = await outcome(stack, beta["operator"], run_id)
            assert (run["status"], run["output"]) == ("succeeded", {"agent": "beta-who"}), run
    finally:
        await mallory.aclose()
        stop.set()
        await asyncio.gather(task, return_exceptions=True)


async def test_oversized_dead_letters_are_removed_by_the_leaders_audit(
    stack: Stack, server: Redis
) -> None:
    mallory = await saboteur(stack)
    dlq = streams.dlq(streams.tasks("cap.sabotage"))
    try:
        honest = await server.xadd(dlq, {"data": b"an honest dead letter", "reason": b"expired"})
        huge = await mallory.xadd(dlq, {"data": b"x" * HUGE, "reason": b"anything"})
        also = await mallory.xadd(dlq, {"data": b"small", "reason": b"y" * HUGE})

        async def removed() -> bool:
            return not await server.xrange(dlq, huge, huge) and not await server.xrange(
                dlq, also, also
            )

        await wait_until(removed, timeout=60)
        kept: Any = await server.xrange(dlq)
        assert [entry_id for entry_id, _ in kept] == [honest]
        told: Any = await server.xrange(streams.dlq(dlq))
        assert [fields[b"original_id"] for _, fields in told] == [huge, also]
        for _, fields in told:
            assert fields[b"reason"].startswith(b"too large: ")
            assert b"MODX_BUS_MAX_ENTRY_BYTES" in fields[b"reason"]
            assert fields[b"data"] == b""
        assert await memory(server, dlq) < SMALL
        assert await memory(server, streams.dlq(dlq)) < SMALL
        found = [a for a in stack.runtime.access.tampered if a.stream == dlq]
        assert sum(a.oversized for a in found) == 2
        # Removed by MODX: no entry counted as an agent's removal.
        assert not any(a.lost for a in found)
    finally:
        await mallory.aclose()
