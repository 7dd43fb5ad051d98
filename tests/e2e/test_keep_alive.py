"""``modx serve`` keeps an idle connection open longer than clients keep one for reuse: a
server that closes it first makes the request a client sends on it at that moment fail with
"Server disconnected" (uvicorn's default was 5 s, httpx's reuse window is 5 s)."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.serve import healthy, serve
from tests.fixtures.services import free_port
from tests.fixtures.stack import TOKEN


@pytest.mark.redis
@pytest.mark.postgres
async def test_an_idle_connection_is_still_open_when_a_client_reuses_it(
    postgres_migrated_url: str,
    redis_url: str,
    tmp_path: Path,
    servers: list[subprocess.Popen[bytes]],
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    servers.append(
        serve(
            port,
            tmp_path,
            {"MODX_DATABASE_URL": postgres_migrated_url, "MODX_REDIS_URL": redis_url},
        )
    )
    await healthy(url)
    connects: list[str] = []

    async def trace(event: str, _: dict[str, Any]) -> None:
        if event == "connection.connect_tcp.complete":
            connects.append(event)

    limits = httpx.Limits(keepalive_expiry=60)  # the client would reuse it for a minute
    headers = {"authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits) as client:
        first = await client.get("/v1/agents", extensions={"trace": trace})
        await asyncio.sleep(6)  # past uvicorn's default keep-alive
        second = await client.get("/v1/agents", extensions={"trace": trace})
    assert first.status_code == second.status_code == 200
    assert connects == ["connection.connect_tcp.complete"]  # the second reused the first's
