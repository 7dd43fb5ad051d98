"""``/readyz`` names the database or the bus when it is down, and recovers when it is back."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
from redis.asyncio import Redis

from services.api.app import create_app
from services.config import Settings
from services.ledger.keys import create_key_file
from tests.fixtures.proxy import TcpProxy
from tests.fixtures.services import free_port, missing, wait_until

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def _redis_server(port: int) -> subprocess.Popen[bytes]:
    binary = shutil.which("redis-server")
    if binary is None:
        missing("redis-server")
    assert binary is not None
    return subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )


async def test_readyz_follows_the_database_and_redis(
    tmp_path: Path, postgres_migrated_url: str
) -> None:
    parsed = urlparse(postgres_migrated_url.replace("+asyncpg", ""))
    proxy = TcpProxy(parsed.hostname or "127.0.0.1", parsed.port or 5432, free_port())
    await proxy.restore()
    db_url = postgres_migrated_url.replace(
        f"{parsed.hostname}:{parsed.port or 5432}", f"127.0.0.1:{proxy.port}"
    )
    redis_port = free_port()
    redis = _redis_server(redis_port)
    settings = Settings(
        data_dir=tmp_path,
        database_url=db_url,
        redis_url=f"redis://127.0.0.1:{redis_port}/0",
        api_token="x" * 20,
        ledger_key_file=tmp_path / "ledger.key",
    )
    create_key_file(tmp_path / "ledger.key")
    app = create_app(settings)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://modx"
            ) as client,
        ):

            async def checks() -> dict[str, str]:
                response = await client.get("/readyz")
                body = response.json()
                assert (response.status_code == 200) == (body["status"] == "ready")
                return dict(body["checks"])

            assert await checks() == {"database": "ok", "bus": "ok"}

            await proxy.cut()
            await wait_until(lambda: _is(checks, {"database": "down", "bus": "ok"}))
            assert (await client.get("/healthz")).json() == {"status": "ok"}  # liveness stays up
            await proxy.restore()
            await wait_until(lambda: _is(checks, {"database": "ok", "bus": "ok"}))

            redis.terminate()
            redis.wait()
            await wait_until(lambda: _is(checks, {"database": "ok", "bus": "down"}))
            redis = _redis_server(redis_port)
            await wait_until(lambda: _is(checks, {"database": "ok", "bus": "ok"}))
            assert (await client.get("/healthz")).json() == {"status": "ok"}
    finally:
        redis.terminate()
        redis.wait()
        await proxy.cut()


async def _is(checks: Callable[[], Awaitable[dict[str, str]]], expected: dict[str, str]) -> bool:
    return bool(await checks() == expected)


async def test_a_full_redis_is_answered_503_not_500(
    tmp_path: Path, postgres_migrated_url: str
) -> None:
    """Redis at ``maxmemory`` (noeviction) refuses writes with OOM: a request that needs one
    (here the token check's throttle marker) is answered ``503 unavailable`` with
    ``Retry-After``, as when Redis is down, not a 500 with a traceback that closes the
    connection. On a private server (its memory limit is changed)."""
    redis_port = free_port()
    redis = _redis_server(redis_port)
    token = "x" * 20
    settings = Settings(
        data_dir=tmp_path,
        database_url=postgres_migrated_url,
        redis_url=f"redis://127.0.0.1:{redis_port}/0",
        api_token=token,
        ledger_key_file=tmp_path / "ledger.key",
    )
    create_key_file(tmp_path / "ledger.key")
    app = create_app(settings)
    headers = {"authorization": f"Bearer {token}"}
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://modx", headers=headers
            ) as client,
        ):
            assert (await client.get("/v1/runs")).status_code == 200
            direct = Redis(port=redis_port)
            try:
                await direct.config_set("maxmemory", 1)
                # A client not seen before: its first success is marked in Redis.
                other = httpx.ASGITransport(app=app, client=("10.0.0.9", 1234))
                async with httpx.AsyncClient(
                    transport=other, base_url="http://modx", headers=headers
                ) as elsewhere:
                    full = await elsewhere.get("/v1/runs")
                assert full.status_code == 503, full.text
                assert full.json()["error"]["code"] == "unavailable"
                assert full.headers["retry-after"]
                await direct.config_set("maxmemory", 0)
            finally:
                await direct.aclose()
            assert (await client.get("/v1/runs")).status_code == 200
    finally:
        redis.terminate()
        redis.wait()
