"""A parent run that ended while its sub-workflow children still ran has them cancelled by a
restarted orchestrator, on SQLite with the in-process bus and on PostgreSQL with Redis.

The parent's cancel commits first; its children are cancelled after that commit (each child
is a run of its own, in its own transaction). A crash between the two used to leave the
children running for ever. No signal lands reliably inside that window, so the test kills
``modx serve`` with SIGKILL and then writes what the parent's commit writes (the run and its
step ``cancelled``), leaving the database exactly as a crash in the window leaves it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from services.config import Settings
from services.db.engine import create_engine
from tests.fixtures.serve import Restartable
from tests.fixtures.services import wait_until
from tests.fixtures.stack import TOKEN

CHILD = {
    "name": "child-waits",
    "steps": [{"id": "hold", "wait": {"signal": "never", "timeout_s": 3600}}],
}
PARENT = {
    "name": "parent",
    "steps": [
        {"id": "first", "workflow": "child-waits"},
        {"id": "second", "workflow": "child-waits"},
    ],
}


async def _as_if_cancelled_then_crashed(database_url: str, run_id: str) -> None:
    """The parent's cancel, committed; its children's cancels, never carried out."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "UPDATE runs SET status = 'cancelled', cancel_requested = :yes,"
                    " finished_at = CURRENT_TIMESTAMP, version = version + 1 WHERE id = :id"
                ),
                {"id": run_id, "yes": True},
            )
            await connection.execute(
                text("UPDATE steps SET status = 'cancelled', due_at = NULL WHERE run_id = :id"),
                {"id": run_id},
            )
    finally:
        await engine.dispose()


@pytest.mark.parametrize("mode", ["embedded", "distributed"])
async def test_children_of_a_parent_cancelled_just_before_a_crash_are_cancelled_on_restart(
    mode: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    servers: list[subprocess.Popen[bytes]],
) -> None:
    server = Restartable(mode, request, tmp_path, servers)
    database_url = Settings(
        data_dir=tmp_path / ".modx", database_url=server.urls.get("MODX_DATABASE_URL")
    ).resolved_database_url
    await server.started()
    headers = {"authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as client:
        for workflow in (CHILD, PARENT):
            assert (await client.post("/v1/workflows", json=workflow)).status_code == 201
        accepted = await client.post("/v1/runs", json={"workflow": "parent", "input": {}})
        assert accepted.status_code == 202, accepted.text
        parent = accepted.json()["run_id"]
        children: list[dict[str, Any]] = []

        async def children_wait() -> bool:
            nonlocal children
            listed = await client.get("/v1/runs", params={"parent_run_id": parent})
            children = listed.json()["items"]
            if len(children) != 2:
                return False
            runs = [(await client.get(f"/v1/runs/{c['run_id']}")).json() for c in children]
            return all(r["steps"][0]["status"] == "running" for r in runs)

        await wait_until(children_wait, timeout=90, interval=0.2)

    server.kill()
    await _as_if_cancelled_then_crashed(database_url, parent)
    await server.started()

    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as client:
        assert (await client.get(f"/v1/runs/{parent}")).json()["status"] == "cancelled"
        ended: list[dict[str, Any]] = []

        async def children_cancelled() -> bool:
            nonlocal ended
            ended = [(await client.get(f"/v1/runs/{c['run_id']}")).json() for c in children]
            return all(run["status"] == "cancelled" for run in ended)

        await wait_until(children_cancelled, timeout=120, interval=0.5)
        for run in ended:
            assert run["error"]["message"] == f"parent run {parent} ended"
            assert run["steps"][0]["status"] == "cancelled"
            # The children's own records are whole (the parent's lack what the test skipped).
            verified = await client.get("/v1/ledger/verify", params={"run_id": run["run_id"]})
            assert verified.json()["ok"], verified.json()
