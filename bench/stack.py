"""What the benchmarks start: scratch databases, ``modx serve`` and agent processes.

Where the servers are comes from the environment, so that a CI smoke run and a full run on the
same machine never share a Redis database:

- ``MODX_BENCH_POSTGRES_URL``: an admin connection (``postgresql://postgres@127.0.0.1:5432/postgres``);
  every stack gets its own ``modx_bench_*`` database, dropped afterwards;
- ``MODX_BENCH_REDIS_URL`` and ``MODX_BENCH_REDIS_URL_2``: the Redis databases of the first and
  second MODX stack (``/7`` and ``/6``); each is flushed when a stack starts on it;
- ``MODX_BENCH_CELERY_URL``: Celery's broker and result backend (``/5``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx

from bench.harness import REPO, log
from services.ledger.keys import create_key_file

POSTGRES_URL = os.environ.get(
    "MODX_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("MODX_BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
REDIS_URL_2 = os.environ.get("MODX_BENCH_REDIS_URL_2", "redis://127.0.0.1:6379/6")
CELERY_URL = os.environ.get("MODX_BENCH_CELERY_URL", "redis://127.0.0.1:6379/5")
TOKEN = "bench-client-token-0123456789"
ADMIN = "bench-admin-token-0123456789"
TERMINAL = ("succeeded", "failed", "cancelled", "timed_out")


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def reachable(url: str, default_port: int) -> bool:
    """True when something listens on the host and port of ``url``."""
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def require_servers() -> None:
    """Fail early, with a clear message, when PostgreSQL or Redis is not there."""
    missing = [
        what
        for what, url, port in (("PostgreSQL", POSTGRES_URL, 5432), ("Redis", REDIS_URL, 6379))
        if not reachable(url, port)
    ]
    if missing:
        raise RuntimeError(f"the benchmarks need {' and '.join(missing)} (see bench/README.md)")


def asyncpg_dsn(url: str) -> str:
    """A SQLAlchemy URL as an asyncpg DSN."""
    return url.replace("postgresql+asyncpg://", "postgresql://")


def sqlalchemy_url(dsn: str) -> str:
    """An asyncpg DSN as a SQLAlchemy URL."""
    return dsn.replace("postgresql://", "postgresql+asyncpg://", 1)


async def _admin(statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(asyncpg_dsn(POSTGRES_URL))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def create_database(label: str, synchronous_commit: bool = True) -> str:
    """A new, empty PostgreSQL database ``modx_bench_<label>_<hex>``; returns its SQLAlchemy URL.

    ``synchronous_commit=False`` sets it off for this database only: commits return before
    their WAL is flushed to disk (what durability costs, measured).
    """
    name = f"modx_bench_{label}_{uuid.uuid4().hex[:8]}"
    await _admin(f'CREATE DATABASE "{name}"')
    if not synchronous_commit:
        await _admin(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    return database_url(name)


def database_url(name: str) -> str:
    """The SQLAlchemy URL of the database ``name`` on the benchmarks' PostgreSQL."""
    return sqlalchemy_url(f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}")


async def drop_database(url: str) -> None:
    """Drop one of the benchmarks' databases (connections to it are ended)."""
    name = url.rsplit("/", 1)[1]
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.asynccontextmanager
async def scratch_database(label: str, synchronous_commit: bool = True) -> AsyncIterator[str]:
    """``create_database`` dropped when the block ends; yields its SQLAlchemy URL."""
    url = await create_database(label, synchronous_commit)
    try:
        yield url
    finally:
        await drop_database(url)


async def backend_pids(database_url: str) -> list[int]:
    """Process ids of the PostgreSQL backends connected to one (scratch) database."""
    import asyncpg

    name = database_url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(asyncpg_dsn(POSTGRES_URL))
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
    finally:
        await conn.close()
    return [int(row["pid"]) for row in rows]


async def flush_redis(url: str) -> None:
    """Empty one Redis database (only ever one of the bench's own)."""
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


def _popen(args: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    out = open(log_path, "ab")  # noqa: SIM115 - lives as long as the process
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
        stdout=out,
        stderr=subprocess.STDOUT,
    )


def stop_processes(procs: list[subprocess.Popen[bytes]], timeout: float = 15.0) -> None:
    """SIGTERM each process (they drain), then SIGKILL what is still running."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Server:
    """One MODX API + orchestrator process (``modx serve``, or the embedded mode)."""

    url: str
    proc: subprocess.Popen[bytes]
    token: str

    @property
    def pid(self) -> int:
        """The server's process id (for the profiler)."""
        return self.proc.pid

    async def wait_ready(self, timeout_s: float = 90.0) -> None:
        """Until ``/readyz`` answers 200."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout_s
        async with httpx.AsyncClient(timeout=2) as client:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"the server at {self.url} exited ({self.proc.returncode})")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.url}/readyz")).status_code == 200:
                        return
                if loop.time() > end:
                    raise TimeoutError(f"the server at {self.url} is not ready after {timeout_s}s")
                await asyncio.sleep(0.1)


def start_serve(database_url: str, redis_url: str, logs: Path, **env: str) -> Server:
    """``modx serve`` on a free port, distributed mode."""
    port = free_port()
    create_key_file(logs / "ledger.key")  # replicas started here share it, as they must
    create_key_file(logs / "orchestrator.key")  # and this one (tasks are signed with it)
    proc = _popen(
        ["-m", "services.cli.main", "serve", "--host", "127.0.0.1", "--port", str(port)],
        {
            "MODX_DATABASE_URL": database_url,
            "MODX_REDIS_URL": redis_url,
            "MODX_LEDGER_KEY_FILE": str(logs / "ledger.key"),
            "MODX_ORCHESTRATOR_KEY_FILE": str(logs / "orchestrator.key"),
            "MODX_DATA_DIR": str(logs / "data"),  # checkpoints of this database only
            "MODX_API_TOKEN": TOKEN,
            "MODX_ADMIN_TOKEN": ADMIN,
            **env,
        },
        logs / f"serve-{port}.log",
    )
    return Server(f"http://127.0.0.1:{port}", proc, TOKEN)


def start_embedded(logs: Path) -> Server:
    """Embedded MODX (SQLite, in-process bus) with the ``numbers`` agent inside, on a free port."""
    port = free_port()
    data_dir = logs / f"embedded-{port}"
    proc = _popen(
        ["-m", "bench.embedded_server", "--port", str(port), "--data-dir", str(data_dir)],
        {"MODX_API_TOKEN": ADMIN},
        logs / f"embedded-{port}.log",
    )
    return Server(f"http://127.0.0.1:{port}", proc, ADMIN)


@dataclass
class Stack:
    """A MODX deployment under test: servers, agent processes, and where its logs go."""

    servers: list[Server]
    logs: Path
    database_url: str | None = None
    redis_url: str | None = None
    agents: list[subprocess.Popen[bytes]] = field(default_factory=list)
    extra: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def server(self) -> Server:
        """The first server."""
        return self.servers[0]

    def start_agents(self, count: int, name: str = "numbers") -> None:
        """Start ``count`` more agent processes (``python -m tests.e2e.launch bus NAME``)."""
        for _ in range(count):
            index = len(self.agents)
            self.agents.append(
                _popen(
                    ["-m", "tests.e2e.launch", "bus", name],
                    {"MODX_URL": self.server.url, "MODX_API_TOKEN": TOKEN},
                    self.logs / f"agent-{name}-{index}.log",
                )
            )

    async def wait_agents(self, count: int, name: str = "numbers", timeout_s: float = 90) -> None:
        """Until ``count`` agents called ``name`` are online."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout_s
        headers = {"authorization": f"Bearer {self.server.token}"}
        async with httpx.AsyncClient(base_url=self.server.url, headers=headers) as client:
            while True:
                response = await client.get("/v1/agents", params={"name": name, "status": "online"})
                if response.status_code == 200 and len(response.json()) >= count:
                    return
                if any(p.poll() is not None for p in self.agents):
                    raise RuntimeError(f"an agent process exited; see {self.logs}")
                if loop.time() > end:
                    raise TimeoutError(f"{count} {name} agents not online after {timeout_s}s")
                await asyncio.sleep(0.2)

    async def processes(self) -> dict[str, list[int]]:
        """The processes whose CPU time a step costs, by group: the servers, the agents (none
        when embedded: the agent runs inside the server), the PostgreSQL backends."""
        groups = {"server": [s.pid for s in self.servers]}
        if self.agents:
            groups["agents"] = [p.pid for p in self.agents]
        if self.database_url:
            groups["postgres"] = await backend_pids(self.database_url)
        return groups

    async def add_replica(self) -> Server:
        """Another ``modx serve`` on the same database and bus."""
        assert self.database_url is not None and self.redis_url is not None
        server = start_serve(self.database_url, self.redis_url, self.logs)
        self.servers.append(server)
        await server.wait_ready()
        return server

    def stop(self) -> None:
        """Agents first (they drain and deregister), then the servers."""
        stop_processes(self.agents)
        stop_processes(self.extra)
        stop_processes([s.proc for s in self.servers])


class Stacks:
    """Stacks started together (concurrently) and stopped together, in reverse order.

    ::

        async with Stacks(logs) as stacks:
            main, other = await asyncio.gather(
                stacks.distributed("main", REDIS_URL, 2), stacks.embedded()
            )
    """

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self._cleanup: list[Any] = []  # zero-argument coroutine functions, run in reverse

    async def __aenter__(self) -> Stacks:
        return self

    async def __aexit__(self, *_: object) -> None:
        for cleanup in reversed(self._cleanup):
            try:
                await cleanup()
            except Exception as exc:  # keep cleaning up the rest
                log(f"cleanup failed: {exc!r}")
        self._cleanup.clear()

    def on_exit(self, cleanup: Any) -> None:
        """Run the coroutine function ``cleanup`` when the block ends."""
        self._cleanup.append(cleanup)

    async def database(self, label: str, synchronous_commit: bool = True) -> str:
        """A scratch database dropped when the block ends."""
        manager = scratch_database(label, synchronous_commit)
        url = await manager.__aenter__()
        self.on_exit(lambda: manager.__aexit__(None, None, None))
        return url

    async def distributed(
        self, label: str, redis_url: str, agents: int, *, synchronous_commit: bool = True
    ) -> Stack:
        """``modx serve`` on a scratch database and a flushed Redis database, with ``agents``
        ``numbers`` agent processes online."""
        database_url = await self.database(label, synchronous_commit)
        await flush_redis(redis_url)
        self.on_exit(lambda: flush_redis(redis_url))
        stack = Stack(
            [start_serve(database_url, redis_url, self.logs)], self.logs, database_url, redis_url
        )
        self.on_exit(lambda: asyncio.to_thread(stack.stop))
        await stack.server.wait_ready()
        stack.start_agents(agents)
        await stack.wait_agents(agents)
        log(f"stack {label}: {stack.server.url}, {agents} agent(s), logs in {self.logs}")
        return stack

    async def embedded(self) -> Stack:
        """Embedded MODX (SQLite + in-process bus) in its own process, ``numbers`` inside."""
        stack = Stack([start_embedded(self.logs)], self.logs)
        self.on_exit(lambda: asyncio.to_thread(stack.stop))
        await stack.server.wait_ready()
        await stack.wait_agents(1)
        log(f"stack embedded: {stack.server.url}")
        return stack


@contextlib.contextmanager
def log_dir(keep: Path | None = None) -> Iterator[Path]:
    """``keep``, or a temporary directory for the processes' logs."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="modx-bench-") as tmp:
        yield Path(tmp)


def describe(stack: Stack) -> dict[str, Any]:
    """What a stack was, for the results file."""
    return {
        "servers": len(stack.servers),
        "agents": len(stack.agents),
        "database": "postgresql" if stack.database_url else "sqlite",
        "bus": "redis" if stack.redis_url else "memory",
    }
