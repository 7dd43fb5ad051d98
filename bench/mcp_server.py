"""What MODX's MCP front door (``/mcp``) adds to a run, against the REST API for the same run.

An embedded MODX on a free port with the ``numbers`` agent in process; ``runs`` one-step runs of
``test.noop`` started and awaited through REST (``POST /v1/runs`` then ``/wait``), then as many
through the MCP SDK's client (``tools/call`` on ``test.noop``, one session), one at a time.

    python -m bench.mcp_server [--runs 50]

Prints JSON: p50/p90 of a run's wall time per way in, and the MCP call's extra p50.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from bench.harness import percentile
from tests.e2e.fleet import numbers
from tests.fixtures.stack import TOKEN, running_stack

WARM_UP = 5


async def _rest(client: httpx.AsyncClient, runs: int) -> list[float]:
    body = {"workflow": {"name": "noop", "steps": [{"id": "a", "capability": "test.noop"}]}}
    times = []
    for index in range(runs + WARM_UP):
        started = time.perf_counter()
        run_id = (await client.post("/v1/runs", json=body)).json()["run_id"]
        run = (await client.get(f"/v1/runs/{run_id}/wait", params={"timeout_s": 30})).json()
        if run["status"] != "succeeded":
            raise RuntimeError(f"run {run_id} ended {run['status']}")
        if index >= WARM_UP:
            times.append(time.perf_counter() - started)
    return times


async def _mcp(url: str, runs: int) -> list[float]:
    headers = {"authorization": f"Bearer {TOKEN}"}
    times = []
    async with (
        httpx.AsyncClient(headers=headers, timeout=60) as http,
        streamable_http_client(f"{url}/mcp", http_client=http) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        for index in range(runs + WARM_UP):
            started = time.perf_counter()
            result = await session.call_tool("test.noop", {})
            if result.isError:
                raise RuntimeError(str(result.content))
            if index >= WARM_UP:
                times.append(time.perf_counter() - started)
    return times


async def measure(runs: int) -> dict[str, Any]:
    """Run wall times through REST, then through MCP."""
    with tempfile.TemporaryDirectory() as tmp:
        async with running_stack("embedded", Path(tmp), None, None) as stack:
            await stack.agent(numbers)
            rest = await _rest(stack.client, runs)
            mcp = await _mcp(stack.url, runs)
    result: dict[str, Any] = {"runs": runs}
    for name, times in (("rest", rest), ("mcp", mcp)):
        result[name] = {
            "p50_ms": round(percentile(times, 0.5) * 1000, 2),
            "p90_ms": round(percentile(times, 0.9) * 1000, 2),
        }
    result["mcp_extra_p50_ms"] = round(result["mcp"]["p50_ms"] - result["rest"]["p50_ms"], 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    print(json.dumps(asyncio.run(measure(parser.parse_args().runs)), indent=2))


if __name__ == "__main__":
    main()
