"""At start the server says, in one line, when Redis lets one agent's own user fill its memory
(``services.redis_limits``): ACL rules cannot bound what it appends, Redis's settings can."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError

from services.redis_limits import memory_warnings
from tests.fixtures.services import private_redis, wait_until
from tests.fixtures.stack import running_stack

pytestmark = pytest.mark.redis

BOUND = 5 * 1024 * 1024


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    with private_redis(tmp_path) as found:
        yield found


@pytest.fixture
async def redis(url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(url)

    async def up() -> bool:
        try:
            return bool(await client.ping())
        except ConnectionError:
            return False

    await wait_until(up)
    yield client
    await client.aclose()


async def test_redis_defaults_are_named(redis: Redis) -> None:
    found = await memory_warnings(redis, BOUND)  # redis-server's defaults: no maxmemory, 512 MB
    assert [line.split(" is ")[0] for line in found] == ["maxmemory", "proto-max-bulk-len"]
    assert "536870912 bytes" in found[1]


async def test_the_settings_deploy_md_advises_raise_nothing(redis: Redis) -> None:
    await redis.config_set("maxmemory", "64mb")
    await redis.config_set("proto-max-bulk-len", "8mb")
    assert await memory_warnings(redis, BOUND) == []
    await redis.config_set("maxmemory-policy", "allkeys-lru")
    [found] = await memory_warnings(redis, BOUND)
    assert found.startswith("maxmemory-policy is allkeys-lru")


async def test_a_redis_that_refuses_config_is_said_too(redis: Redis, url: str) -> None:
    rules = ("on", ">pw", "+@all", "-config", "~*")
    await redis.execute_command("ACL", "SETUSER", "limited", *rules)  # type: ignore[no-untyped-call]
    limited = Redis.from_url(url.replace("redis://", "redis://limited:pw@"))
    try:
        [found] = await memory_warnings(limited, BOUND)
    finally:
        await limited.aclose()
    assert found.startswith("Redis's memory limits could not be read")


@pytest.mark.postgres
async def test_the_server_says_so_in_one_line_at_start(
    tmp_path: Path,
    postgres_migrated_url: str,
    redis: Redis,
    url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The private server's defaults (no maxmemory, 512 MB bulk length): both named.
    with caplog.at_level(logging.WARNING, "services.runtime"):
        async with running_stack("distributed", tmp_path, postgres_migrated_url, url):
            pass
    [line] = [r.getMessage() for r in caplog.records if "does not bound" in r.getMessage()]
    assert "maxmemory is 0" in line and "proto-max-bulk-len is 536870912" in line
