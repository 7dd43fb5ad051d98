"""A remote A2A task outlives the ``modx serve`` that follows it: the server is killed
(SIGKILL) while the peer's task streams and started again; its task is sent again as the same
attempt (its heartbeats stopped, or, embedded, the in-process bus died with the server), and
the new process follows the remote task the peer named (recorded on the step as soon as it was
named) instead of sending a second message. On SQLite with the in-process bus and on
PostgreSQL with Redis, with a real A2A agent (tests/interop/a2a_peer.py, the a2a-sdk's server)
in the test process."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.serve import Restartable
from tests.fixtures.services import wait_until
from tests.fixtures.stack import TOKEN
from tests.interop.a2a_peer import running_peer

EGRESS = "127.0.0.1"  # the peer listens on loopback

SHOUT = {
    "name": "shout-once",
    "steps": [
        {
            "id": "remote",
            "capability": "a2a.Tax-Helper.shout",
            "input": {"text": "$.input.text"},
            "heartbeat_timeout_s": 15,
            "retry": {"max_attempts": 2, "backoff_s": 0.1},
        }
    ],
    "output": "$.steps.remote.output",
}


@pytest.mark.parametrize("mode", ["embedded", "distributed"])
async def test_a_restart_while_a_remote_task_streams_follows_the_same_task(
    mode: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    servers: list[subprocess.Popen[bytes]],
) -> None:
    server = Restartable(mode, request, tmp_path, servers, MODX_EGRESS_ALLOW=EGRESS)
    await server.started()
    headers = {"authorization": f"Bearer {TOKEN}"}
    async with running_peer(streaming=True) as peer:
        peer.release = asyncio.Event()  # shout works until the test says
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as client:
            added = await client.post("/v1/agents/a2a", json={"card_url": peer.card_url})
            assert added.status_code == 201, added.text
            body = {"workflow": SHOUT, "input": {"text": "hello"}}
            response = await client.post("/v1/runs", json=body)
            assert response.status_code == 202, response.text
            run_id = response.json()["run_id"]
            run: dict[str, Any] = {}

            async def named() -> bool:  # the remote task's id is on the step
                run.update((await client.get(f"/v1/runs/{run_id}")).json())
                return "following" in run["steps"][0]["meta"] or len(peer.tasks) > 1

            await wait_until(named, timeout=120)
            assert len(peer.tasks) == 1
            following = run["steps"][0]["meta"]["following"]
            assert following["conversation"]["task_id"] == peer.tasks[0]

        server.kill()  # while the remote task streams
        await server.started()

        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as client:
            # Its heartbeats stopped: the task goes out again and follows the remote task.
            await wait_until(
                lambda: "SubscribeToTask" in peer.calls or len(peer.tasks) > 1, timeout=300
            )
            peer.release.set()
            for _ in range(60):
                wait = await client.get(f"/v1/runs/{run_id}/wait", params={"timeout_s": 5})
                run = wait.json()
                if run["status"] != "running":
                    break
            assert run["status"] == "succeeded", run
            assert run["output"] == {"text": "HELLO"}
            assert run["steps"][0]["attempt"] == 1
            assert len(peer.tasks) == 1  # exactly one remote task, followed to its end
            assert peer.calls.count("SendStreamingMessage") == 1
            events = (await client.get(f"/v1/runs/{run_id}/events")).json()
            types = [event["type"] for event in events]
            # Sent again as the same attempt: on its heartbeats' loss, or redelivered at start
            # (embedded: the in-process bus died with the server); it follows the same task.
            assert {"step.heartbeat_lost", "step.redelivered"} & set(types), types
            assert (await client.get("/v1/ledger/verify")).json()["ok"]
