"""``modx run show`` names a run's child runs and a child's parent; ``modx run list --parent``
lists the children."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.cli.test_errors import modx
from tests.fixtures.services import wait_until
from tests.fixtures.stack import TOKEN, running_stack


async def test_show_and_list_follow_parent_and_child(tmp_path: Path) -> None:
    kid = {"name": "kid", "steps": [{"id": "w", "wait": {"signal": "go"}}]}
    elder = {"name": "elder", "steps": [{"id": "sub", "workflow": "kid"}]}
    async with running_stack("embedded", tmp_path, None, None) as stack:
        env = {"MODX_URL": stack.url, "MODX_API_TOKEN": TOKEN}
        for definition in (kid, elder):
            assert (await stack.client.post("/v1/workflows", json=definition)).is_success
        run_id = await stack.submit("elder", {})
        children: list[dict[str, Any]] = []

        async def child_started() -> bool:
            nonlocal children
            page = await stack.client.get("/v1/runs", params={"parent_run_id": run_id})
            children = page.json()["items"]
            return bool(children)

        await wait_until(child_started)
        run = (await stack.client.get(f"/v1/runs/{run_id}")).json()
        # In threads: the server under test runs on this event loop.
        listed = await asyncio.to_thread(modx, "run", "list", "--parent", run_id, env=env)
        child_id = run["steps"][0]["meta"]["child_run_id"]
        shown = await asyncio.to_thread(modx, "run", "show", run_id, env=env)
        child = await asyncio.to_thread(modx, "run", "show", child_id, env=env)
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert header.split()[0] == "RUN" and [line.split()[0] for line in rows] == [child_id]
    assert [c["run_id"] for c in children] == [child_id]
    assert f"child runs: {child_id}" in shown.stdout
    assert f"child of run {run_id} (step sub)" in child.stdout
