"""Embedded mode with SQLite refusing writes while an answer arrives, as on a full disk (on
an 8 MB tmpfs, 72 answers were dead-lettered, "handler failed 5 times; last error:
OperationalError('database or disk is full')", their runs left to the step timeout): the
answer waits for the database, and the run finishes once it takes writes again, its step run
once.

The writes are refused on the orchestrator's own writer connection (``PRAGMA query_only``):
SQLite then fails every write with an ``OperationalError``, as a full disk does, without
filling one (a full file still takes small writes in the free room of its pages).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from services.orchestrator.sqlite_writer import SqliteWriter
from tests.e2e.fleet import executions, numbers
from tests.fixtures.services import wait_until
from tests.fixtures.stack import running_stack

WORKFLOW = {"name": "full", "steps": [{"id": "a", "capability": "test.noop"}]}


def _refuse_writes(conn: Connection) -> None:
    conn.exec_driver_sql("PRAGMA query_only = ON")


def _take_writes(conn: Connection) -> None:
    conn.exec_driver_sql("PRAGMA query_only = OFF")


async def test_an_answer_waits_out_a_database_refusing_writes_and_is_not_dead_lettered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    gate = tmp_path / "gate"
    monkeypatch.setenv("MODX_TEST_GATE", str(gate))
    caplog.set_level(logging.DEBUG, logger="bus._consumer")
    async with running_stack("embedded", tmp_path, None, None) as stack:
        orchestrator = stack.runtime.orchestrator
        assert orchestrator is not None
        writer = orchestrator.writer
        assert isinstance(writer, SqliteWriter)
        max_deliveries = orchestrator.consumer_options.max_deliveries
        await stack.agent(numbers)
        run_id = await stack.submit(WORKFLOW)
        await wait_until(lambda: len(executions(stack.log)) == 1)  # held in its handler
        await writer.run(_refuse_writes)
        with pytest.raises(OperationalError, match="readonly"):
            await writer.run(lambda conn: conn.exec_driver_sql("CREATE TABLE probe (x)"))
        gate.touch()  # the answer arrives while no write is taken

        def held() -> int:
            return sum("handler held for an outage" in r.getMessage() for r in caplog.records)

        async def held_or_dead_lettered() -> bool:
            return held() > max_deliveries or bool(await stack.runtime.transport.dlq_streams())

        await wait_until(held_or_dead_lettered, timeout=120)
        assert await stack.runtime.transport.dlq_streams() == {}
        await writer.run(_take_writes)
        run = await stack.wait(run_id, timeout=120)
        assert run["status"] == "succeeded", run
        assert len(executions(stack.log)) == 1
        assert await stack.runtime.transport.dlq_streams() == {}
