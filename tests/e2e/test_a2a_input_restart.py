"""A question of an A2A agent outlives the orchestrator: ``modx serve`` killed (SIGKILL) while a
step waits for the answer, and started again; the answer, sent to the new process, reaches the
same remote task, which completes. On SQLite with the in-process bus and on PostgreSQL with
Redis, with a real A2A agent (tests/interop/a2a_peer.py) in the test process."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.serve import Restartable
from tests.fixtures.services import wait_until
from tests.fixtures.stack import TOKEN
from tests.interop.a2a_peer import QUESTIONS, running_peer

EGRESS = "127.0.0.1"  # the peer listens on loopback

ASK = {
    "name": "ask-once",
    "steps": [{"id": "remote", "capability": "a2a.Tax-Helper.ask", "input": {"rounds": 1}}],
    "output": "$.steps.remote.output",
}


@pytest.mark.parametrize("mode", ["embedded", "distributed"])
async def test_a_restart_while_a_step_waits_for_its_answer_keeps_the_conversation(
    mode: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    servers: list[subprocess.Popen[bytes]],
) -> None:
    server = Restartable(mode, request, tmp_path, servers, MODX_EGRESS_ALLOW=EGRESS)
    await server.started()
    headers = {"authorization": f"Bearer {TOKEN}"}
    async with running_peer() as peer:
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as client:
            added = await client.post("/v1/agents/a2a", json={"card_url": peer.card_url})
            assert added.status_code == 201, added.text
            response = await client.post("/v1/runs", json={"workflow": ASK, "input": {}})
            assert response.status_code == 202, response.text
            run_id = response.json()["run_id"]
            run: dict[str, Any] = {}

            async def asked() -> bool:
                run.update((await client.get(f"/v1/runs/{run_id}")).json())
                return "question" in run["steps"][0]["meta"]

            await wait_until(asked, timeout=60)
            remote = run["steps"][0]["meta"]["conversation"]

        server.kill()  # while the step waits for its answer
        await server.started()

        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as client:
            waiting = (await client.get(f"/v1/runs/{run_id}")).json()
            assert waiting["status"] == "running"
            assert waiting["steps"][0]["meta"]["question"]["text"] == QUESTIONS[0]
            sent = await client.post(f"/v1/runs/{run_id}/signals/remote", json={"text": "2025"})
            assert sent.status_code == 202, sent.text
            for _ in range(60):
                wait = await client.get(f"/v1/runs/{run_id}/wait", params={"timeout_s": 5})
                run = wait.json()
                if run["status"] != "running":
                    break
            assert run["status"] == "succeeded", run
            assert run["output"] == {"answers": [{"text": "2025"}], "task_id": remote["task_id"]}
            assert [(a.task_id, a.context_id) for a in peer.answers] == [
                (remote["task_id"], remote["context_id"])
            ]
            assert peer.served.count("ask") == 2  # one remote task: the question, the answer
            assert (await client.get("/v1/ledger/verify")).json()["ok"]
