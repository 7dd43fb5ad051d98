"""Runs started by name look their definition up: the same lookup asked while one is on its way
shares the next one, and none answers from a read older than its request."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.db.engine import readonly, session_factory
from services.db.models import DEFAULT_TENANT
from services.orchestrator import workflows
from services.orchestrator.definitions import WorkflowDefinition
from services.orchestrator.workflows import SharedLookups
from tests.fixtures.plans import filled_fixtures


async def _empty(conn: AsyncConnection) -> None:
    """No rows: each test registers its own."""


db, pg = filled_fixtures(_empty)


async def _register(engine: AsyncEngine, capability: str) -> None:
    body = {"name": "w", "steps": [{"id": "a", "capability": capability}]}
    async with session_factory(engine)() as session, session.begin():
        await workflows.register(session, WorkflowDefinition.model_validate(body))


async def test_lookups_asked_while_one_is_on_its_way_share_the_next_one(
    db: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _register(db, "test.one")
    shared = SharedLookups(readonly(db))
    keys_read: list[str] = []  # the statements reading a definition's key columns

    def counted(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "workflow_definitions" in statement and "ORDER BY" in statement:
            keys_read.append(statement)

    event.listen(db.sync_engine, "before_cursor_execute", counted)
    real, read, release = workflows.lookup, asyncio.Event(), asyncio.Event()

    async def held(*args: Any, **kwargs: Any) -> workflows.Found:  # the first one, once read
        found = await real(*args, **kwargs)
        if not read.is_set():
            read.set()
            await release.wait()
        return found

    monkeypatch.setattr(workflows, "lookup", held)
    first = asyncio.create_task(shared.lookup("w", None, tenant=DEFAULT_TENANT))
    await read.wait()
    await _register(db, "test.two")  # version 2, after the first lookup read the latest
    keys_read.clear()
    burst = [shared.lookup("w", None, tenant=DEFAULT_TENANT) for _ in range(20)]
    asked = [asyncio.create_task(lookup) for lookup in burst]
    other = await shared.lookup("w", 1, tenant=DEFAULT_TENANT)  # another lookup: not held
    release.set()
    found = await first
    assert found is not None and found[1] == 1  # read before version 2 was registered
    answers = await asyncio.gather(*asked)
    assert {a[1] if a is not None else None for a in answers} == {2}  # none from that read
    assert other is not None and other[1] == 1
    assert len(keys_read) == 2  # one for the 20 alike, one for the other
    assert await shared.lookup("nobody", None, tenant=DEFAULT_TENANT) is None
