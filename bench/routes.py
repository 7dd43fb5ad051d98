"""The server's CPU per HTTP request, by route, as the 200-clients pattern sends them.

``python -m bench.routes [--clients C] [--repeats N] [--token static|issued] [--profile DIR]``:
one ``modx serve`` on PostgreSQL + Redis with 2 ``numbers`` agents. ``C`` clients (each its own HTTP
connection, made before the clock starts) send one request each, all at once; the server's
CPU (from ``/proc``) over the burst, divided by ``C``, is that route's cost, and so is the
PostgreSQL backends'. Routes, in turn, ``N`` bursts each:

- ``healthz``: no auth, no database: uvicorn, the middleware and FastAPI alone;
- ``wait``: ``GET /v1/runs/{id}/wait`` of a finished run (auth, the run and its steps read,
  the answer); in the clients pattern a wait usually sleeps and is answered from the finish
  notice instead of the second read, so this is an upper bound of that;
- ``get``: ``GET /v1/runs/{id}`` (``wait``'s read plus the definition);
- ``post``: ``POST /v1/runs`` of a registered 10-step workflow **whose capability no agent
  serves**: the run and its first step are committed, the step finds no agent and waits
  (``waiting_reason``'s query instead of the task's publish); the runs are cancelled after
  each burst, outside the measurement.

``--token issued`` authenticates with a token issued by ``POST /v1/tokens`` (looked up in the
database) instead of the server's ``MODX_API_TOKEN`` (compared in memory), as tenants do.
``--profile`` then repeats each route's bursts under py-spy (collapsed stacks in ``DIR``, of
the bursts alone: not of the cancellations after them).
Not part of ``modx bench``: the loop for working on the API's own cost, about a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from statistics import median
from typing import Any

import httpx

from bench import profile
from bench.harness import log
from bench.stack import ADMIN, REDIS_URL, Stack, Stacks, backend_pids, log_dir
from bench.workload import Api, chain

Request = Callable[[httpx.AsyncClient, int], Any]


async def _cpu(stack: Stack) -> profile.CpuSnapshot:
    assert stack.database_url is not None
    return profile.cpu_snapshot(
        {"server": [stack.server.pid], "postgres": await backend_pids(stack.database_url)}
    )


async def _burst(
    stack: Stack, https: list[httpx.AsyncClient], request: Request
) -> tuple[dict[str, float], list[Any]]:
    """CPU ms per request of the server and PostgreSQL, one request per client at once; and
    the answers' bodies."""

    async def one(index: int) -> Any:
        response = await request(https[index], index)
        response.raise_for_status()
        return response.json()

    before = await _cpu(stack)
    answers = await asyncio.gather(*(one(i) for i in range(len(https))))
    used = profile.cpu_delta(before, await _cpu(stack))
    return {k: round(1000 * v / len(https), 3) for k, v in used.items()}, answers


async def _measure(
    stack: Stack,
    api: Api,
    https: list[httpx.AsyncClient],
    request: Request,
    profile_to: Path | None = None,
) -> dict[str, float]:
    """One burst (under py-spy when ``profile_to`` is given); runs it started (their capability
    has no agent) are cancelled after it, outside the profile, and settle, so that their
    waiting steps cost nothing in the next burst."""
    sampler = None
    if profile_to is not None:
        sampler = profile.Sampler(stack.server.pid, profile_to, rate=1000)
        await asyncio.sleep(0.5)  # attached
    cpu, answers = await _burst(stack, https, request)
    if sampler is not None:
        await asyncio.to_thread(sampler.stop)
    started = [a["run_id"] for a in answers if isinstance(a, dict) and a.get("created")]
    for run_id in started:
        (await api.client.post(f"/v1/runs/{run_id}/cancel")).raise_for_status()
    if started:
        await asyncio.sleep(1.0)
    return cpu


async def main(args: argparse.Namespace) -> None:
    with log_dir(Path(args.logs) if args.logs else None) as logs:
        async with Stacks(logs) as stacks:
            stack = await stacks.distributed("routes", REDIS_URL, 2)
            api = Api(stack.servers)
            await api.register(chain("routes-chain", 10))
            await api.register(chain("routes-idle", 10, capability="test.nobody"))
            await api.throughput(chain("warm", 10), 20)
            token = api.token
            if args.token == "issued":
                issued = await api.issued(ADMIN)
                token = issued.token
                await issued.aclose()
            https = [
                httpx.AsyncClient(
                    base_url=stack.server.url,
                    headers={"authorization": f"Bearer {token}"},
                    timeout=120,
                )
                for _ in range(args.clients)
            ]
            # The runs ``wait`` and ``get`` read: finished ones, one per client.
            finished = await api.clients(chain("routes-done", 10), args.clients, "wait")
            log(f"{args.clients} runs finished in {finished['elapsed_s']:.2f} s")
            done = (await api.client.get("/v1/runs", params={"limit": args.clients})).json()
            ids = [r["run_id"] for r in done["items"] if r["status"] == "succeeded"]
            assert len(ids) == args.clients, f"{len(ids)} finished runs"
            routes: dict[str, Request] = {
                "healthz": lambda http, i: http.get("/healthz"),
                "wait": lambda http, i: http.get(f"/v1/runs/{ids[i]}/wait"),
                "get": lambda http, i: http.get(f"/v1/runs/{ids[i]}"),
                "post": lambda http, i: http.post(
                    "/v1/runs", json={"workflow": "routes-idle", "input": {}}
                ),
            }
            found: dict[str, list[dict[str, float]]] = {name: [] for name in routes}
            for request in routes.values():  # one unmeasured burst each: connections open
                await _measure(stack, api, https, request)
            for _ in range(args.repeats):
                for name, request in routes.items():
                    found[name].append(await _measure(stack, api, https, request))
            if args.profile:  # after the measured bursts: py-spy costs the server CPU
                out = Path(args.profile)
                await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
                for name, request in routes.items():
                    parts = [out / f"serve-{name}-{k}.txt" for k in range(args.repeats)]
                    for part in parts:
                        await _measure(stack, api, https, request, part)
                    collapsed = "".join([await asyncio.to_thread(p.read_text) for p in parts])
                    await asyncio.to_thread((out / f"serve-{name}.txt").write_text, collapsed)
                    for part in parts:
                        await asyncio.to_thread(part.unlink)
            await asyncio.gather(*(http.aclose() for http in https))
            await api.aclose()
    summary = {
        name: {who: median(r[who] for r in rows) for who in rows[0]} for name, rows in found.items()
    }
    log(f"CPU ms per request, median of {args.repeats} (token {args.token}): {summary}")
    print(json.dumps({"token": args.token, "median": summary, "bursts": found}, indent=1))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--token", choices=("static", "issued"), default="static")
    parser.add_argument("--profile", default="", help="py-spy stacks of each route's bursts")
    parser.add_argument("--logs", default="")
    asyncio.run(main(parser.parse_args()))
