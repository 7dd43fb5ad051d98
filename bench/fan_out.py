"""A 100,000-item fan-out on ``modx serve`` (PostgreSQL + Redis) with a live agent in its own
process: time to finish, the server's memory (peak RSS) and CPU; a cancel in the middle of a
second one; and a third that no agent serves, left waiting, then cancelled.

``python -m bench.fan_out [--items N]`` prints the figures and writes
``bench/results/fan_out.json``. The CI test is ``tests/e2e/test_fan_out.py`` (20,000 items).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

import httpx

from bench.harness import REPO, log
from bench.stack import REDIS_URL, Stacks, log_dir

RESULTS = REPO / "bench" / "results" / "fan_out.json"


def fan(capability: str) -> dict[str, Any]:
    """A workflow that squares every item of its input."""
    return {
        "name": "bench-fan",
        "steps": [
            {
                "id": "sq",
                "capability": capability,
                "for_each": "$.input.items",
                "input": {"value": "$.item"},
            }
        ],
    }


def proc_status(pid: int) -> dict[str, float]:
    """The process's current and peak RSS (MB) and CPU seconds so far."""
    figures: dict[str, float] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                figures[name] = int(value.split()[0]) / 1024
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    figures["cpu_s"] = (int(fields[11]) + int(fields[12])) / ticks
    return figures


async def status(client: httpx.AsyncClient, run_id: str) -> str:
    """A run's status, from the list (a run's own page carries every step)."""
    items = (await client.get("/v1/runs", params={"id": run_id})).json()["items"]
    return str(items[0]["status"])


async def submit(client: httpx.AsyncClient, capability: str, count: int) -> str:
    """Start a fan-out over ``count`` items; its run id."""
    response = await client.post(
        "/v1/runs", json={"workflow": fan(capability), "input": {"items": list(range(count))}}
    )
    response.raise_for_status()
    return str(response.json()["run_id"])


async def cancel(client: httpx.AsyncClient, run_id: str) -> float:
    """Cancel; seconds until the answer says ``cancelled``."""
    start = time.perf_counter()
    response = await client.post(f"/v1/runs/{run_id}/cancel")
    elapsed = time.perf_counter() - start
    assert response.json()["status"] == "cancelled", response.text
    return elapsed


async def main(count: int, keep: Path | None) -> dict[str, Any]:
    """Run the three scenarios; the figures."""
    with log_dir(keep) as logs:
        async with Stacks(logs) as stacks:
            stack = await stacks.distributed("fan-out", REDIS_URL, 0)
            stack.start_agents(1, "squares")
            await stack.wait_agents(1, "squares")
            pid = stack.server.pid
            headers = {"authorization": f"Bearer {stack.server.token}"}
            async with httpx.AsyncClient(
                base_url=stack.server.url, headers=headers, timeout=120
            ) as client:
                figures: dict[str, Any] = {"items": count, "before": proc_status(pid)}
                start = time.perf_counter()
                run_id = await submit(client, "test.square", count)
                figures["submit_s"] = round(time.perf_counter() - start, 2)
                rss = []
                while await status(client, run_id) == "running":
                    rss.append(proc_status(pid)["VmRSS"])
                    await asyncio.sleep(1.0)
                figures["complete_s"] = round(time.perf_counter() - start, 1)
                figures["status"] = await status(client, run_id)
                figures["after"] = proc_status(pid)
                figures["rss_mb_max_sampled"] = round(max(rss, default=0), 1)
                log(f"{count} items: {figures}")

                run_id = await submit(client, "test.square", count)
                # A third of the way through (a benchmark may wait on the clock).
                await asyncio.sleep(figures["complete_s"] / 3)
                figures["cancel_mid_run_s"] = round(await cancel(client, run_id), 3)

                run_id = await submit(client, "test.nobody", count)
                await asyncio.sleep(2)
                idle_start = proc_status(pid)["cpu_s"]
                await asyncio.sleep(10)
                figures["cpu_share_while_waiting"] = round(
                    (proc_status(pid)["cpu_s"] - idle_start) / 10, 3
                )
                figures["cancel_waiting_s"] = round(await cancel(client, run_id), 3)
                figures["end"] = proc_status(pid)
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--keep-logs", type=Path, default=None)
    args = parser.parse_args()
    result = asyncio.run(main(args.items, args.keep_logs))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
