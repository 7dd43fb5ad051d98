"""What starting a run by name reads, in both modes: a version's definition is read (and
parsed) once per process, later starts read nothing while no version is registered
(``test_definition_epoch``); a new version registered meanwhile is the one the next run gets,
and ``name@version`` still picks an old one."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event

from services.api import run_views
from tests.fixtures.services import wait_until
from tests.fixtures.stack import Stack


def _flow(marker: str) -> dict[str, Any]:
    return {
        "name": "reads",
        "steps": [{"id": "a", "capability": "test.noop", "input": {"v": marker}}],
    }


async def test_a_definition_is_read_once_and_the_latest_version_wins(stack: Stack) -> None:
    assert (await stack.client.post("/v1/workflows", json=_flow("one"))).status_code in (200, 201)
    statements: list[str] = []

    def seen(*args: Any) -> None:
        statements.append(str(args[2]))

    engine = stack.runtime.db.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        first = await stack.client.post("/v1/runs", json={"workflow": "reads", "input": {}})
        assert first.status_code == 202, first.text
        statements.clear()
        again = await stack.client.post("/v1/runs", json={"workflow": "reads", "input": {}})
        assert again.status_code == 202, again.text
        definition_reads = [
            s for s in statements if "workflow_definitions.definition" in s.replace('"', "")
        ]
        assert definition_reads == []
    finally:
        event.remove(engine, "before_cursor_execute", seen)

    registered = await stack.client.post("/v1/workflows", json=_flow("two"))
    assert registered.status_code == 201, registered.text
    latest = await stack.client.post("/v1/runs", json={"workflow": "reads", "input": {}})
    old = await stack.client.post("/v1/runs", json={"workflow": "reads@1", "input": {}})
    ran = {
        r.json()["run_id"]: (await stack.client.get(f"/v1/runs/{r.json()['run_id']}")).json()
        for r in (latest, old)
    }
    versions = [run["version"] for run in ran.values()]
    inputs = [run["definition"]["steps"][0]["input"]["v"] for run in ran.values()]
    assert versions == [2, 1]
    assert inputs == ["two", "one"]


async def test_run_views_read_the_definition_only_for_the_run_itself(stack: Stack) -> None:
    assert (await stack.client.post("/v1/workflows", json=_flow("one"))).status_code in (200, 201)
    run_id = await stack.submit("reads", {})
    statements: list[str] = []

    def seen(*args: Any) -> None:
        statements.append(str(args[2]).replace('"', ""))

    engine = stack.runtime.db.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        waited = await stack.client.get(f"/v1/runs/{run_id}/wait", params={"timeout_s": 0.2})
        listed = await stack.client.get("/v1/runs", params={"workflow": "reads"})
        assert not [s for s in statements if "runs.definition" in s]
        one = await stack.client.get(f"/v1/runs/{run_id}")
        assert [s for s in statements if "runs.definition" in s]
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    # No agent serves test.noop here: the run waits, and the long-poll answers it as it is.
    assert waited.status_code == 200 and waited.json()["status"] == "running"
    assert waited.json()["steps"][0]["step_id"] == "a"
    assert [item["run_id"] for item in listed.json()["items"]] == [run_id]
    assert one.json()["definition"]["steps"][0]["input"] == {"v": "one"}


async def test_a_long_poll_woken_by_the_finish_here_answers_without_reading_again(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``/wait`` reads the run before it sleeps; woken by the commit that finished the run in
    this process, it answers the run as committed (what ``GET /v1/runs/{id}`` reads after)."""
    flow = {"name": "held", "steps": [{"id": "hold", "wait": {"signal": "go", "timeout_s": 60}}]}
    assert (await stack.client.post("/v1/workflows", json=flow)).status_code in (200, 201)
    run_id = await stack.submit("held", {})
    runs_read: list[str] = []
    steps_read: list[str] = []
    real_read_run, real_read_steps = run_views.read_run, run_views.read_steps

    async def read_run(conn: Any, read: str, *args: Any, **kwargs: Any) -> Any:
        found = await real_read_run(conn, read, *args, **kwargs)
        runs_read.append(read)
        return found

    async def read_steps(conn: Any, read: str) -> Any:
        steps_read.append(read)
        return await real_read_steps(conn, read)

    monkeypatch.setattr(run_views, "read_run", read_run)
    monkeypatch.setattr(run_views, "read_steps", read_steps)
    # No notices between replicas: the confirmation of their subscription would wake the
    # long-poll for a read of its own, racing the finish this test is about.
    monkeypatch.setattr(stack.runtime.orchestrator.watch, "notices", None)
    waiting = asyncio.create_task(
        stack.client.get(f"/v1/runs/{run_id}/wait", params={"timeout_s": 60})
    )
    await wait_until(lambda: runs_read == [run_id])  # read while waiting for the signal
    signalled = await stack.client.post(f"/v1/runs/{run_id}/signals/go", json={"ok": True})
    assert signalled.status_code == 202, signalled.text
    waited = await waiting
    assert steps_read == []
    assert waited.status_code == 200, waited.text
    read = (await stack.client.get(f"/v1/runs/{run_id}")).json()
    assert waited.json()["status"] == "succeeded"
    assert waited.json() == {**read, "definition": None}
