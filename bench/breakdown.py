"""Where a step's time goes, measured from the outside.

On the critical path, a step of a running workflow costs the orchestrator one write: the
agent's result is recorded, the next step dispatched, and both committed in one statement
(``persist.save_if_current``), then the next task is published. (A task that runs longer than
50 ms also sends ``task.started``; a no-op does not.) Off the critical path, the outbox relay
cleans up what the writer did not. Between them the envelopes cross the bus twice (task out,
result back) through an agent.

- ``replay`` drives chains with MODX's own code (``Orchestrator.on_result`` for each result,
  then one pass of the relay's housekeeping) in this process, against a scratch PostgreSQL
  database. Nothing else runs there, so a phase's wall time splits into time off the CPU
  (waiting on PostgreSQL: round trips, execution, the WAL flush at COMMIT) and CPU time; the
  CPU time inside database calls (every statement from ``before_cursor_execute`` to
  ``after_cursor_execute``, every COMMIT, ROLLBACK and pool pre-ping) is the driver's
  (asyncpg, SQLAlchemy Core), the rest is the engine, the ORM, pydantic and the event loop.
  The bus is an in-memory transport here, so it costs (almost) nothing.
- ``bus_round_trip`` publishes task envelopes straight to ``modx.tasks.test.noop`` on a live
  stack and waits for the ``numbers`` agent's result on ``modx.results``: the bus and the agent,
  with no orchestrator in between.
- ``pg_round_trip`` times ``SELECT 1`` over asyncpg: what one statement costs at the least.

A step's measured time minus the critical-path phases and the bus round trip is what the
orchestrator spends waiting: wake-ups, queueing behind other work in its event loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.harness import log, percentile
from bench.workload import chain
from bus import ConsumerOptions, Envelope, Kind, MemoryTransport, RedisStreamsTransport, streams
from bus.ids import new_id
from bus.signing import generate_keypair, public_key_to_str, sign
from services.db import migrate
from services.db.engine import create_engine, session_factory
from services.db.models import StepRow, utcnow
from services.orchestrator import persist
from services.orchestrator.authenticity import Authenticator
from services.orchestrator.definitions import parse_definition
from services.orchestrator.engine import Engine
from services.orchestrator.routing import Router
from services.orchestrator.service import Orchestrator
from services.outbox import OutboxRelay
from services.registry import store
from services.registry.schemas import AgentCard

PHASES = ("result", "relay")
CRITICAL = ("result",)


class DbClock:
    """Accumulates the wall and CPU time an engine spends in database calls.

    Nothing else runs in the replay's process, so while a call waits, it waits on PostgreSQL
    (and the socket); the CPU time inside the call is the driver's (asyncpg, SQLAlchemy Core).
    """

    def __init__(self, *engines: AsyncEngine) -> None:
        self.wall_s = 0.0
        self.cpu_s = 0.0
        self.commit_s = 0.0
        self.statements = 0
        for engine in engines:
            self._listen(engine)
        self._listen_driver()

    def _listen(self, engine: AsyncEngine) -> None:
        sync = engine.sync_engine

        @event.listens_for(sync, "before_cursor_execute")
        def _before(conn: Any, *_: Any) -> None:
            conn.info.setdefault("bench_t0", []).append((time.perf_counter(), time.thread_time()))

        @event.listens_for(sync, "after_cursor_execute")
        def _after(conn: Any, *_: Any) -> None:
            wall0, cpu0 = conn.info["bench_t0"].pop()
            self.wall_s += time.perf_counter() - wall0
            self.cpu_s += time.thread_time() - cpu0
            self.statements += 1

        dialect: Any = sync.dialect
        for name in ("do_commit", "do_rollback", "do_ping"):
            setattr(dialect, name, self._timed(getattr(dialect, name), name == "do_commit"))

    def _listen_driver(self) -> None:
        # The writer's batch statement goes to asyncpg itself (persist.driver_of), past
        # SQLAlchemy's cursor events: time its calls there.
        original = persist.driver_of

        async def driver_of(conn: Any) -> Any:
            return _TimedDriver(await original(conn), self)

        persist.driver_of = driver_of

    def _timed(self, original: Callable[[Any], Any], commit: bool) -> Callable[[Any], Any]:
        def timed(dbapi_connection: Any) -> Any:
            wall0, cpu0 = time.perf_counter(), time.thread_time()
            try:
                return original(dbapi_connection)
            finally:
                elapsed = time.perf_counter() - wall0
                self.wall_s += elapsed
                self.cpu_s += time.thread_time() - cpu0
                if commit:
                    self.commit_s += elapsed

        return timed

    def snapshot(self) -> tuple[float, float, float, int]:
        """(seconds in DB calls, CPU seconds in them, seconds in COMMIT, statements) so far."""
        return self.wall_s, self.cpu_s, self.commit_s, self.statements


class _TimedDriver:
    """An asyncpg connection whose ``fetch`` counts in a ``DbClock`` (an autocommit statement:
    its commit is inside it)."""

    def __init__(self, driver: Any, clock: DbClock) -> None:
        self._driver = driver
        self._clock = clock

    async def fetch(self, *args: Any) -> Any:
        wall0, cpu0 = time.perf_counter(), time.thread_time()
        try:
            return await self._driver.fetch(*args)
        finally:
            self._clock.wall_s += time.perf_counter() - wall0
            self._clock.cpu_s += time.thread_time() - cpu0
            self._clock.statements += 1


async def _timed(clock: DbClock, action: Callable[[], Awaitable[object]]) -> dict[str, float]:
    before = clock.snapshot()
    wall0, cpu0 = time.perf_counter(), time.thread_time()
    await action()
    wall, cpu = time.perf_counter() - wall0, time.thread_time() - cpu0
    after = clock.snapshot()
    db_wall, db_cpu, commit, statements = (a - b for a, b in zip(after, before, strict=True))
    return {
        "wall": wall,
        "db": db_wall,
        "commit": commit,
        "statements": statements,
        "pg_wait": wall - cpu,  # nothing else runs: time off the CPU is time waiting on PG
        "driver_cpu": db_cpu,
        "python_cpu": cpu - db_cpu,
    }


async def replay(
    database_url: str, steps: int, runs_count: int, *, sign_ledger: bool = True
) -> dict[str, Any]:
    """Drive ``runs_count`` chains of ``steps`` steps by calling the orchestrator directly
    (signing ledger entries as the service does, unless ``sign_ledger`` is False)."""
    await migrate.upgrade_async(database_url)
    db = create_engine(database_url)
    writer = create_engine(
        database_url,
        pool_size=2,
        ping_idle_s=None,
        connect_args={"server_settings": dict(persist.WRITER_SETTINGS)},  # as the service's
    ).execution_options(isolation_level="AUTOCOMMIT")
    clock = DbClock(db, writer)
    sessions = session_factory(db)
    transport = MemoryTransport(name=f"bench-replay-{new_id()[-8:]}")
    relay = OutboxRelay(sessions, transport, poll_s=3600)
    authenticator = Authenticator(sessions, generate_keypair()[0])
    engine = Engine(Router(ttl_s=3600), sign_task=authenticator.stamp)
    key = Ed25519PrivateKey.generate() if sign_ledger else None
    orchestrator = Orchestrator(
        sessions,
        transport,
        engine,
        relay,
        writer=writer,
        ledger_key=key,
        authenticator=authenticator,
    )
    definition = parse_definition(chain("replay", steps))
    agent_key, agent_public = generate_keypair()
    card = AgentCard.model_validate(
        {
            "name": "numbers",
            "public_key": public_key_to_str(agent_public),
            "capabilities": [{"name": "test.noop"}],
        }
    )
    async with sessions() as session, session.begin():
        agent, _ = await store.register_agent(session, card, lease_s=3600)
    per_phase: dict[str, list[dict[str, float]]] = {phase: [] for phase in PHASES}
    per_run: list[dict[str, float]] = []
    try:
        for index in range(runs_count + 1):  # the first run warms caches and is left out
            keep = index > 0
            created: list[str] = []
            start_cost = await _timed(clock, partial(_start_run, orchestrator, definition, created))
            relay_cost = await _timed(clock, partial(_relay_pass, relay))
            if keep:
                per_run.append({k: start_cost[k] + relay_cost[k] for k in start_cost})
            run_id = created[0]
            for step in range(steps):
                task_id = await _task_id(sessions, run_id, f"s{step}")
                result = sign(_answer(run_id, f"s{step}", task_id, agent.id), agent_key)
                costs = {
                    "result": await _timed(clock, partial(orchestrator.on_result, result)),
                    "relay": await _timed(clock, partial(_relay_pass, relay)),
                }
                if keep and step < steps - 1:  # the last result finishes the run instead
                    for phase, cost in costs.items():
                        per_phase[phase].append(cost)
    finally:
        await orchestrator.stop()
        await transport.close()
        await writer.dispose()
        await db.dispose()
    return _reduce(per_phase, per_run)


def _reduce(
    per_phase: dict[str, list[dict[str, float]]], per_run: list[dict[str, float]]
) -> dict[str, Any]:
    def med(rows: list[dict[str, float]], key: str) -> float:
        return percentile([r[key] for r in rows], 0.5)

    keys = {
        "wall_ms": "wall",
        "db_ms": "db",
        "commit_ms": "commit",
        "pg_wait_ms": "pg_wait",
        "driver_cpu_ms": "driver_cpu",
        "python_cpu_ms": "python_cpu",
    }
    phases: dict[str, dict[str, float]] = {
        phase: {
            **{name: 1000 * med(rows, key) for name, key in keys.items()},
            "statements": med(rows, "statements"),
        }
        for phase, rows in per_phase.items()
    }
    step = {key: sum(phases[p][key] for p in CRITICAL) for key in [*keys, "statements"]}
    run = {
        "wall_ms": 1000 * med(per_run, "wall"),
        "db_ms": 1000 * med(per_run, "db"),
        "statements": med(per_run, "statements"),
    }
    return {"phases": phases, "step": step, "run_start": run}


async def _start_run(orchestrator: Orchestrator, definition: Any, created: list[str]) -> None:
    """Create and start a run, as ``POST /v1/runs`` does; its id goes to ``created``."""
    run = await orchestrator.create_run(definition, {})
    assert run is not None
    created.append(run.id)


async def _relay_pass(relay: OutboxRelay) -> None:
    """What the relay's loop does when woken: delete published rows, retry stale ones."""
    delete_done = getattr(relay, "_delete_done", None)  # absent before the fast-path outbox
    if delete_done is not None:
        await delete_done()
    await relay.flush()


async def pg_round_trip(database_url: str, samples: int = 200) -> list[float]:
    """Seconds of ``SELECT 1`` over one asyncpg connection, ``samples`` times."""
    import asyncpg

    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    times = []
    try:
        for _ in range(samples):
            started = time.perf_counter()
            await conn.fetchval("SELECT 1")
            times.append(time.perf_counter() - started)
    finally:
        await conn.close()
    return times


async def _task_id(sessions: Any, run_id: str, step_id: str) -> str:
    async with sessions() as session:
        row = (
            await session.execute(
                select(StepRow.task_id).where(StepRow.run_id == run_id, StepRow.step_id == step_id)
            )
        ).scalar_one()
        return str(row)


def _answer(run_id: str, step_id: str, task_id: str, agent_id: str) -> Envelope:
    """What the SDK sends back for a no-op task."""
    return Envelope(
        kind=Kind.RESULT,
        topic="test.noop",
        sender=agent_id,
        run_id=run_id,
        step_id=step_id,
        attempt=1,
        correlation_id=run_id,
        causation_id=task_id,
        payload={"output": {"ok": True}},
    )


async def bus_round_trip(
    redis_url: str, samples: int, orchestrator_key: Ed25519PrivateKey
) -> list[float]:
    """Seconds from publishing a no-op task, signed as the orchestrator signs it, to receiving
    the agent's result, ``samples`` times."""
    transport = RedisStreamsTransport(redis_url, trim_interval_s=0)
    group = f"bench-probe-{new_id()[-8:]}"
    await transport.client.xgroup_create(streams.RESULTS, group, id="$", mkstream=True)
    waiting: dict[str, asyncio.Future[float]] = {}

    async def on_result(envelope: Envelope) -> None:
        future = waiting.pop(envelope.causation_id or "", None)
        if future is not None and envelope.kind == Kind.RESULT and not future.done():
            future.set_result(time.perf_counter())
        elif future is not None:
            waiting[envelope.causation_id or ""] = future  # the started event: keep waiting

    subscription = await transport.subscribe(
        streams.RESULTS, group, "probe", on_result, ConsumerOptions(batch_size=64, block_ms=500)
    )
    times: list[float] = []
    loop = asyncio.get_running_loop()
    try:
        for _ in range(samples):
            task = Envelope(
                kind=Kind.TASK,
                topic="test.noop",
                sender="orchestrator",
                run_id=new_id(),
                step_id="probe",
                attempt=1,
                deadline=utcnow() + timedelta(seconds=60),
                payload={},
            )
            future: asyncio.Future[float] = loop.create_future()
            waiting[task.id] = future
            started = time.perf_counter()
            await transport.publish(streams.tasks("test.noop"), sign(task, orchestrator_key))
            times.append(await asyncio.wait_for(future, 30) - started)
    finally:
        await subscription.stop(drain=False)
        await transport.client.xgroup_destroy(streams.RESULTS, group)
        await transport.close()
    log(f"bus round trip through an agent: p50 {1000 * percentile(times, 0.5):.2f} ms")
    return times
