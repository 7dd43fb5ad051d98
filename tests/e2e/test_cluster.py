"""MODX on a Redis Cluster: two ``modx serve`` replicas and two bus agents, each its own
process, run a workflow over a private three-primary cluster (``redis+cluster://``)."""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import RedisCluster

from bus import streams
from bus.redis_client import server_url
from tests.e2e import fleet
from tests.e2e.test_crashes import SQUARES, _agent, _two_replicas
from tests.fixtures.redis_cluster import redis_cluster
from tests.fixtures.services import wait_until
from tests.fixtures.stack import TOKEN

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def own_cluster_url() -> Iterator[str]:
    """A fresh cluster of this test's own (the session's is shared with the bus contract
    suite). Before XGROUP CREATE was routed by the bus itself, the second replica failed to
    start here after the capacity tests ("Missing key" from redis-py's command parser)."""
    with redis_cluster() as cluster:
        yield cluster.url


async def test_a_workflow_runs_on_a_redis_cluster_across_two_replicas(
    tmp_path: Path,
    postgres_migrated_url: str,
    own_cluster_url: str,
    servers: list[subprocess.Popen[bytes]],
) -> None:
    redis_cluster_url = own_cluster_url
    log = tmp_path / "executions.log"
    urls = await _two_replicas(tmp_path, postgres_migrated_url, redis_cluster_url, log, servers)
    # Each agent registers with its own replica and gets its own user on every node.
    _agent(urls[0], log, "numbers", servers)
    _agent(urls[1], log, "squares", servers)
    headers = {"authorization": f"Bearer {TOKEN}"}
    first, second = (httpx.AsyncClient(base_url=u, headers=headers, timeout=90) for u in urls)
    try:

        async def agents_online() -> bool:
            agents = (await first.get("/v1/agents", params={"status": "online"})).json()
            return {"numbers", "squares"} <= {a["name"] for a in agents}

        await wait_until(agents_online, timeout=60)
        runs = [
            (await first.post("/v1/runs", json={"workflow": SQUARES, "input": {"n": n}})).json()
            for n in (3, 6)
        ]
        for n, submitted in zip((3, 6), runs, strict=True):
            # Waited on at the other replica: whichever finishes the run tells it.
            run: dict[str, Any] = {}
            for _ in range(30):
                path = f"/v1/runs/{submitted['run_id']}/wait"
                run = (await second.get(path, params={"timeout_s": 10})).json()
                if run["status"] not in ("pending", "running"):
                    break
            assert run["status"] == "succeeded", run
            assert run["output"] == sum(i * i for i in range(n))
            events = (await second.get(f"/v1/runs/{submitted['run_id']}/events")).json()
            succeeded = Counter(e["step_id"] for e in events if e["type"] == "step.succeeded")
            assert succeeded == {s["step_id"]: 1 for s in run["steps"]}, succeeded
        assert (await first.get("/v1/ledger/verify")).json()["ok"]
        # Both replicas saw the bus as ready.
        for client in (first, second):
            assert (await client.get("/readyz")).status_code == 200
    finally:
        await first.aclose()
        await second.aclose()

    # The tasks went through the cluster: each capability's stream, with its group.
    cluster = RedisCluster.from_url(server_url(redis_cluster_url))
    try:
        for capability in ("test.range", "test.square", "test.sum"):
            groups = await cluster.xinfo_groups(streams.tasks(capability))
            assert [g["name"] for g in groups] == [capability.encode()]
            assert groups[0]["pending"] == 0
    finally:
        await cluster.aclose()
    ran = Counter((e["run"], e["step"]) for e in fleet.executions(log))
    assert sum(ran.values()) == (2 + 3) + (2 + 6)  # range, n squares, sum: once each
