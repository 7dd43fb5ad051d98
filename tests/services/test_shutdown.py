"""A process stopping while Redis does not answer (``Runtime.close``): it stops at one deadline
shared by every step, says once per component what it could not clean up and which server was
unreachable, and logs no traceback for the outage. The server is reached through a proxy that
the test freezes (connections stay open, nothing is answered). The same with PostgreSQL frozen
hung in 1 of 2 runs of the whole suite (cause not found yet), so it is not claimed here."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from bus import tasks
from services.config import Settings
from services.ledger.keys import create_key_file
from services.runtime import Runtime
from tests.fixtures.proxy import TcpProxy
from tests.fixtures.services import free_port

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

DEADLINE = re.escape("(the stop's deadline)")


async def proxied(url: str, default_port: int) -> tuple[TcpProxy, str]:
    """A proxy to the server of ``url``, and ``url`` through it."""
    parsed = urlparse(url)
    proxy = TcpProxy(parsed.hostname or "127.0.0.1", parsed.port or default_port, free_port())
    await proxy.restore()
    return proxy, url.replace(parsed.netloc.split("@")[-1], f"127.0.0.1:{proxy.port}")


@pytest.fixture
async def proxies() -> AsyncIterator[list[TcpProxy]]:
    made: list[TcpProxy] = []
    yield made
    for proxy in made:
        await proxy.cut()


async def open_runtime(tmp_path: Path, database_url: str, redis_url: str) -> Runtime:
    create_key_file(tmp_path / "ledger.key")
    settings = Settings(
        database_url=database_url,
        redis_url=redis_url,
        data_dir=tmp_path,
        ledger_key_file=tmp_path / "ledger.key",
    )
    return await Runtime.open(settings)


async def test_a_stop_with_redis_frozen_names_redis_once_per_consumer_and_no_traceback(
    tmp_path: Path,
    postgres_url: str,
    redis_url: str,
    proxies: list[TcpProxy],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(tasks, "STOP_TIMEOUT_S", 3.0)
    proxy, through = await proxied(redis_url, 6379)
    proxies.append(proxy)
    runtime = await open_runtime(tmp_path, postgres_url, through)
    orchestrator = runtime.orchestrator
    consumers = [orchestrator._subscription, *orchestrator._partitions.values()]
    assert len(consumers) == 1 + runtime.settings.result_partitions
    proxy.freeze()
    with caplog.at_level(logging.WARNING):
        await runtime.close()
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in warnings if r.exc_info] == []
    messages = [r.getMessage() for r in warnings]
    for consumer in consumers:  # each one line: the release went through, the clean-up not
        [line] = [m for m in messages if m.startswith(f"{consumer!r}: ")]
        assert re.fullmatch(
            rf"{re.escape(repr(consumer))}: cleanup on stop failed: TimeoutError after [0-9.]+ s "
            rf"{DEADLINE}, Redis unreachable",
            line,
        )
    # One deadline for the whole stop, not one per step: the database steps after the bus's
    # found it passed.
    assert (
        "orchestrator: giving the replica lease back failed: the stop's deadline had passed "
        "before it began"
    ) in messages
