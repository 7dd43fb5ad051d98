"""A step waiting for an agent says why, everywhere: the API, the CLI and the dashboard."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from services.dashboard import auth
from tests.fixtures.identity import keyed
from tests.fixtures.services import wait_until
from tests.fixtures.stack import ADMIN, REPO, TOKEN, running_stack

WORKFLOW = {
    "name": "lonely",
    "steps": [{"id": "ask", "capability": "test.nobody", "input": {}}],
}
NONE = "waiting for an agent that serves test.nobody (none registered)"
OFFLINE = "waiting for an agent that serves test.nobody (all offline)"


def _modx(url: str, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODX_")}
    env.update(MODX_URL=url, MODX_API_TOKEN=TOKEN, PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, "-m", "services.cli.main", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return done.stdout + done.stderr


async def test_a_step_waiting_for_an_agent_says_why(tmp_path: Path) -> None:
    async with running_stack("embedded", tmp_path, None, None, agent_lease_s=1.0) as stack:
        registered = await stack.client.post("/v1/workflows", json=WORKFLOW)
        assert registered.status_code == 201
        assert registered.json()["warnings"] == [
            "no registered agent serves test.nobody: runs will wait for one"
        ]
        run_id = await stack.submit("lonely")

        async def waiting(reason: str) -> bool:
            run: dict[str, Any] = (await stack.client.get(f"/v1/runs/{run_id}")).json()
            return bool(run["steps"][0]["meta"].get("waiting") == reason)

        await wait_until(lambda: waiting(NONE))
        show = await asyncio.to_thread(_modx, stack.url, "run", "show", run_id)
        events = await asyncio.to_thread(_modx, stack.url, "run", "events", run_id)
        assert NONE in show and NONE in events
        cookie = {"cookie": f"{auth.COOKIE}={auth.issue(ADMIN)}"}
        page = await stack.client.get(f"/dashboard/runs/{run_id}", headers=cookie)
        listing = await stack.client.get("/dashboard/runs", headers=cookie)
        assert NONE in page.text and NONE in listing.text

        # An agent registers and never sends a heartbeat: once its lease lapses, the next
        # run's step waits with every agent of the capability offline.
        card = {"name": "ghost", "capabilities": [{"name": "test.nobody"}]}
        assert (await stack.client.post("/v1/agents", json=keyed(card))).status_code == 201

        async def ghost_offline() -> bool:
            agents = (await stack.client.get("/v1/agents", params={"name": "ghost"})).json()
            return [a["status"] for a in agents] == ["offline"]

        await wait_until(ghost_offline)
        run_id = await stack.submit("lonely")
        await wait_until(lambda: waiting(OFFLINE))
        events = await asyncio.to_thread(_modx, stack.url, "run", "events", run_id)
        assert OFFLINE in events
