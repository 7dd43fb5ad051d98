"""An agent's own Redis user sabotaging its capability's task dead-letter stream, which every
agent of the capability appends to (of every tenant, for a shared capability): a forged last id
is undone by the leader's audit and no other agent's dead letter is lost meanwhile; dead letters
an agent trims away are counted as tampering, and MODX's own removals never are
(``BusAccess.audit``, ``bus.audit``)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from bus import ConsumerOptions, Envelope, RedisStreamsTransport, codec, streams
from bus.audit import Audit
from services.registry.bus_access import BusAccess
from tests.bus.contract import envelope
from tests.fixtures.identity import keyed
from tests.fixtures.services import wait_until
from tests.fixtures.stack import running_stack

pytestmark = pytest.mark.redis

LAST_ID = "18446744073709551615-18446744073709551615"
CAPABILITY = "dlq.sabotage"
TASKS = streams.tasks(CAPABILITY)
DLQ = streams.dlq(TASKS)


class Bus:
    """The server's transport and bus access, and two agents of one shared capability, each
    with its own Redis user: ``honest`` and ``mallory``."""

    def __init__(self, server: RedisStreamsTransport, access: BusAccess) -> None:
        self.server = server
        self.access = access
        self.agents: dict[str, dict[str, str]] = {}
        self.urls: dict[str, str] = {}

    async def grant(self, name: str) -> str:
        agent_id = f"{name}-{uuid.uuid4().hex[:8]}"
        granted = await self.access.grant(agent_id, {CAPABILITY: "shared"})
        assert not granted.inbox_only
        self.agents[agent_id] = {CAPABILITY: "shared"}
        self.urls[name] = granted.bus_url
        return agent_id


@pytest.fixture
async def bus(redis_url: str) -> AsyncIterator[Bus]:
    server = RedisStreamsTransport(redis_url, trim_interval_s=0, maxlen=2, approximate_trim=False)
    found = Bus(server, BusAccess(server, redis_url, secret=b"s" * 32, clock_skew_s=300))
    try:
        yield found
    finally:  # Redis users outlive a database's flush
        await found.access.revoke(found.agents)
        await server.close()


@pytest.fixture
async def admin(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


def tampering(kind: str) -> float:
    labels = {"streams": "dead_letters", "kind": kind}
    return REGISTRY.get_sample_value("modx_bus_tampering_total", labels) or 0.0


def expired(i: int) -> Envelope:
    """A task its agent dead-letters (without running it): its deadline has passed."""
    return envelope(i, deadline=datetime.now(UTC) - timedelta(seconds=1))


async def test_a_forged_last_id_is_undone_and_no_other_agents_dead_letter_is_lost(
    bus: Bus, admin: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    await bus.grant("honest")
    await bus.grant("mallory")
    mallory = Redis.from_url(bus.urls["mallory"])
    honest = RedisStreamsTransport(bus.urls["honest"], trim_interval_s=0)
    forged_before = tampering("forged")
    options = ConsumerOptions(visibility_timeout_s=0.2, block_ms=50)
    subscription = await honest.subscribe(TASKS, CAPABILITY, "honest", _never, options)
    try:
        assert await mallory.xadd(DLQ, {"data": b"x"}, id=LAST_ID) == LAST_ID.encode()
        await bus.server.publish(TASKS, expired(1))

        # Dead-lettering fails: the task stays pending with the agent, which says so and
        # tries again after each visibility timeout.
        def refused() -> int:
            return sum("exhausted the last possible ID" in r.getMessage() for r in caplog.records)

        await wait_until(lambda: refused() >= 2)
        assert await bus.server.pending(TASKS, CAPABILITY) == 1

        [found] = await bus.access.audit(bus.agents)

        assert found == Audit(DLQ, forged=1)
        assert tampering("forged") == forged_before + 1
        [moved] = await bus.server.dead_letters(DLQ)  # the dead letters of the dead letters
        assert moved.reason.startswith(f"forged: entry id {LAST_ID}")
        assert (moved.data, moved.stream) == (b"x", DLQ)

        async def dead_lettered() -> bool:
            return bool(await bus.server.dead_letters(TASKS))

        await wait_until(dead_lettered)
        [letter] = await bus.server.dead_letters(TASKS)
        assert letter.envelope is not None and letter.envelope.payload == {"i": 1}
        assert letter.reason.startswith("expired")
        await wait_until(lambda: subscription.in_flight == 0)
        assert await bus.server.pending(TASKS, CAPABILITY) == 0
        assert await bus.access.audit(bus.agents) == []
    finally:
        await subscription.stop()
        await honest.close()
        await mallory.aclose()


async def _never(task: Envelope) -> None:
    raise AssertionError(f"an expired task reached the handler: {task.id}")


async def test_an_honest_dead_letter_after_a_forged_id_keeps_its_reason(
    bus: Bus, admin: Redis
) -> None:
    """An id a day ahead blocks nothing, but every later dead letter gets an id after it: the
    audit moves them all, the honest ones with what they said."""
    await bus.grant("mallory")
    mallory = Redis.from_url(bus.urls["mallory"])
    try:
        now_ms = int(datetime.now(UTC).timestamp() * 1000)
        await mallory.xadd(DLQ, {"data": b"x"}, id=f"{now_ms + 86_400_000}-0")
        honest = codec.dead_letter_fields(
            data=b"task",
            reason="rejected: bad signature",
            deliveries=1,
            stream=TASKS,
            original_id="1-0",
            group=CAPABILITY,
            consumer="honest",
        )
        await admin.xadd(DLQ, honest)  # type: ignore[arg-type]

        [found] = await bus.access.audit(bus.agents)

        assert (found.forged, found.lost) == (2, 0)
        moved = {d.data: d for d in await bus.server.dead_letters(DLQ)}
        assert moved[b"task"].reason.endswith("; its own reason: rejected: bad signature")
        assert moved[b"task"].deliveries == 1
        assert await admin.xlen(DLQ) == 0
        assert await admin.xadd(DLQ, {"data": b"an honest append"})
        assert await bus.access.audit(bus.agents) == []
    finally:
        await mallory.aclose()


async def test_dead_letters_an_agent_trims_are_counted_once_and_ours_never(
    bus: Bus, admin: Redis
) -> None:
    await bus.grant("mallory")
    mallory = Redis.from_url(bus.urls["mallory"])
    removed_before = tampering("removed")
    try:
        letters = [_text(await admin.xadd(DLQ, {"data": f"letter {i}"})) for i in range(8)]
        # MODX's own removals: an operator's replay and discard, the trimmer past maxlen.
        await bus.server.replay_dead_letter(TASKS, letters[0])
        assert await bus.server.discard_dead_letter(TASKS, letters[1])
        assert not await bus.server.discard_dead_letter(TASKS, letters[1])
        assert await bus.server.trim(DLQ) == 4  # six left, maxlen 2
        assert await bus.access.audit(bus.agents) == []

        # An agent's: all but its own entry goes, then that too.
        await mallory.xadd(DLQ, {"data": b"y"}, maxlen=1, approximate=False)
        [found] = await bus.access.audit(bus.agents)
        assert found == Audit(DLQ, lost=2)
        await mallory.xadd(DLQ, {"data": b"z"}, maxlen=0, approximate=False)
        [found] = await bus.access.audit(bus.agents)
        assert found == Audit(DLQ, lost=2)
        assert tampering("removed") == removed_before + 4
        assert await bus.access.audit(bus.agents) == []  # counted once
        assert await admin.xlen(DLQ) == 0
    finally:
        await mallory.aclose()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@pytest.mark.postgres
async def test_the_leader_audits_its_agents_dead_letter_streams(
    tmp_path: Path,
    postgres_migrated_url: str,
    redis_url: str,
    admin: Redis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Registered over the API, an agent blocks its capability's dead-letter stream: the
    running service sets it back on its own."""
    async with running_stack("distributed", tmp_path, postgres_migrated_url, redis_url) as stack:
        card = keyed({"name": "mallory", "capabilities": [{"name": CAPABILITY}]})
        registered = (await stack.client.post("/v1/agents", json=card)).json()
        mallory = Redis.from_url(registered["bus_url"])
        try:
            with caplog.at_level(logging.WARNING, "services.registry.bus_access"):
                await mallory.xadd(DLQ, {"data": b"x"}, id=LAST_ID)

                async def set_back() -> bool:
                    return await admin.xlen(DLQ) == 0

                await wait_until(set_back)
            assert await admin.xadd(DLQ, {"data": b"an honest dead letter"})
            assert [a.stream for a in stack.runtime.access.tampered] == [DLQ]
            assert any("tampered with by an agent" in r.getMessage() for r in caplog.records)
        finally:
            await mallory.aclose()


async def test_dead_letters_agents_append_are_trimmed_by_the_server(
    redis_url: str, admin: Redis
) -> None:
    """Only agents append to a capability's dead-letter stream, and their users may not trim
    it for us: the server trims each one it audits, past ``maxlen``, as its own removals."""
    server = RedisStreamsTransport(
        redis_url, trim_interval_s=0.05, maxlen=2, approximate_trim=False
    )
    found = Bus(server, BusAccess(server, redis_url, secret=b"s" * 32, clock_skew_s=300))
    try:
        await found.grant("mallory")
        mallory = Redis.from_url(found.urls["mallory"])
        try:
            for i in range(20):
                await mallory.xadd(DLQ, {"data": f"letter {i}"})
            assert await found.access.audit(found.agents) == []

            async def trimmed() -> bool:
                return await admin.xlen(DLQ) <= 2

            await wait_until(trimmed)
            assert await found.access.audit(found.agents) == []  # ours: no tampering
        finally:
            await mallory.aclose()
    finally:
        await found.access.revoke(found.agents)
        await server.close()
