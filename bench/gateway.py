"""The agent gateway's extra latency per step, against a bus agent on the same server.

One ``modx serve`` on PostgreSQL + Redis; one ``numbers`` agent process at a time, first
straight on Redis (``MODX_AGENT_TRANSPORT=bus``), then through the API's WebSocket gateway
(``gateway``). Each takes ``runs`` 10-step chains of no-op steps, one run at a time; a step's
latency is its run's wall time (submit to the end of the long-poll) over the number of steps.

    python -m bench.gateway [--runs 30] [--steps 10]

Prints JSON: per transport the p50/p90 per step, and the gateway's extra p50 per step.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from typing import Any

import httpx

from bench.harness import log, percentile
from bench.stack import REDIS_URL, TOKEN, Stacks, _popen, log_dir, stop_processes
from bench.workload import chain


async def _latencies(url: str, runs: int, steps: int) -> list[float]:
    headers = {"authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        per_step: list[float] = []
        for index in range(runs + 3):  # three warm-up runs, not counted
            body = {"workflow": chain(f"gw-{uuid.uuid4().hex[:8]}", steps), "input": {}}
            started = time.perf_counter()
            run_id = (await client.post("/v1/runs", json=body)).json()["run_id"]
            run = (await client.get(f"/v1/runs/{run_id}/wait", params={"timeout_s": 30})).json()
            elapsed = time.perf_counter() - started
            if run["status"] != "succeeded":
                raise RuntimeError(f"run {run_id} ended {run['status']}")
            if index >= 3:
                per_step.append(elapsed / steps)
        return per_step


async def measure(runs: int, steps: int) -> dict[str, Any]:
    """Per-step latency with a bus agent, then with a gateway agent."""
    results: dict[str, Any] = {"runs": runs, "steps_per_run": steps}
    with log_dir() as logs:
        async with Stacks(logs) as stacks:
            stack = await stacks.distributed("gateway", REDIS_URL, 0)
            for transport in ("bus", "gateway"):
                agent = _popen(
                    ["-m", "tests.e2e.launch", "bus", "numbers"],
                    {
                        "MODX_URL": stack.server.url,
                        "MODX_API_TOKEN": TOKEN,
                        "MODX_AGENT_TRANSPORT": transport,
                    },
                    logs / f"agent-{transport}.log",
                )
                stack.agents.append(agent)
                await stack.wait_agents(1)
                samples = await _latencies(stack.server.url, runs, steps)
                online = await _online(stack.server.url)
                results[transport] = {
                    "agent_transport": online,
                    "p50_ms": round(percentile(samples, 0.5) * 1000, 2),
                    "p90_ms": round(percentile(samples, 0.9) * 1000, 2),
                    "mean_ms": round(sum(samples) / len(samples) * 1000, 2),
                }
                log(f"{transport}: {results[transport]}")
                await asyncio.to_thread(stop_processes, [agent])
                stack.agents.remove(agent)
                await _until_no_agent(stack.server.url)
    results["gateway_extra_p50_ms"] = round(
        results["gateway"]["p50_ms"] - results["bus"]["p50_ms"], 2
    )
    return results


async def _online(url: str) -> list[str]:
    """The transports of the agents online now (to show which one served the runs)."""
    headers = {"authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=url, headers=headers) as client:
        agents = (await client.get("/v1/agents", params={"status": "online"})).json()
    return [agent["transport"] for agent in agents]


async def _until_no_agent(url: str) -> None:
    headers = {"authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=url, headers=headers) as client:
        for _ in range(300):
            if not (await client.get("/v1/agents", params={"status": "online"})).json():
                return
            await asyncio.sleep(0.2)
    raise TimeoutError("the agent did not leave within 60 s")


def main() -> None:
    """Run the measurement and print it as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure(args.runs, args.steps)), indent=2))


if __name__ == "__main__":
    main()
