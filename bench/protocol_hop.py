"""What an MCP or A2A hop adds to a step, against a native bus agent doing the same nothing.

An embedded MODX on a free port with the ``numbers`` agent in process (``test.noop``, a bus
agent); the test MCP server (``tests/interop/mcp_peer.py``, built with the MCP SDK) registered
twice, over stdio (MODX starts it) and over streamable HTTP (its own process); and the test A2A
agent (``tests/interop/a2a_peer.py``, built with the a2a-sdk's server) registered twice, with a
streaming card and with a blocking one (MODX then polls ``GetTask``). Each round runs one
one-step workflow per way, in turn, so the ways share the machine's load: ``test.noop``,
``mcp.*.add`` (adding two small integers is as near to nothing as a tool gets) and
``a2a.*.shout`` (upper-casing a word).

    python -m bench.protocol_hop [--runs 100]

Prints JSON: per way, p50/p90 of the step's own time (scheduled → finished, as the run
records it) and of the run's wall time through REST (``POST /v1/runs`` then ``/wait``), and
each protocol way's extra step p50 over the bus agent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.harness import REPO, percentile
from tests.e2e.fleet import numbers
from tests.fixtures.services import free_port, wait_until
from tests.fixtures.stack import ADMIN, Stack, running_stack
from tests.interop.a2a_peer import running_peer

WARM_UP = 5
PEER = [sys.executable, "-m", "tests.interop.mcp_peer"]
WAYS: dict[str, tuple[str, dict[str, Any]]] = {
    "bus": ("test.noop", {}),
    "mcp_stdio": ("mcp.stdio.add", {"a": 1, "b": 2}),
    "mcp_http": ("mcp.http.add", {"a": 1, "b": 2}),
    "a2a_streaming": ("a2a.streaming.shout", {"text": "hi"}),
    "a2a_blocking": ("a2a.blocking.shout", {"text": "hi"}),
}


async def _register(stack: Stack, body: dict[str, Any], route: str = "/v1/agents/mcp") -> None:
    response = await stack.client.post(
        route, json=body, headers={"authorization": f"Bearer {ADMIN}"}
    )
    if response.status_code != 201:
        raise RuntimeError(response.text)


async def _one(stack: Stack, capability: str, arguments: dict[str, Any]) -> tuple[float, float]:
    """One run of a one-step workflow: (the step's time, the run's wall time), in seconds."""
    workflow = {"name": "hop", "steps": [{"id": "s", "capability": capability, "input": arguments}]}
    started = time.perf_counter()
    run_id = await stack.submit(workflow)
    run = await stack.wait(run_id)
    wall = time.perf_counter() - started
    if run["status"] != "succeeded":
        raise RuntimeError(f"run {run_id} ended {run['status']}: {run.get('error')}")
    (step,) = run["steps"]
    scheduled = datetime.fromisoformat(step["scheduled_at"])
    finished = datetime.fromisoformat(step["finished_at"])
    return (finished - scheduled).total_seconds(), wall


async def _rounds(stack: Stack, runs: int) -> dict[str, list[tuple[float, float]]]:
    """``runs`` rounds (after a warm-up) of one run per way, the ways in turn."""
    times: dict[str, list[tuple[float, float]]] = {way: [] for way in WAYS}
    for index in range(runs + WARM_UP):
        for way, (capability, arguments) in WAYS.items():
            measured = await _one(stack, capability, arguments)
            if index >= WARM_UP:
                times[way].append(measured)
    return times


async def measure(runs: int) -> dict[str, Any]:
    """Step and run times per way, the ways taken in turn."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    peer = await asyncio.create_subprocess_exec(*PEER, "http", str(port), env=env, cwd=REPO)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            async with running_stack(
                "embedded", Path(tmp), None, None, egress_allow=["127.0.0.1"]
            ) as stack:
                await stack.agent(numbers)
                command = [*PEER, "stdio"]
                await _register(
                    stack, {"name": "stdio", "command": command, "env": {"PYTHONPATH": str(REPO)}}
                )

                async def http_up() -> bool:
                    try:
                        await _register(
                            stack, {"name": "http", "url": f"http://127.0.0.1:{port}/mcp"}
                        )
                    except RuntimeError:
                        return False
                    return True

                await wait_until(http_up, timeout=60)
                async with (
                    running_peer(streaming=True) as streaming,
                    running_peer(streaming=False) as blocking,
                ):
                    for name, a2a in (("streaming", streaming), ("blocking", blocking)):
                        body = {"card_url": a2a.card_url, "name": name}
                        await _register(stack, body, "/v1/agents/a2a")
                    times = await _rounds(stack, runs)
    finally:
        peer.terminate()
        await peer.wait()
    result: dict[str, Any] = {"runs": runs, "load_average": os.getloadavg()[0]}
    for way, pairs in times.items():
        steps, walls = [p[0] for p in pairs], [p[1] for p in pairs]
        result[way] = {
            "step_p50_ms": round(percentile(steps, 0.5) * 1000, 2),
            "step_p90_ms": round(percentile(steps, 0.9) * 1000, 2),
            "run_p50_ms": round(percentile(walls, 0.5) * 1000, 2),
            "run_p90_ms": round(percentile(walls, 0.9) * 1000, 2),
        }
    for way in [w for w in WAYS if w != "bus"]:
        result[f"{way}_extra_step_p50_ms"] = round(
            result[way]["step_p50_ms"] - result["bus"]["step_p50_ms"], 2
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    print(json.dumps(asyncio.run(measure(parser.parse_args().runs)), indent=2))


if __name__ == "__main__":
    main()
