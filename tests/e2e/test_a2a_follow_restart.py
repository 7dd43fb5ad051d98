"""A remote A2A task outlives the ``modx serve`` that follows it: the server is killed
(SIGKILL) while the peer's task streams and started again; its task is sent again as the same
attempt (its heartbeats stopped, or, embedded, the in-process bus died with the server), and
the new process follows the remote task the peer named (recorded on the step as soon as it was
named) instead of sending a second message. The step sets ``heartbeat_timeout_s``, or sets
none and gets the A2A default (``MODX_A2A_HEARTBEAT_TIMEOUT_S``, 30 s). On SQLite with the in-process bus and on
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

LONG_LEASE = {"MODX_AGENT_LEASE_S": "120", "MODX_VISIBILITY_TIMEOUT_S": "200"}
SHOUT: dict[str, Any] = {
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


@pytest.mark.parametrize("heartbeat", [15, None], ids=["own-heartbeat", "default-heartbeat"])
@pytest.mark.parametrize("mode", ["embedded", "distributed"])
async def test_a_restart_while_a_remote_task_streams_follows_the_same_task(
    mode: str,
    heartbeat: int | None,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    servers: list[subprocess.Popen[bytes]],
) -> None:
    # Without its own heartbeat timeout, the agent's lease outlasts the restart: only the A2A
    # default can notice the dead follower (a lapsed lease would send the task again too).
    longer = {} if heartbeat else LONG_LEASE
    server = Restartable(mode, request, tmp_path, servers, MODX_EGRESS_ALLOW=EGRESS, **longer)
    await server.started()
    headers = {"authorization": f"Bearer {TOKEN}"}
    step = {k: v for k, v in SHOUT["steps"][0].items() if k != "heartbeat_timeout_s"}
    if heartbeat is not None:
        step["heartbeat_timeout_s"] = heartbeat
    flow = {**SHOUT, "steps": [step]}
    async with running_peer(streaming=True) as peer:
        peer.release = asyncio.Event()  # shout works until the test says
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as client:
            added = await client.post("/v1/agents/a2a", json={"card_url": peer.card_url})
            assert added.status_code == 201, added.text
            body = {"workflow": flow, "input": {"text": "hello"}}
            response = await client.post("/v1/runs", json=body)
            assert response.status_code == 202, response.text
            run_id = response.json()["run_id"]
            run: dict[str, Any] = {}

            # (The context the task is made in is on the step before the peer names it.)
            await wait_until(lambda: len(peer.tasks) > 0, timeout=120)
            assert len(peer.tasks) == 1
            await wait_until(lambda: _named(client, run_id, peer.tasks), timeout=120)

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
            if not heartbeat and mode == "distributed":
                assert "step.heartbeat_lost" in types, types
            assert (await client.get("/v1/ledger/verify")).json()["ok"]


async def _named(client: httpx.AsyncClient, run_id: str, tasks: list[str]) -> bool:
    """Whether the step follows the peer's one remote task (recorded as soon as named)."""
    run = (await client.get(f"/v1/runs/{run_id}")).json()
    following = run["steps"][0]["meta"].get("following", {})
    return bool(following.get("conversation", {}).get("task_id") == tasks[0])
