"""An agent's own Redis user runs no code of its own (``bus.functions``), and stays in its
deployment's database.

It could ``EVAL``: ACL rules check the commands and keys a script touches, never how long it
runs. ``EVAL "redis.call('XADD', KEYS[1], '*', 'data', 'x') while true do end" 1
modx.results`` answered every other client of that Redis, of every tenant, ``BUSY``, and
``SCRIPT KILL`` ``UNKILLABLE`` (it had written): only ``SHUTDOWN NOSAVE`` ended it. Seen on a
private redis-server with the rules ``agent_rules`` made. Now the user may ``FCALL`` the
server's functions only, which commit its answers and dead letters as the scripts did.

On private redis-servers: a user's rules and the functions are the server's, not a database's.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import NoPermissionError

from bus import ConsumerOptions, Envelope, RedisStreamsTransport, streams
from services.registry.bus_access import BusAccess, user_name
from tests.bus.contract import envelope
from tests.fixtures.services import private_redis, wait_until

pytestmark = pytest.mark.redis

CAPABILITY = "code.attack"
TASKS = streams.tasks(CAPABILITY)

# Each runs for a while, or for ever, whatever Redis's other clients wait for.
CODE = [
    ("EVAL", "for i = 1, 3e7 do end", 0),
    ("EVAL_RO", "for i = 1, 3e7 do end", 0),
    ("EVAL", "redis.call('XADD', KEYS[1], '*', 'data', 'x') for i = 1, 3e7 do end", 1, TASKS),
    ("SCRIPT", "LOAD", "for i = 1, 3e7 do end"),
    ("FUNCTION", "LOAD", "#!lua name=mine\nredis.register_function('f', function() end)"),
    ("FUNCTION", "DELETE", "modx_bus"),
    ("FUNCTION", "FLUSH"),
]


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    with private_redis(tmp_path) as url:
        yield url


@pytest.fixture
async def server(redis_url: str) -> AsyncIterator[RedisStreamsTransport]:
    transport = RedisStreamsTransport(redis_url, trim_interval_s=0)
    await wait_until(transport.ping)
    yield transport
    await transport.close()


async def test_an_agents_user_may_run_no_code_of_its_own(
    server: RedisStreamsTransport, redis_url: str
) -> None:
    access = BusAccess(server, redis_url, secret=b"s" * 32, partitions=2)
    granted = await access.grant("mallory", {CAPABILITY: "tenant:a"})
    mallory = Redis.from_url(granted.bus_url)
    try:
        for command in CODE:
            with pytest.raises(NoPermissionError):
                await mallory.execute_command(*command)  # type: ignore[no-untyped-call]
        assert await server.client.xlen(TASKS) == 0
        [library] = await server.client.function_list()  # ours only, as loaded
        assert library[1] == b"modx_bus" and len(library[5]) == 2
    finally:
        await mallory.aclose()


async def test_an_agents_user_may_select_its_deployments_database_only(redis_url: str) -> None:
    """Key patterns hold in every database of a server: an agent of the deployment on database
    5 could ``SELECT 6`` and read what another deployment's task stream of the same name
    carried there, from its start (a group of its own), and append to its results streams."""
    url = redis_url.removesuffix("/0") + "/5"
    server = RedisStreamsTransport(url, trim_interval_s=0)
    await wait_until(server.ping)
    other = Redis.from_url(redis_url.removesuffix("/0") + "/6")
    mallory: Redis | None = None
    try:
        await other.xadd(TASKS, {"data": b"another deployment's task"})
        access = BusAccess(server, url, secret=b"s" * 32, partitions=2)
        granted = await access.grant("mallory", {CAPABILITY: "tenant:a"})
        assert granted.bus_url.endswith("/5")
        mallory = Redis.from_url(granted.bus_url)
        assert await mallory.xreadgroup(CAPABILITY, "m", {TASKS: ">"}) == []  # its own, on 5
        for database in (0, 6):
            with pytest.raises(NoPermissionError):
                await mallory.execute_command("SELECT", database)  # type: ignore[no-untyped-call]
        assert await mallory.xadd(streams.RESULTS, {"data": b"still on 5"})
        assert await server.client.xlen(streams.RESULTS) == 1
    finally:
        if mallory is not None:
            await mallory.aclose()
        await other.aclose()
        await server.close()


async def test_an_agent_answers_and_dead_letters_through_the_servers_functions(
    server: RedisStreamsTransport, redis_url: str
) -> None:
    """An agent's answers and dead letters go out as before, and after Redis restarted empty
    (its users and functions gone), once the leader's round made them again: meanwhile an
    answer is kept and retried, not failed."""
    access = BusAccess(server, redis_url, secret=b"s" * 32, partitions=2)
    agent_id = f"honest-{uuid.uuid4().hex[:8]}"
    granted = await access.grant(agent_id, {CAPABILITY: "tenant:a"})
    agent = RedisStreamsTransport(granted.bus_url, trim_interval_s=0, reconnect_cap_s=0.2)
    answered: list[int] = []

    async def answers(task: Envelope) -> list[tuple[str, Envelope]]:
        answered.append(task.payload["i"])
        return [(streams.result_partition(1), envelope(task.payload["i"]))]

    options = ConsumerOptions(visibility_timeout_s=30, block_ms=50)
    subscription = await agent.subscribe(TASKS, CAPABILITY, agent_id, answers, options)
    far = datetime.now(UTC) + timedelta(minutes=5)
    try:
        await server.publish(TASKS, envelope(1, deadline=far))
        await server.publish(TASKS, envelope(2, deadline=datetime.now(UTC) - timedelta(seconds=1)))
        await wait_until(_equals(lambda: server.client.xlen(streams.result_partition(1)), 1))
        await wait_until(_equals(lambda: server.pending(TASKS, CAPABILITY), 0))
        [dead] = await server.dead_letters(TASKS)
        assert dead.reason.startswith("expired")

        # Redis restarted empty, as far as the agent's code goes: its user's rules are
        # unchanged here (the connection stays logged in), but the functions are gone.
        await server.client.execute_command("FUNCTION", "FLUSH")
        await server.publish(TASKS, envelope(3, deadline=far))
        await wait_until(lambda: answered == [1, 3])
        await asyncio.sleep(0.5)  # a few of the commit's retries
        assert await server.client.xlen(streams.result_partition(1)) == 1
        assert await server.pending(TASKS, CAPABILITY) == 1, "kept: neither failed nor lost"
        await server.client.acl_deluser(user_name(agent_id))  # lost with the restart
        assert await access.restore({agent_id: {CAPABILITY: "tenant:a"}}) == 1
        await wait_until(_equals(lambda: server.client.xlen(streams.result_partition(1)), 2))
        await wait_until(_equals(lambda: server.pending(TASKS, CAPABILITY), 0))
        assert answered == [1, 3], "the handler did not run again"
    finally:
        await subscription.stop()
        await agent.close()
        await access.revoke([agent_id])


def _equals(read: Callable[[], Awaitable[int]], expected: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await read() == expected

    return check
