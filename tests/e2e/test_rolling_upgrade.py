"""A rolling upgrade: an agent built with an SDK from before ``reply_to`` keeps working with
replicas that send it. Its card lists no ``features``, so its tasks carry no ``reply_to``
(its envelope model would refuse the field), it answers on ``modx.results``, and the replica
that reads an answer passes it on to the run's owner."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_crashes import _agent, _two_replicas
from tests.fixtures.services import wait_until
from tests.fixtures.stack import TOKEN

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

SQUARE = {
    "name": "old-square",
    "steps": [
        {"id": "sq", "capability": "test.square", "input": {"value": "$.input.n"}, "timeout_s": 30}
    ],
    "output": "$.steps.sq.output.value",
}


async def test_an_agent_of_an_sdk_before_reply_to_serves_runs_on_two_replicas(
    tmp_path: Path,
    postgres_migrated_url: str,
    redis_url: str,
    servers: list[subprocess.Popen[bytes]],
) -> None:
    log = tmp_path / "executions.log"
    urls = await _two_replicas(tmp_path, postgres_migrated_url, redis_url, log, servers)
    _agent(urls[0], log, "old_squares", servers)
    headers = {"authorization": f"Bearer {TOKEN}"}
    clients = [httpx.AsyncClient(base_url=u, headers=headers, timeout=60) for u in urls]
    try:

        async def online() -> bool:
            agents = (await clients[0].get("/v1/agents", params={"status": "online"})).json()
            return "old-squares" in {a["name"] for a in agents}

        await wait_until(online, timeout=60)
        # Runs of both replicas' partitions, submitted through both.
        run_ids = []
        for n in range(8):
            body = {"workflow": SQUARE, "input": {"n": n}}
            response = await clients[n % 2].post("/v1/runs", json=body)
            assert response.status_code == 202, response.text
            run_ids.append(response.json()["run_id"])
        for n, run_id in enumerate(run_ids):
            run = (await clients[0].get(f"/v1/runs/{run_id}/wait", params={"timeout_s": 45})).json()
            assert (run["status"], run["output"]) == ("succeeded", n * n), run
    finally:
        for client in clients:
            await client.aclose()
