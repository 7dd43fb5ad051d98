"""While PostgreSQL is unreachable the API answers 503 ``unavailable`` on a kept connection,
logs the outage twice (start, end with a count), and no agent loses its lease for it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
from sqlalchemy import event

from services.db.models import utcnow
from services.orchestrator.sqlite_writer import SqliteWriter
from tests.fixtures.identity import keyed
from tests.fixtures.proxy import TcpProxy
from tests.fixtures.services import free_port, postgres_admin, wait_until
from tests.fixtures.stack import Stack, running_stack

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

WORKFLOW = {"name": "one", "steps": [{"id": "a", "capability": "test.nobody", "input": {}}]}


@pytest.fixture
async def proxy(postgres_migrated_url: str) -> AsyncIterator[tuple[TcpProxy, str]]:
    """A proxy to the test database that the test can cut; yields it and the URL through it."""
    target = urlparse(postgres_migrated_url.replace("+asyncpg", ""))
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432, free_port())
    await proxy.restore()
    through = postgres_migrated_url.replace(
        f"{target.hostname}:{target.port or 5432}", f"127.0.0.1:{proxy.port}"
    )
    yield proxy, through
    await proxy.cut()


@pytest.fixture
async def stack(
    proxy: tuple[TcpProxy, str], redis_url: str, tmp_path: Path
) -> AsyncIterator[Stack]:
    async with running_stack(
        "distributed", tmp_path, proxy[1], redis_url, agent_lease_s=1.5
    ) as stack:
        yield stack


async def test_requests_during_a_database_outage_get_503_on_a_kept_connection(
    stack: Stack, proxy: tuple[TcpProxy, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    headers = {"authorization": f"Bearer {stack.client.headers['authorization'].split()[1]}"}
    async with httpx.AsyncClient(
        base_url=stack.url, headers=headers, limits=httpx.Limits(max_connections=1), timeout=30
    ) as client:
        assert (await client.get("/v1/runs")).status_code == 200
        await proxy[0].cut()
        answers: list[httpx.Response] = []
        for _ in range(4):
            answers.append(await client.post("/v1/runs", json={"workflow": WORKFLOW}))
            answers.append(await client.get("/v1/runs"))
        for response in answers:
            assert response.status_code == 503, response.text
            assert response.json()["error"]["code"] == "unavailable"
            assert response.json()["error"]["details"] == {"dependency": "database"}
            assert int(response.headers["retry-after"]) > 0
            assert response.headers.get("connection") != "close"  # uvicorn closes after a 500
        await proxy[0].restore()

        def ended() -> list[logging.LogRecord]:
            return [
                r
                for r in caplog.records
                if r.name == "services.api" and "available again" in r.getMessage()
            ]

        await wait_until(ended, timeout=60)
        assert (await client.post("/v1/runs", json={"workflow": WORKFLOW})).status_code == 202
    started = [
        r for r in caplog.records if r.name == "services.api" and "is unavailable" in r.getMessage()
    ]
    assert len(started) == 1
    assert "8 failure(s)" in ended()[0].getMessage()
    tracebacks = [r for r in caplog.records if r.exc_info and r.levelno >= logging.WARNING]
    assert tracebacks == [], [r.getMessage() for r in tracebacks]


async def test_leases_do_not_run_out_while_heartbeats_could_not_be_recorded(
    stack: Stack, proxy: tuple[TcpProxy, str]
) -> None:
    card = {
        "name": "silent",
        "version": "1.0.0",
        "capabilities": [{"name": "test.silent", "input_schema": {}, "output_schema": {}}],
    }
    response = await stack.client.post("/v1/agents", json=keyed(card))
    assert response.status_code == 201, response.text
    agent_id = response.json()["agent_id"]

    async def agent() -> dict[str, Any]:
        found: dict[str, Any] = (await stack.client.get(f"/v1/agents/{agent_id}")).json()
        return found

    expires = datetime.fromisoformat((await agent())["lease_expires_at"])
    await proxy[0].cut()  # this agent sends no heartbeat: only the outage explains the silence
    leases = stack.runtime.orchestrator.lease_outage
    await wait_until(lambda: leases.down and utcnow() > expires, timeout=60)
    await wait_until(lambda: leases.failures >= 2, timeout=60)  # a sweep failed past expiry
    await proxy[0].restore()
    await wait_until(lambda: not leases.down, timeout=60)
    assert (await agent())["status"] == "online"

    # The renewal is one lease: an agent that stays silent goes offline all the same.
    async def offline() -> bool:
        return bool((await agent())["status"] == "offline")

    await wait_until(offline, timeout=60)


async def test_a_full_disk_is_one_outage_though_reads_still_answer(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """SQLite out of room (its page limit: the error a full disk gives, "database or disk is
    full") refuses writes and answers reads, the outage probe's ``SELECT 1`` among them. The
    outage was logged over, and begun again, at every refused request."""
    caplog.set_level(logging.INFO)
    async with running_stack("embedded", tmp_path, None, None) as stack:
        writer = stack.runtime.orchestrator.writer
        assert isinstance(writer, SqliteWriter)  # the orchestrator's connection, API writes too
        engine = stack.runtime.db.sync_engine  # the API's and the probe's connections

        def pages(limit: int | None) -> Callable[[Any], None]:
            """No more pages than the file has now (None: SQLite's default bound): the first
            write that needs one is refused, as by a full disk."""

            def apply(conn: Any) -> None:
                count = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
                conn.exec_driver_sql(f"PRAGMA max_page_count = {limit or count}")

            return apply

        def limited(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA page_count")
            cursor.execute(f"PRAGMA max_page_count = {cursor.fetchone()[0]}")
            cursor.close()

        event.listen(engine, "connect", limited)
        try:
            await stack.runtime.db.dispose()  # every connection from here on is limited
            await writer.run(pages(None))
            answers = []
            for i in range(12):  # a client retrying, for longer than the probe's interval
                body = {"workflow": WORKFLOW, "input": {"pad": "x" * 20_000, "i": i}}
                answers.append(await stack.client.post("/v1/runs", json=body))
                await asyncio.sleep(0.25)
            assert [a.status_code for a in answers] == [503] * 12, answers[-1].text
            assert "disk is full" in caplog.text
            assert (await stack.client.get("/v1/runs")).status_code == 200  # reads answer
        finally:
            event.remove(engine, "connect", limited)
            await stack.runtime.db.dispose()
            await writer.run(pages(1_073_741_823))  # SQLite's default

        def ended() -> list[logging.LogRecord]:
            return [
                r
                for r in caplog.records
                if r.name == "services.api" and "available again" in r.getMessage()
            ]

        await wait_until(ended, timeout=60)
        body = {"workflow": WORKFLOW, "input": {"pad": "x" * 20_000}}
        assert (await stack.client.post("/v1/runs", json=body)).status_code == 202
    started = [
        r for r in caplog.records if r.name == "services.api" and "is unavailable" in r.getMessage()
    ]
    assert len(started) == 1, [r.getMessage() for r in started]
    assert len(ended()) == 1 and "12 failure(s)" in ended()[0].getMessage()


async def test_a_database_that_turned_read_only_is_an_outage(
    postgres_migrated_url: str, redis_url: str, tmp_path: Path
) -> None:
    """PostgreSQL that takes reads and refuses writes (a failover that landed on a standby, or
    an old primary come back as one: SQLSTATE 25006) is unavailable for now, not a bug: 503
    with ``Retry-After``, and the writes go through once it is writable again."""
    name = postgres_migrated_url.rsplit("/", 1)[1]

    def writable(on: bool) -> None:
        postgres_admin(f'ALTER DATABASE "{name}" SET default_transaction_read_only = {not on}')
        postgres_admin(  # sessions read the setting when they start
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        )

    async with running_stack("distributed", tmp_path, postgres_migrated_url, redis_url) as stack:
        assert (await stack.client.post("/v1/runs", json={"workflow": WORKFLOW})).status_code == 202
        writable(False)
        answers = [
            await stack.client.post("/v1/runs", json={"workflow": WORKFLOW}) for _ in range(3)
        ]
        refused = answers[-1]  # the first may meet a connection the server just closed
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"]["details"] == {"dependency": "database"}
        assert int(refused.headers["retry-after"]) > 0
        writable(True)

        async def taken() -> bool:
            answer = await stack.client.post("/v1/runs", json={"workflow": WORKFLOW})
            return answer.status_code == 202

        await wait_until(taken, timeout=60)
