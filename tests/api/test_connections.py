"""PostgreSQL connections under bursts of requests: the pool keeps what it opened, so a
burst like the one before it opens no connection (each new one is a TCP connect, a new
backend and its setup: about a tenth of the server's CPU in a 200-client burst when the
overflow connections closed after each burst)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from sqlalchemy import event

from tests.fixtures.stack import TOKEN, Stack, running_stack

pytestmark = [pytest.mark.postgres]

CLIENTS = 200


async def test_a_second_burst_of_200_long_polls_opens_no_connection(
    tmp_path: Path, postgres_migrated_url: str, redis_url: str
) -> None:
    async with running_stack("distributed", tmp_path, postgres_migrated_url, redis_url) as stack:
        run_id = await _finished_run(stack)
        opened: list[int] = []
        event.listen(stack.runtime.db.sync_engine, "connect", lambda *_: opened.append(1))
        limits = httpx.Limits(max_connections=CLIENTS)
        headers = {"authorization": f"Bearer {TOKEN}"}

        async def burst() -> None:
            async with httpx.AsyncClient(
                base_url=stack.url, headers=headers, limits=limits, timeout=60
            ) as http:
                answers = await asyncio.gather(
                    *(http.get(f"/v1/runs/{run_id}/wait") for _ in range(CLIENTS))
                )
            assert {a.status_code for a in answers} == {200}

        await burst()  # the pool fills
        assert opened
        opened.clear()
        await burst()
        await burst()
        assert opened == []
        pool = stack.runtime.db.sync_engine.pool
        assert pool.checkedin() <= stack.settings.database_pool_size  # type: ignore[attr-defined]


async def _finished_run(stack: Stack) -> str:
    """A finished run (cancelled: no agent serves its step)."""
    definition = {
        "name": "burst",
        "input_schema": {"type": "object"},
        "steps": [{"id": "a", "capability": "test.nobody", "input": {}}],
    }
    run_id = await stack.submit(definition, {})
    cancelled = await stack.client.post(f"/v1/runs/{run_id}/cancel")
    assert cancelled.status_code == 202, cancelled.text
    run = await stack.wait(run_id, timeout=30)
    assert run["status"] == "cancelled"
    return run_id
