"""Chains of no-op steps driven over the REST API: one run alone, or many in flight.

Two client patterns:

- ``throughput``: submit ``runs`` runs at once (so that many are in flight), then poll the run
  list; the elapsed time ends at the latest ``finished_at`` the server recorded, so the polling
  interval does not count;
- ``clients``: N clients, each submitting its own run and waiting on it, through
  ``/wait`` or through the event stream, as the CLI and SDKs do; the elapsed time ends when
  the last client saw its run end, and each client's latency is submit to seen-finished.
"""

from __future__ import annotations

import asyncio
import ssl
import time
import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

import httpx

from bench.harness import latency_summary
from bench.stack import TERMINAL, Server
from modx.sse import SseParser

WAIT_MODES = ("wait", "stream")


def chain(name: str, steps: int, capability: str = "test.noop") -> dict[str, Any]:
    """A workflow of ``steps`` no-op steps, each depending on the previous one's output."""
    definition_steps: list[dict[str, Any]] = [{"id": "s0", "capability": capability, "input": {}}]
    for index in range(1, steps):
        definition_steps.append(
            {
                "id": f"s{index}",
                "capability": capability,
                "input": {"prev": f"$.steps.s{index - 1}.output.ok"},
            }
        )
    return {"name": name, "steps": definition_steps, "output": f"$.steps.s{steps - 1}.output"}


class Api:
    """An authenticated client of one or more MODX servers (requests go round-robin)."""

    def __init__(self, servers: list[Server], timeout: float = 120.0) -> None:
        self._servers = servers
        self._clients = [
            httpx.AsyncClient(
                base_url=s.url,
                headers={"authorization": f"Bearer {s.token}"},
                timeout=timeout,
                # Idle connections are dropped before the server's keep-alive (5 s) can close
                # one under a request that reuses it (a ReadError after a pause).
                limits=httpx.Limits(
                    max_connections=64, max_keepalive_connections=64, keepalive_expiry=2.0
                ),
            )
            for s in servers
        ]
        self._next = 0

    @property
    def token(self) -> str:
        """The bearer token the clients send."""
        return self._servers[0].token

    @property
    def client(self) -> httpx.AsyncClient:
        """The first server's client."""
        return self._clients[0]

    def _pick(self) -> httpx.AsyncClient:
        client = self._clients[self._next % len(self._clients)]
        self._next += 1
        return client

    async def metric_sum(self, name: str, admin_token: str) -> float:
        """The sum of a metric's samples (all labels) over every server's ``/metrics`` (which
        a system admin's token reads)."""
        total = 0.0
        headers = {"authorization": f"Bearer {admin_token}"}
        for client in self._clients:
            response = await client.get("/metrics", headers=headers)
            response.raise_for_status()
            for line in response.text.splitlines():
                if line.startswith(name + "{") or line.startswith(name + " "):
                    total += float(line.rsplit(" ", 1)[1])
        return total

    async def aclose(self) -> None:
        """Close every client."""
        await asyncio.gather(*(c.aclose() for c in self._clients))

    async def issued(self, admin_token: str) -> Api:
        """A client of the same servers with a token issued by ``POST /v1/tokens`` (an
        operator of the default tenant, looked up in the database as tenants' tokens are)
        instead of the servers' ``MODX_API_TOKEN`` (compared in memory)."""
        response = await self.client.post(
            "/v1/tokens",
            json={"tenant": "default", "role": "operator", "name": "bench"},
            headers={"authorization": f"Bearer {admin_token}"},
        )
        response.raise_for_status()
        token = str(response.json()["token"])
        return Api([replace(s, token=token) for s in self._servers])

    async def register(self, definition: dict[str, Any]) -> None:
        """Register a workflow definition."""
        response = await self.client.post("/v1/workflows", json=definition)
        response.raise_for_status()

    async def submit(self, workflow: str | dict[str, Any], input_: Any = None) -> str:
        """Start a run; returns its id."""
        response = await self._pick().post("/v1/runs", json={"workflow": workflow, "input": input_})
        response.raise_for_status()
        return str(response.json()["run_id"])

    async def wait(self, run_id: str, timeout_s: float = 120.0) -> dict[str, Any]:
        """Long-poll until the run is terminal."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout_s
        while True:
            response = await self.client.get(f"/v1/runs/{run_id}/wait", params={"timeout_s": 30})
            run: dict[str, Any] = response.json()
            if run["status"] in TERMINAL:
                return run
            if loop.time() > end:
                raise TimeoutError(f"run {run_id} still {run['status']} after {timeout_s}s")

    async def run_once(self, workflow: str) -> float:
        """Seconds from submitting one run to seeing it succeeded (client side)."""
        started = time.perf_counter()
        run = await self.wait(await self.submit(workflow, {}))
        elapsed = time.perf_counter() - started
        if run["status"] != "succeeded":
            raise RuntimeError(f"run {run['run_id']} ended {run['status']}: {run.get('error')}")
        return elapsed

    async def _any(self, workflow: str, status: str) -> bool:
        params: dict[str, str | int] = {"workflow": workflow, "status": status, "limit": 1}
        return bool((await self.client.get("/v1/runs", params=params)).json()["items"])

    async def _count(self, workflow: str, status: str) -> tuple[int, list[dict[str, Any]]]:
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"workflow": workflow, "status": status, "limit": 500}
            if cursor:
                params["cursor"] = cursor
            page = (await self.client.get("/v1/runs", params=params)).json()
            items.extend(page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                return len(items), items

    async def throughput(
        self,
        definition: dict[str, Any],
        runs: int,
        submit_concurrency: int = 16,
        timeout_s: float = 300.0,
        poll_s: float = 0.1,
    ) -> dict[str, float]:
        """Submit ``runs`` runs of ``definition`` at once; steps/s until the last one finished."""
        name = f"{definition['name']}-{uuid.uuid4().hex[:6]}"
        await self.register({**definition, "name": name})
        steps = len(definition["steps"])
        limit = asyncio.Semaphore(submit_concurrency)

        async def one() -> str:
            async with limit:
                return await self.submit(name, {})

        started = time.time()
        await asyncio.gather(*(one() for _ in range(runs)))
        submitted = time.time() - started
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout_s
        while True:
            await asyncio.sleep(poll_s)
            if not await self._any(name, "running") and not await self._any(name, "pending"):
                break
            if loop.time() > end:
                raise TimeoutError(f"{runs} runs of {name} not finished after {timeout_s}s")
        done, items = await self._count(name, "succeeded")
        if done != runs:
            raise RuntimeError(f"only {done} of {runs} runs of {name} succeeded")
        last = max(datetime.fromisoformat(item["finished_at"]).timestamp() for item in items)
        elapsed = last - started
        return {
            "steps_per_s": runs * steps / elapsed,
            "runs_per_s": runs / elapsed,
            "elapsed_s": elapsed,
            "submit_s": submitted,
        }

    async def clients(
        self, definition: dict[str, Any], clients: int, mode: str, timeout_s: float = 300.0
    ) -> dict[str, float]:
        """``clients`` clients, each submitting one run of ``definition`` and waiting on it
        (``mode``: ``wait`` long-polls, ``stream`` follows the SSE stream); steps/s until the
        last one saw its run end, and each client's latency."""
        if mode not in WAIT_MODES:
            raise ValueError(f"mode is one of {WAIT_MODES}")
        name = f"{definition['name']}-{uuid.uuid4().hex[:6]}"
        await self.register({**definition, "name": name})
        steps = len(definition["steps"])
        # Each client has its own connection, as separate users have (one shared pool of
        # ``clients`` connections costs the benchmark's process CPU that grows with the square
        # of the requests in flight: httpcore matches every waiting request to every connection).
        # Made before the clock starts (users have theirs), sharing one TLS context.
        tls = ssl.create_default_context()
        https = [
            httpx.AsyncClient(
                base_url=str(c.base_url), headers=dict(c.headers), timeout=timeout_s, verify=tls
            )
            for index in range(clients)
            for c in [self._clients[index % len(self._clients)]]
        ]

        async def one(http: httpx.AsyncClient) -> float:
            began = time.perf_counter()
            response = await http.post("/v1/runs", json={"workflow": name, "input": {}})
            response.raise_for_status()
            run_id = response.json()["run_id"]
            if mode == "stream":
                await _follow(http, run_id)
            status = await _waited(http, run_id, timeout_s)
            if status != "succeeded":
                raise RuntimeError(f"run {run_id} ended {status}")
            return time.perf_counter() - began

        try:
            started = time.perf_counter()
            latencies = await asyncio.gather(*(one(http) for http in https))
            elapsed = time.perf_counter() - started
        finally:
            await asyncio.gather(*(http.aclose() for http in https))
        summary = latency_summary(latencies)
        return {
            "steps_per_s": clients * steps / elapsed,
            "elapsed_s": elapsed,
            "p50_ms": summary["p50_ms"],
            "p99_ms": summary["p99_ms"],
        }


# A keep-alive connection the server closed just as the client reused it: a client retries
# a GET (resuming a stream where it was).
RETRIED = (httpx.ReadError, httpx.RemoteProtocolError)


async def _follow(http: httpx.AsyncClient, run_id: str) -> None:
    """Read the run's event stream until the server closes it (at the run's final event)."""
    last: str | None = None
    for _ in range(5):
        parser = SseParser()
        headers = {"Last-Event-ID": last} if last is not None else {}
        try:
            async with http.stream("GET", f"/v1/runs/{run_id}/stream", headers=headers) as response:
                response.raise_for_status()
                async for line in response.aiter_lines():
                    event = parser.feed(line)
                    if event is not None:
                        last = event.id
            return
        except RETRIED:
            continue


async def _waited(http: httpx.AsyncClient, run_id: str, timeout_s: float) -> str:
    """The run's status once terminal, by long-polling (returns at once if it already is)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout_s
    retries = 5
    while True:
        try:
            response = await http.get(f"/v1/runs/{run_id}/wait", params={"timeout_s": 60})
        except RETRIED:
            retries -= 1
            if retries < 0:
                raise
            continue
        response.raise_for_status()
        status = str(response.json()["status"])
        if status in TERMINAL or loop.time() > end:
            return status
