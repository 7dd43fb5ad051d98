"""The chaos scenarios and what they measure.

Each scenario starts two ``modx serve`` replicas and two ``numbers`` agent processes on a
private PostgreSQL database and a private Redis. It submits runs of a three-step workflow with
default settings (no retries, a 300 s step timeout) at a steady pace, and injects its fault
meanwhile. It then waits until every run has ended, or ``settle_s`` has passed, and counts:

- runs that succeeded, failed, and are still running (stuck);
- re-executions: handler executions beyond one per (run, step), from the agents' own log;
- duplicate completions: steps with more than one ``step.succeeded`` in their history (must be 0);
- unanswered: submissions that got no HTTP answer at all (refused connections to a killed
  replica included); every submission is retried, with its idempotency key, until it is taken;
- recovery: after each fault, the time until the first step of a run begun before the fault
  succeeded (the worst over the scenario's faults);
- drained: from the end of the last fault until every run had ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis
from redis.crc import key_slot

from bench.chaos.netns import Namespace
from bench.chaos.servers import PrivatePostgres, PrivateRedis
from bench.harness import REPO
from bench.stack import ADMIN, TOKEN, free_port, stop_processes
from bus import streams
from services.ledger.keys import create_key_file
from tests.fixtures.redis_cluster import Cluster, redis_cluster

WORKFLOW_CAPABILITY = "test.noop"
WORKFLOW = {
    "name": "chaos",
    "steps": [
        {"id": "a", "capability": WORKFLOW_CAPABILITY, "input": {"i": "$.input.i"}},
        {"id": "b", "capability": WORKFLOW_CAPABILITY, "after": ["a"]},
        {"id": "c", "capability": WORKFLOW_CAPABILITY, "after": ["b"]},
    ],
}
TERMINAL = ("succeeded", "failed", "cancelled", "timed_out")
LATE_IN_FAULT_S = 15.0  # a dead replica's runs have a new owner within about 13 s


@dataclass
class Result:
    """One row of the table."""

    scenario: str
    runs: int
    succeeded: int = 0
    failed: int = 0
    stuck: int = 0
    reexecutions: int = 0
    duplicate_completions: int = 0
    unanswered: int = 0
    recovery_s: float | None = None
    drained_s: float | None = None
    seconds: float = 0.0
    faults: int = 0
    # Near the end of a namespace's cut: replicas and agents whose lease still held.
    leased_in_fault: tuple[int, int] | None = None
    # The same once every run had ended and every lease held again (or a minute passed),
    # and when that was, from the end of the last fault.
    leased_after: tuple[int, int] | None = None
    leases_back_s: float | None = None
    # Steps of runs begun before a fault that succeeded from 15 s into it (past a replica's
    # lease and its renewal period) to its end: the runs the cut side held went on meanwhile.
    succeeded_late_in_fault: int = 0
    executors: int = 0  # agent processes that ran a step

    def row(self) -> list[str]:
        """The row as printed."""
        recovery = "-" if self.recovery_s is None else f"{self.recovery_s:.1f}"
        drained = "-" if self.drained_s is None else f"{self.drained_s:.1f}"
        return [
            self.scenario,
            str(self.runs),
            str(self.succeeded),
            str(self.failed),
            str(self.stuck),
            str(self.reexecutions),
            str(self.duplicate_completions),
            str(self.unanswered),
            recovery,
            drained,
            f"{self.seconds:.0f}",
        ]


HEADER = [
    "scenario",
    "runs",
    "succeeded",
    "failed",
    "stuck",
    "re-executions",
    "dup. completions",
    "unanswered",
    "recovery s",
    "drained s",
    "wall s",
]


def table(results: list[Result]) -> str:
    """A Markdown table of ``results``."""
    rows = [HEADER, ["---"] * len(HEADER), *(r.row() for r in results)]
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


@dataclass
class Replica:
    """One ``modx serve`` on a fixed port, so it can be killed and started again there."""

    port: int
    database_url: str
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    host: str = "127.0.0.1"
    namespace: Namespace | None = None  # runs inside it, listening on its address

    @property
    def url(self) -> str:
        """Its base URL."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        """Start (again) on its port."""
        command = ["-m", "services.cli.main", "serve", "--host", self.host, "--port"]
        argv = [sys.executable, *command, str(self.port)]
        self.proc = subprocess.Popen(
            self.namespace.command(argv) if self.namespace else argv,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO), **self.env},
            stdout=open(self.log, "ab"),  # noqa: SIM115 - lives with the process
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        """SIGKILL: nothing drained, nothing handed back."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    async def ready(self, timeout_s: float = 120.0) -> None:
        """Until ``/readyz`` answers 200."""
        end = time.monotonic() + timeout_s
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < end:
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.url}/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise TimeoutError(f"replica {self.url} not ready")


@dataclass
class Stack:
    """What one scenario runs against."""

    folder: Path
    postgres: PrivatePostgres
    redis: PrivateRedis
    database: str
    replicas: list[Replica] = field(default_factory=list)
    agents: list[subprocess.Popen[bytes]] = field(default_factory=list)
    faults: list[tuple[float, float]] = field(default_factory=list)  # wall-clock (start, end)
    proxy: Any = None
    namespace: Namespace | None = None
    leased_in_fault: tuple[int, int] | None = None
    agent_skews: tuple[str, ...] = ()  # libfaketime offsets of the first agents' clocks
    cluster: Cluster | None = None  # a Redis Cluster in place of ``redis`` (left unstarted)
    noop_delay_s: float = 0.0  # how long each step takes its agent

    @property
    def executions(self) -> Path:
        """The agents' log of every execution."""
        return self.folder / "executions.log"

    def start_agent(self, inside: bool = False) -> None:
        """One more ``numbers`` agent process, registered with the first replica; ``inside``
        the stack's namespace."""
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "MODX_URL": self.replicas[0].url,
            "MODX_API_TOKEN": TOKEN,
            "MODX_TEST_LOG": str(self.executions),
            "MODX_AGENT_SPILL_DIR": str(self.folder / "spill"),
        }
        if self.noop_delay_s:
            env["MODX_TEST_NOOP_DELAY_S"] = str(self.noop_delay_s)
        if len(self.agents) < len(self.agent_skews):
            env |= {"LD_PRELOAD": _libfaketime(), "FAKETIME": self.agent_skews[len(self.agents)]}
        argv = [sys.executable, "-m", "tests.e2e.launch", "bus", "numbers"]
        if inside:
            assert self.namespace is not None
            argv = self.namespace.command(argv)
        self.agents.append(
            subprocess.Popen(
                argv,
                cwd=REPO,
                env=env,
                stdout=open(self.folder / f"agent-{len(self.agents)}.log", "ab"),  # noqa: SIM115
                stderr=subprocess.STDOUT,
            )
        )

    async def fault(self, inject: Callable[[], Awaitable[None]]) -> None:
        """Run ``inject`` and remember when it began and ended."""
        began = time.time()
        await inject()
        self.faults.append((began, time.time()))

    def stop(self) -> None:
        """Agents, then replicas."""
        stop_processes(self.agents, timeout=10)
        stop_processes([r.proc for r in self.replicas if r.proc is not None], timeout=10)


async def open_stack(
    folder: Path,
    postgres: PrivatePostgres,
    redis: PrivateRedis,
    *,
    partition: str | None = None,
    skew: str | None = None,
    namespace: Namespace | None = None,
    inside: str | None = None,
    agent_skews: tuple[str, ...] = (),
    cluster: Cluster | None = None,
    noop_delay_s: float = 0.0,
) -> Stack:
    """A fresh database, two replicas and two agents. The second replica reaches
    ``partition`` ("postgres" or "redis") through a proxy, and its clock is off by ``skew``
    (libfaketime's offset, "+60s"). With ``namespace``, everything talks over its link's
    root address, and the second ``inside`` ("replica" or "agent"), or both ("replicas"),
    run in it. The agents' clocks are off by ``agent_skews``, in order."""
    database = f"chaos_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(postgres.dsn())
    try:
        await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()
    stack = Stack(
        folder,
        postgres,
        redis,
        database,
        namespace=namespace,
        agent_skews=agent_skews,
        cluster=cluster,
        noop_delay_s=noop_delay_s,
    )
    try:
        await _start(stack, folder, postgres, redis, database, partition, skew, inside)
    except BaseException:
        await asyncio.to_thread(stack.stop)  # nothing left running when it could not start
        raise
    return stack


async def _start(
    stack: Stack,
    folder: Path,
    postgres: PrivatePostgres,
    redis: PrivateRedis,
    database: str,
    partition: str | None,
    skew: str | None,
    inside: str | None,
) -> None:
    create_key_file(folder / "ledger.key")
    namespace = stack.namespace
    # Through a namespace's link, servers are reached at its root end, from either side.
    host = namespace.host_address if namespace else "127.0.0.1"
    base = {
        "MODX_REDIS_URL": stack.cluster.url
        if stack.cluster
        else redis.url.replace("127.0.0.1", host),
        "MODX_API_TOKEN": TOKEN,
        "MODX_ADMIN_TOKEN": ADMIN,
        "MODX_LEDGER_KEY_FILE": str(folder / "ledger.key"),
        "MODX_DATA_DIR": str(folder / "data"),
        "MODX_TEST_LOG": str(stack.executions),
    }
    for index in range(2):
        env = {**base, "MODX_DATABASE_URL": postgres.url(database).replace("127.0.0.1", host)}
        if partition and index == 1:
            from tests.fixtures.proxy import TcpProxy

            port = postgres.port if partition == "postgres" else redis.port
            stack.proxy = TcpProxy("127.0.0.1", port, free_port())
            await stack.proxy.restore()
            key = "MODX_DATABASE_URL" if partition == "postgres" else "MODX_REDIS_URL"
            env[key] = env[key].replace(f":{port}/", f":{stack.proxy.port}/")
        if skew and index == 1:
            env |= {"LD_PRELOAD": _libfaketime(), "FAKETIME": skew}
        replica = Replica(
            free_port(), env["MODX_DATABASE_URL"], env, folder / f"replica-{index}.log", host=host
        )
        if namespace and (inside == "replicas" or (inside == "replica" and index == 1)):
            replica.host, replica.namespace = namespace.address, namespace
        stack.replicas.append(replica)
        replica.start()
        await replica.ready()  # the first migrates; the second finds the schema ready
    for index in range(2):
        stack.start_agent(inside=inside == "agent" and index == 1)
    await wait_agents(stack, 2)


def _libfaketime() -> str:
    found = sorted(Path("/usr/lib").glob("*/faketime/libfaketime.so.1"))
    if not found:
        raise RuntimeError("libfaketime is not installed (Debian's faketime)")
    return str(found[0])


async def wait_agents(stack: Stack, count: int, timeout_s: float = 120.0) -> None:
    """Until ``count`` agents are online."""
    headers = {"authorization": f"Bearer {TOKEN}"}
    end = time.monotonic() + timeout_s
    async with httpx.AsyncClient(base_url=stack.replicas[0].url, headers=headers) as client:
        while time.monotonic() < end:
            with contextlib.suppress(httpx.HTTPError):
                found = await client.get("/v1/agents", params={"status": "online"})
                if found.status_code == 200 and len(found.json()) >= count:
                    return
            await asyncio.sleep(0.2)
    raise TimeoutError("agents did not come online")


class Workload:
    """Submits runs at a steady pace; every submission is retried until it is taken."""

    def __init__(self, stack: Stack, runs: int, rate: float) -> None:
        self.stack = stack
        self.runs = runs
        self.rate = rate
        self.unanswered = 0
        self.unavailable = 0
        self.run_ids: list[str] = []

    async def submit_all(self) -> None:
        """Submit every run (``rate`` per second, up to 32 in flight)."""
        headers = {"authorization": f"Bearer {TOKEN}"}
        limit = asyncio.Semaphore(32)
        async with httpx.AsyncClient(headers=headers, timeout=30) as client:

            async def one(i: int) -> None:
                async with limit:
                    await self._submit(client, i)

            tasks = []
            for i in range(self.runs):
                tasks.append(asyncio.create_task(one(i)))
                await asyncio.sleep(1 / self.rate)
            await asyncio.gather(*tasks)

    async def _submit(self, client: httpx.AsyncClient, i: int) -> None:
        key = f"chaos-{i}"
        body = {"workflow": WORKFLOW, "input": {"i": i}, "idempotency_key": key}
        for attempt in range(10_000):
            replica = self.stack.replicas[(i + attempt) % len(self.stack.replicas)]
            try:
                response = await client.post(f"{replica.url}/v1/runs", json=body)
            except httpx.HTTPError:
                self.unanswered += 1
                await asyncio.sleep(0.2)
                continue
            if response.status_code in (200, 201, 202):
                self.run_ids.append(response.json()["run_id"])
                return
            if response.status_code == 409:  # taken by an earlier try that got no answer
                return
            self.unavailable += 1
            await asyncio.sleep(float(response.headers.get("retry-after", "0.5")))


async def measure(stack: Stack, result: Result) -> None:
    """Count what the database and the agents' log say."""
    conn = await asyncpg.connect(stack.postgres.dsn(stack.database))
    try:
        statuses = Counter(
            dict(await conn.fetch("SELECT status, count(*) FROM runs GROUP BY status"))
        )
        result.succeeded = statuses.get("succeeded", 0)
        result.failed = sum(statuses.get(s, 0) for s in ("failed", "cancelled", "timed_out"))
        result.stuck = sum(n for s, n in statuses.items() if s not in TERMINAL)
        result.duplicate_completions = int(
            await conn.fetchval(
                "SELECT count(*) FROM (SELECT run_id, step_id FROM events "
                "WHERE type = 'step.succeeded' GROUP BY run_id, step_id HAVING count(*) > 1) d"
            )
        )
        worst: float | None = None
        for began, ended in stack.faults:
            first = await conn.fetchval(
                "SELECT min(e.created_at) FROM events e JOIN runs r ON r.id = e.run_id "
                "WHERE e.type = 'step.succeeded' AND e.created_at > $1 AND r.created_at < $2",
                datetime.fromtimestamp(ended, UTC),
                datetime.fromtimestamp(began, UTC),
            )
            if first is not None:
                took = first.timestamp() - ended
                worst = took if worst is None else max(worst, took)
            if ended - began > LATE_IN_FAULT_S:
                result.succeeded_late_in_fault += await conn.fetchval(
                    "SELECT count(*) FROM events e JOIN runs r ON r.id = e.run_id "
                    "WHERE e.type = 'step.succeeded' AND e.created_at BETWEEN $1 AND $2 "
                    "AND r.created_at < $3",
                    datetime.fromtimestamp(began + LATE_IN_FAULT_S, UTC),
                    datetime.fromtimestamp(ended, UTC),
                    datetime.fromtimestamp(began, UTC),
                )
        result.recovery_s = worst
    finally:
        await conn.close()
    lines = stack.executions.read_text().splitlines() if stack.executions.exists() else []
    ran = Counter(
        (record["run"], record["step"]) for record in map(json.loads, filter(None, lines))
    )
    result.reexecutions = sum(ran.values()) - len(ran)
    result.executors = len({json.loads(line)["pid"] for line in filter(None, lines)})


async def settle(stack: Stack, settle_s: float) -> float | None:
    """Until no run is left unfinished, or ``settle_s`` passes; when every run had ended, that
    time (``time.time()``), else None."""
    end = time.monotonic() + settle_s
    while time.monotonic() < end:
        with contextlib.suppress(OSError, asyncpg.PostgresError):
            conn = await asyncpg.connect(stack.postgres.dsn(stack.database))
            try:
                left = await conn.fetchval(
                    "SELECT count(*) FROM runs WHERE status NOT IN "
                    "('succeeded', 'failed', 'cancelled', 'timed_out')"
                )
            finally:
                await conn.close()
            if left == 0:
                return time.time()
        await asyncio.sleep(0.5)
    return None


# -- the faults -------------------------------------------------------------------------------


async def agents_killed(stack: Stack, duration_s: float) -> None:
    """SIGKILL one agent every 3 s and start another in its place."""
    end = time.monotonic() + duration_s
    while time.monotonic() < end:
        await asyncio.sleep(3)
        alive = [a for a in stack.agents if a.poll() is None]

        async def kill_one(victim: subprocess.Popen[bytes] = random.choice(alive)) -> None:
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            stack.start_agent()

        await stack.fault(kill_one)


async def replicas_killed(stack: Stack, duration_s: float) -> None:
    """SIGKILL one replica and start it again; later, both."""

    async def one() -> None:
        stack.replicas[1].kill()
        await asyncio.sleep(1)
        stack.replicas[1].start()
        await stack.replicas[1].ready()

    async def every() -> None:
        for replica in stack.replicas:
            replica.kill()
        await asyncio.sleep(1)
        for replica in stack.replicas:
            replica.start()
        await asyncio.gather(*(replica.ready() for replica in stack.replicas))

    await asyncio.sleep(duration_s / 3)
    await stack.fault(one)
    await asyncio.sleep(duration_s / 3)
    await stack.fault(every)


async def redis_restarted(stack: Stack, duration_s: float) -> None:
    """SIGKILL Redis and start it again: empty, or from its AOF."""

    async def restart() -> None:
        stack.redis.kill()
        await asyncio.sleep(1)
        stack.redis.start()

    await asyncio.sleep(duration_s / 2)
    await stack.fault(restart)


async def postgres_killed(stack: Stack, duration_s: float) -> None:
    """SIGKILL the PostgreSQL postmaster and its backends; start it again (crash recovery)."""

    async def restart() -> None:
        stack.postgres.kill()
        await asyncio.sleep(2)
        await asyncio.to_thread(stack.postgres.start)

    await asyncio.sleep(duration_s / 2)
    await stack.fault(restart)


async def partitioned(stack: Stack, duration_s: float) -> None:
    """Cut the second replica from PostgreSQL (a TCP proxy between them) for up to 10 s."""

    async def cut() -> None:
        await stack.proxy.cut()
        await asyncio.sleep(min(10.0, max(3.0, duration_s)))
        await stack.proxy.restore()

    await asyncio.sleep(duration_s / 3)
    await stack.fault(cut)


async def redis_partitioned(stack: Stack, duration_s: float) -> None:
    """Cut the second replica from Redis (a TCP proxy between them) for 10 s: the process runs
    on, and its membership lease (in PostgreSQL) with it, so it keeps its partitions."""

    async def cut() -> None:
        await stack.proxy.cut()
        await asyncio.sleep(10)
        await stack.proxy.restore()

    await asyncio.sleep(duration_s / 3)
    await stack.fault(cut)


async def link_frozen(stack: Stack, duration_s: float) -> None:
    """Black-hole the second replica's link (to PostgreSQL or Redis, the proxy between them)
    for 20 s: nothing passes and nothing is closed, as when packets are dropped; then its
    connections are reset and new ones pass again."""

    async def freeze() -> None:
        stack.proxy.freeze()
        await asyncio.sleep(20)
        await stack.proxy.cut()
        await stack.proxy.restore()

    await asyncio.sleep(duration_s / 3)
    await stack.fault(freeze)


async def postgres_down_long(stack: Stack, duration_s: float) -> None:
    """SIGKILL PostgreSQL and start it 70 s later: answers that arrive meanwhile fail their
    handler for longer than ``max_deliveries`` visibility timeouts (before 2026-12-07 one of
    16 was dead-lettered, "handler failed 5 times", and its run left unfinished)."""

    async def restart() -> None:
        stack.postgres.kill()
        await asyncio.sleep(70)
        await asyncio.to_thread(stack.postgres.start)

    await asyncio.sleep(duration_s / 2)
    await stack.fault(restart)


async def postgres_immediate(stack: Stack, duration_s: float) -> None:
    """``pg_ctl -m immediate`` and a start 2 s later: connections closed, crash recovery."""

    async def restart() -> None:
        await asyncio.to_thread(stack.postgres.stop_immediate)
        await asyncio.sleep(2)
        await asyncio.to_thread(stack.postgres.start)

    await asyncio.sleep(duration_s / 2)
    await stack.fault(restart)


async def replica_lost(stack: Stack, duration_s: float) -> None:
    """SIGKILL the second replica for good, mid-load: the first must take its runs over when
    its membership lease runs out (``MODX_REPLICA_LEASE_S``, 10 s)."""

    async def kill() -> None:
        stack.replicas[1].kill()

    await asyncio.sleep(duration_s / 3)
    await stack.fault(kill)


async def redis_frozen(stack: Stack, duration_s: float) -> None:
    """SIGSTOP Redis for 30 s (past the agents' lease and the visibility timeout), then
    SIGCONT: a server that stops answering without closing anything."""

    async def freeze() -> None:
        stack.redis.signal(signal.SIGSTOP)
        try:
            await asyncio.sleep(30)
        finally:
            stack.redis.signal(signal.SIGCONT)

    await asyncio.sleep(duration_s / 3)
    await stack.fault(freeze)


async def postgres_frozen(stack: Stack, duration_s: float) -> None:
    """SIGSTOP PostgreSQL (the postmaster and every backend) for 30 s, then SIGCONT: commits
    in flight land after the claim timeout."""

    async def freeze() -> None:
        stack.postgres.signal(signal.SIGSTOP)
        try:
            await asyncio.sleep(30)
        finally:
            stack.postgres.signal(signal.SIGCONT)

    await asyncio.sleep(duration_s / 3)
    await stack.fault(freeze)


async def redis_full(stack: Stack, duration_s: float) -> None:
    """Redis at ``maxmemory`` (noeviction) for 20 s: it answers and refuses writes (OOM)."""

    async def fill() -> None:
        client = aioredis.from_url(stack.redis.url)
        try:
            used = (await client.info("memory"))["used_memory"]
            await client.config_set("maxmemory-policy", "noeviction")
            await client.config_set("maxmemory", str(used + 100_000))
            await asyncio.sleep(20)
            await client.config_set("maxmemory", "0")
        finally:
            await client.aclose()

    await asyncio.sleep(duration_s / 3)
    await stack.fault(fill)


async def redis_flushed(stack: Stack, duration_s: float) -> None:
    """FLUSHALL on a live Redis: every stream, consumer group, marker and the incarnation key
    gone at once, while every connection stays open (no restart to notice)."""

    async def flush() -> None:
        client = aioredis.from_url(stack.redis.url)
        try:
            await client.flushall()
        finally:
            await client.aclose()

    await asyncio.sleep(duration_s / 2)
    await stack.fault(flush)


async def replica_stopped(stack: Stack, duration_s: float) -> None:
    """SIGSTOP the second replica for 25 s (past its 10 s membership lease: its runs move to
    the first), then SIGCONT: it comes back still owning its partitions in its own view."""

    async def freeze() -> None:
        proc = stack.replicas[1].proc
        assert proc is not None
        proc.send_signal(signal.SIGSTOP)
        try:
            await asyncio.sleep(25)
        finally:
            proc.send_signal(signal.SIGCONT)

    await asyncio.sleep(duration_s / 3)
    await stack.fault(freeze)


async def postgres_read_only(stack: Stack, duration_s: float) -> None:
    """PostgreSQL turned read-only for 15 s, as a failover that reached a standby: every
    session ended, new ones read-only (``default_transaction_read_only``), then writable."""

    async def read_only(on: bool) -> None:
        conn = await asyncpg.connect(stack.postgres.dsn())
        try:
            await conn.execute(
                f"ALTER SYSTEM SET default_transaction_read_only = {'on' if on else 'off'}"
            )
            await conn.execute("SELECT pg_reload_conf()")
            await asyncio.sleep(0.2)
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE pid <> pg_backend_pid() AND datname = $1",
                stack.database,
            )
        finally:
            await conn.close()

    async def failover() -> None:
        await read_only(True)
        try:
            await asyncio.sleep(15)
        finally:
            await read_only(False)

    await asyncio.sleep(duration_s / 3)
    await stack.fault(failover)


def netns_cut(what: str, seconds: float) -> Callable[[Stack, float], Awaitable[None]]:
    """Drop, silently, the namespace's packets to and from ``what`` ("postgres", "redis", or
    "all") for ``seconds``, then pass them again."""

    async def inject(stack: Stack, duration_s: float) -> None:
        namespace = stack.namespace
        assert namespace is not None

        async def cut() -> None:
            ports = {"postgres": (stack.postgres.port,), "redis": (stack.redis.port,), "all": ()}
            namespace.cut(ports[what])
            try:
                await asyncio.sleep(seconds - 1)
                stack.leased_in_fault = await leased(stack)
                await asyncio.sleep(1)
            finally:
                namespace.heal()

        await asyncio.sleep(duration_s / 3)
        await stack.fault(cut)

    return inject


async def cluster_failover(stack: Stack, duration_s: float) -> None:
    """SIGKILL the Redis Cluster primary that serves the tasks' stream; the fault lasts until
    its replica serves the slot and every live node says the cluster is whole again."""
    cluster = stack.cluster
    assert cluster is not None
    slot = key_slot(streams.tasks(WORKFLOW_CAPABILITY).encode())

    def fail_over() -> None:
        primary = cluster.owner(slot)
        cluster.kill(primary)
        while cluster.owner(slot) == primary or not cluster.healthy():
            time.sleep(0.1)

    async def kill() -> None:
        await asyncio.to_thread(fail_over)

    await asyncio.sleep(duration_s / 3)
    await stack.fault(kill)


async def clocks_apart(stack: Stack, duration_s: float) -> None:
    """No fault but the agents' clocks (``agent_skews``), for as long as runs are submitted;
    then, whose lease holds."""

    async def apart() -> None:
        await asyncio.sleep(duration_s)
        stack.leased_in_fault = await leased(stack)

    await stack.fault(apart)


async def leased(stack: Stack) -> tuple[int, int]:
    """Replicas and agents whose lease holds now, by the database's clock."""
    conn = await asyncpg.connect(stack.postgres.dsn(stack.database))
    try:
        return (
            await conn.fetchval(
                "SELECT count(*) FROM orchestrator_replicas WHERE expires_at >= now()"
            ),
            await conn.fetchval("SELECT count(*) FROM agents WHERE lease_expires_at >= now()"),
        )
    finally:
        await conn.close()


async def leases_back(stack: Stack, timeout_s: float) -> tuple[int, int]:
    """Replicas and agents whose lease holds, once every one of them does (or ``timeout_s``
    passes: the last count)."""
    end = time.monotonic() + timeout_s
    while True:
        now = await leased(stack)
        if now == (len(stack.replicas), len(stack.agents)) or time.monotonic() > end:
            return now
        await asyncio.sleep(0.5)


Fault = Callable[[Stack, float], Awaitable[None]]
SCENARIOS: dict[str, tuple[Fault, dict[str, Any]]] = {
    "agents-killed": (agents_killed, {}),
    "replicas-killed": (replicas_killed, {}),
    "redis-empty": (redis_restarted, {}),
    "redis-aof": (redis_restarted, {"aof": True}),
    "postgres-killed": (postgres_killed, {}),
    "postgres-down-long": (postgres_down_long, {}),
    "partition": (partitioned, {"partition": "postgres"}),
    "redis-frozen": (redis_frozen, {}),
    "postgres-frozen": (postgres_frozen, {}),
    "redis-full": (redis_full, {}),
    "redis-partition": (redis_partitioned, {"partition": "redis"}),
    "redis-link-frozen": (link_frozen, {"partition": "redis"}),
    "postgres-link-frozen": (link_frozen, {"partition": "postgres"}),
    "postgres-immediate": (postgres_immediate, {}),
    "replica-lost": (replica_lost, {}),
    "redis-flushed": (redis_flushed, {}),
    "replica-stopped": (replica_stopped, {}),
    "postgres-read-only": (postgres_read_only, {}),
    # The second replica's clock 60 s ahead (machines whose clocks disagree), then killed.
    "replica-lost-skewed": (replica_lost, {"skew": "+60s"}),
    # Network namespaces (``bench/chaos/netns.py``): packets dropped at a veth link, silently.
    # The second replica cut from PostgreSQL for 25 s (past its 10 s membership lease).
    "netns-replica-postgres": (
        netns_cut("postgres", 25),
        {"netns": "replica", "noop_delay_s": 3.0},
    ),
    # The second agent cut from everything (Redis and the API) for 25 s: past its 15 s lease,
    # short of the 30 s visibility timeout.
    "netns-agent-cut": (netns_cut("all", 25), {"netns": "agent"}),
    # The second replica cut from Redis alone for 25 s, while it owns runs (each step takes
    # 3 s, so the runs it took before the cut are in flight): it still reaches PostgreSQL,
    # where its membership lease is.
    "netns-replica-redis": (netns_cut("redis", 25), {"netns": "replica", "noop_delay_s": 3.0}),
    # PostgreSQL cut from both replicas for 35 s: past keepalive (10 s + 3 x 5 s) and
    # TCP_USER_TIMEOUT (30 s), so queries sent before the cut fail rather than finish late.
    # Steps of 2 s: answers arrive during the cut.
    "netns-postgres-all": (
        netns_cut("postgres", 35),
        {"netns": "replicas", "noop_delay_s": 2.0},
    ),
    "netns-postgres-all-long": (
        netns_cut("postgres", 90),
        {"netns": "replicas", "noop_delay_s": 2.0},
    ),
    # A Redis Cluster of three primaries with a replica each; the primary that holds the
    # tasks' stream is SIGKILLed mid-load (steps of 1 s: runs in flight) and its replica
    # takes its slots over.
    "cluster-failover": (cluster_failover, {"cluster": True, "noop_delay_s": 1.0}),
    # One agent's clock 30 s behind, the other's 30 s ahead (libfaketime): their answers'
    # ``created_at`` is judged against the orchestrator's clock (``clock_skew_s``, 300 s), their
    # leases on the database's.
    "agents-skewed": (clocks_apart, {"agent_skews": ("-30s", "+30s")}),
}


async def run_scenario(
    name: str,
    folder: Path,
    postgres: PrivatePostgres,
    *,
    runs: int,
    rate: float,
    settle_s: float = 120.0,
) -> Result:
    """Run one scenario on ``postgres`` (a cluster already started) and a Redis of its own."""
    options = SCENARIOS[name][1]
    folder = folder / name
    folder.mkdir(parents=True, exist_ok=True)
    inside = options.get("netns")
    namespace = Namespace() if inside else None
    try:
        if namespace is not None:
            await asyncio.to_thread(namespace.create)
            if namespace.host_address not in postgres.also:
                await asyncio.to_thread(postgres.listen_also, (namespace.host_address,))
        also = (namespace.host_address,) if namespace else ()
        redis = PrivateRedis(folder / "redis", aof=options.get("aof", False), also=also)
        with contextlib.ExitStack() as servers:
            cluster = None
            if options.get("cluster"):
                # Replicas fail over after 2 s without their primary (15 s by default).
                made = redis_cluster(replicas=1, node_timeout_ms=2000)
                cluster = await asyncio.to_thread(made.__enter__)
                servers.push(made.__exit__)
            else:
                redis.start()
                servers.callback(redis.kill)
            return await _measured(
                name, folder, postgres, redis, runs, rate, settle_s, namespace, cluster
            )
    finally:
        if namespace is not None:
            await asyncio.to_thread(namespace.delete)


async def _measured(
    name: str,
    folder: Path,
    postgres: PrivatePostgres,
    redis: PrivateRedis,
    runs: int,
    rate: float,
    settle_s: float,
    namespace: Namespace | None,
    cluster: Cluster | None,
) -> Result:
    inject, options = SCENARIOS[name]
    started = time.monotonic()
    stack = await open_stack(
        folder,
        postgres,
        redis,
        partition=options.get("partition"),
        skew=options.get("skew"),
        namespace=namespace,
        inside=options.get("netns"),
        agent_skews=options.get("agent_skews", ()),
        cluster=cluster,
        noop_delay_s=options.get("noop_delay_s", 0.0),
    )
    result = Result(name, runs)
    try:
        workload = Workload(stack, runs, rate)
        duration = runs / rate
        await asyncio.gather(workload.submit_all(), inject(stack, duration))
        drained = await settle(stack, settle_s)
        await measure(stack, result)
        if drained is not None and stack.faults:
            result.drained_s = drained - stack.faults[-1][1]
        result.unanswered = workload.unanswered
        result.faults = len(stack.faults)
        result.leased_in_fault = stack.leased_in_fault
        if stack.namespace is not None and stack.faults:
            result.leased_after = await leases_back(stack, 60.0)
            result.leases_back_s = time.time() - stack.faults[-1][1]
    finally:
        await asyncio.to_thread(stack.stop)
        if stack.proxy is not None:
            await stack.proxy.cut()
    result.seconds = time.monotonic() - started
    return result
