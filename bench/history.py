"""History: does the present stay fast when the database holds ten million events?

Two ``modx serve`` stacks (PostgreSQL + Redis, a ``numbers`` agent each) run side by side: one
on a database with ``small_events`` events of history, one with ``large_events``. Finished runs
of the past ``months`` are generated straight into the tables with ``generate_series``:
``events_per_run`` events, two steps and two ledger entries per run, created at times spread
over the months, into the month partitions the service would have made as the months went by.
A few runs are then made through each API: the present. Each request below is sent ``probes``
times by one client (latency, not throughput), alternating between the two stacks request by
request, so that both sizes see the same machine at the same moments:

- the run list (``GET /v1/runs?limit=50``, the newest first), and its page halfway down the
  generated history (``cursor=``);
- a recent run's detail and its events (``GET /v1/runs/{id}``, ``/events``);
- ``/wait`` on a finished run (the read it ends with), and a 10-step run from submission to
  ``/wait`` returning (the write path: its events and entries go into the partitioned tables);
- an old run's detail and events (a run of the generated history).

Generating ten million events takes minutes of both CPUs, so it can be done apart, at low
priority and outside any measurement: ``python -m bench.history generate`` makes a database and
keeps it, and ``modx bench history --reuse NAME`` measures against it (and leaves it;
``python -m bench.history drop NAME`` drops it). Without ``--reuse`` both databases are
generated first and dropped at the end.

The ledger checkpoint interval is set to a day: the generated entries are not real chains,
and checkpointing a million of them at once would be measured as the present's cost.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from bench.harness import latency_summary, log
from bench.stack import (
    REDIS_URL,
    REDIS_URL_2,
    Stack,
    Stacks,
    asyncpg_dsn,
    create_database,
    database_url,
    drop_database,
    flush_redis,
    start_serve,
)
from bench.workload import Api, chain
from services.db import partitions
from services.db.engine import create_engine
from services.db.migrate import upgrade_async
from services.orchestrator.runs import cursor_after

WORKFLOW = "bench-history"
BATCH_RUNS = 25_000  # runs generated per statement (half a million events)
# Below this many runs the tables keep their indexes while rows go in; above it, the secondary
# indexes are dropped first and built again at the end (a sorted build instead of millions of
# random inserts into indexes larger than shared_buffers).
BULK_RUNS = 50_000
TABLES = ("runs", "steps", "events", "ledger_entries")
REQUESTS = (
    "run_list",
    "run_list_page",
    "run_detail",
    "run_events",
    "wait_finished",
    "old_run_detail",
    "old_run_events",
    "run_and_wait",
)


@dataclass(frozen=True)
class HistoryConfig:
    """Sizes of the history benchmark."""

    small_events: int = 10_000
    large_events: int = 10_000_000
    events_per_run: int = 20
    months: int = 24
    probes: int = 200
    present_runs: int = 20
    steps: int = 10
    reuse: str | None = None
    """A database made by ``python -m bench.history generate``: the large side, kept."""

    @classmethod
    def quick(cls) -> HistoryConfig:
        """Tiny sizes for the CI smoke run."""
        return cls(large_events=100_000, probes=20, present_runs=5)


def _run_id(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def _span_start(months: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=months * 30)


async def _prepare(url: str, months: int) -> int:
    """Migrate a new database and make the month partitions of the history's span (the service
    makes them as months pass) and the months ahead; returns how many were made."""
    await upgrade_async(url)
    db = create_engine(url, pool_size=1, max_overflow=0)
    made = 0
    try:
        async with db.begin() as conn:
            for table in partitions.TABLES:
                for count in range(months + 1):
                    month = partitions.add_months(
                        partitions.month_start(_span_start(months)), count
                    )
                    made += await conn.run_sync(partitions.create_month, table, month) is not None
            made += len(await conn.run_sync(partitions.ensure, datetime.now(UTC)))
    finally:
        await db.dispose()
    return made


def _lower_priority(pid: int) -> None:
    """Nice 19 for a PostgreSQL backend doing bulk work (when this user may; logged if not)."""
    try:
        os.setpriority(os.PRIO_PROCESS, pid, 19)
        log(f"history: PostgreSQL backend {pid} reniced to 19")
    except OSError as exc:
        log(f"history: could not renice PostgreSQL backend {pid}: {exc}")


@contextlib.asynccontextmanager
async def _indexes_dropped(conn: asyncpg.Connection) -> AsyncIterator[None]:
    """The tables' secondary indexes dropped inside the block and built again after it, from
    their own definitions (``pg_get_indexdef``); keys and unique constraints stay."""
    rows = await conn.fetch(
        "SELECT i.relname AS name, pg_get_indexdef(i.oid) AS ddl FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
        "WHERE t.relname = ANY($1::text[]) AND t.relnamespace = current_schema()::regnamespace "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)",
        list(TABLES),
    )
    for row in rows:
        await conn.execute(f'DROP INDEX "{row["name"]}"')
    yield
    await conn.execute("SET maintenance_work_mem = '256MB'")
    for row in rows:
        started = time.monotonic()
        # A partitioned table's index is written ``ON ONLY`` (as pg_dump does): without ONLY
        # it is built on every partition too.
        await conn.execute(row["ddl"].replace(" ON ONLY ", " ON ", 1))
        log(f"history: index {row['name']} built in {time.monotonic() - started:.0f} s")


async def _insert(conn: asyncpg.Connection, cfg: HistoryConfig, low: int, high: int) -> None:
    """Runs ``low`` to ``high`` (exclusive) with their steps, events and ledger entries."""
    total = cfg.large_events // cfg.events_per_run  # every run's time, whatever the size
    span_s = float((cfg.months * 30 - 2) * 86400)
    start = _span_start(cfg.months)
    # Run n's time: a permutation of the runs over the span, so every size covers every month.
    at = f"$1::timestamptz + ((g * 7919) % {total})::float8 / {total} * $2 * interval '1 second'"
    await conn.execute(
        "INSERT INTO runs (id, tenant, workflow_name, definition, status, "
        "cancel_requested, created_at, started_at, finished_at, updated_at, ledger_seq, "
        "ledger_head, version) SELECT '00000000-0000-4000-8000-' || lpad(g::text, 12, "
        f"'0'), 'default', 'history', '{{}}'::jsonb, 'succeeded', false, {at}, {at}, "
        f"{at} + interval '2 seconds', {at} + interval '2 seconds', 2, md5(g::text), 2 "
        "FROM generate_series($3::bigint, $4::bigint - 1) g",
        start,
        span_s,
        low,
        high,
    )
    run = "'00000000-0000-4000-8000-' || lpad(r.g::text, 12, '0')"
    await conn.execute(
        "INSERT INTO steps (run_id, step_id, definition_id, capability, status, attempt, "
        "max_attempts, duplicates, meta, output) "
        f"SELECT {run}, 's' || k, 's' || k, 'test.noop', 'succeeded', 1, 1, 0, "
        "'{}'::jsonb, '{\"ok\": true}'::jsonb "
        "FROM generate_series($1::bigint, $2::bigint - 1) r(g), generate_series(0, 1) k",
        low,
        high,
    )
    run_at = (
        f"$3::timestamptz + ((r.g * 7919) % {total})::float8 / {total} * $4 * interval '1 second'"
    )
    await conn.execute(
        "INSERT INTO events (run_id, step_id, type, from_state, to_state, attempt, "
        "envelope_id, data, created_at) "
        f"SELECT {run}, 's' || (k % 2), 'step.changed', 'running', 'succeeded', 1, "
        "CASE WHEN k % 4 = 0 THEN md5(r.g::text || k)::uuid::text END, "
        f"jsonb_build_object('k', k), {run_at} + k * interval '100 milliseconds' "
        "FROM generate_series($1::bigint, $2::bigint - 1) r(g), "
        f"generate_series(0, {cfg.events_per_run - 1}) k",
        low,
        high,
        start,
        span_s,
    )
    await conn.execute(
        "INSERT INTO ledger_entries (run_id, seq, kind, data, prev_hash, hash, "
        "signature, created_at) "
        f"SELECT {run}, k, CASE k WHEN 1 THEN 'step.succeeded' ELSE 'run.succeeded' END, "
        "'{}'::jsonb, '', md5(r.g::text || k), NULL, "
        f"{run_at} + k * interval '1 second' "
        "FROM generate_series($1::bigint, $2::bigint - 1) r(g), generate_series(1, 2) k",
        low,
        high,
        start,
        span_s,
    )


async def generate(url: str, cfg: HistoryConfig, events: int) -> float:
    """Fill a new database with ``events`` events of history, then VACUUM ANALYZE it (as
    autovacuum would have over the months, and not while we measure); seconds taken."""
    started = time.monotonic()
    await _prepare(url, cfg.months)
    runs = events // cfg.events_per_run
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        _lower_priority(int(await conn.fetchval("SELECT pg_backend_pid()")))
        await conn.execute("SET synchronous_commit = off")  # generating, not measuring
        bulk = _indexes_dropped(conn) if runs >= BULK_RUNS else contextlib.nullcontext()
        async with bulk:
            for low in range(0, runs, BATCH_RUNS):
                high = min(runs, low + BATCH_RUNS)
                await _insert(conn, cfg, low, high)
                log(f"history: {high * cfg.events_per_run:,} events generated")
        await conn.execute("VACUUM (ANALYZE)")
    finally:
        await conn.close()
    return time.monotonic() - started


@dataclass
class _Side:
    """One stack and what is asked of it."""

    api: Api
    history_runs: int
    middle: str
    """A cursor halfway down the run list (the page after the middle generated run)."""
    present: list[str] = field(default_factory=list)
    pick: random.Random = field(default_factory=lambda: random.Random(7))

    async def request(self, name: str) -> None:
        if name == "run_and_wait":
            await self.api.run_once(WORKFLOW)
            return
        routes: dict[str, tuple[str, dict[str, str | int]]] = {
            "run_list": ("/v1/runs", {"limit": 50}),
            "run_list_page": ("/v1/runs", {"limit": 50, "cursor": self.middle}),
            "run_detail": (f"/v1/runs/{self.pick.choice(self.present)}", {}),
            "run_events": (f"/v1/runs/{self.pick.choice(self.present)}/events", {}),
            "wait_finished": (f"/v1/runs/{self.pick.choice(self.present)}/wait", {"timeout_s": 5}),
            "old_run_detail": (f"/v1/runs/{_run_id(self.pick.randrange(self.history_runs))}", {}),
            "old_run_events": (
                f"/v1/runs/{_run_id(self.pick.randrange(self.history_runs))}/events",
                {},
            ),
        }
        path, params = routes[name]
        response = await self.api.client.get(path, params=params)
        response.raise_for_status()


async def _measure(cfg: HistoryConfig, sides: dict[str, _Side]) -> dict[str, dict[str, Any]]:
    """Each request ``probes`` times per side, the sides taking turns request by request."""
    figures: dict[str, dict[str, Any]] = {name: {} for name in sides}
    for request in REQUESTS:
        count = max(5, cfg.probes // 10) if request == "run_and_wait" else cfg.probes
        samples: dict[str, list[float]] = {name: [] for name in sides}
        for _ in range(count):
            for name, side in sides.items():
                started = time.perf_counter()
                await side.request(request)
                samples[name].append(time.perf_counter() - started)
        for name in sides:
            figure = figures[name][request] = latency_summary(samples[name])
            log(f"  {name} {request}: p50 {figure['p50_ms']:.2f} ms, p99 {figure['p99_ms']:.2f} ms")
    return figures


async def _middle(url: str, generated_runs: int) -> str:
    """The run list's cursor after the generated run halfway down it, newest first."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        row = await conn.fetchrow(
            "SELECT created_at, id FROM runs WHERE workflow_name = 'history' "
            "ORDER BY created_at DESC, id DESC OFFSET $1 LIMIT 1",
            generated_runs // 2,
        )
    finally:
        await conn.close()
    return cursor_after(row["created_at"], row["id"])


async def _counts(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        counts = {
            table: int(await conn.fetchval(f"SELECT count(*) FROM {table}"))
            for table in ("events", "runs", "ledger_entries")
        }
        # The generated runs, numbered from 0 (a reused database also holds earlier API runs).
        query = "SELECT count(*) FROM runs WHERE workflow_name = 'history'"
        return {**counts, "generated_runs": int(await conn.fetchval(query))}
    finally:
        await conn.close()


async def _side(
    stacks: Stacks, url: str, redis_url: str, logs: Path, runs: int, steps: int
) -> _Side:
    """``modx serve`` and one agent on ``url``; a client with the workflow registered."""
    await asyncio.to_thread(logs.mkdir, parents=True, exist_ok=True)
    await flush_redis(redis_url)
    stacks.on_exit(lambda: flush_redis(redis_url))
    stack = Stack(
        [start_serve(url, redis_url, logs, MODX_LEDGER_CHECKPOINT_INTERVAL_S="86400")],
        logs,
        url,
        redis_url,
    )
    stacks.on_exit(lambda: asyncio.to_thread(stack.stop))
    await stack.server.wait_ready()
    stack.start_agents(1)
    await stack.wait_agents(1)
    api = Api(stack.servers)
    stacks.on_exit(api.aclose)
    await api.register(chain(WORKFLOW, steps))
    return _Side(api, runs, await _middle(url, runs))


async def run(cfg: HistoryConfig, logs: Path) -> tuple[dict[str, Any], list[str]]:
    """The present's latencies with a small history and with a large one, side by side."""
    generated: dict[str, float | None] = {}
    async with Stacks(logs) as stacks:
        small_url = await create_database("history")
        stacks.on_exit(lambda: drop_database(small_url))
        generated["small"] = await generate(small_url, cfg, cfg.small_events)
        if cfg.reuse:
            large_url, generated["large"] = database_url(cfg.reuse), None
        else:
            large_url = await create_database("history")
            stacks.on_exit(lambda: drop_database(large_url))
            generated["large"] = await generate(large_url, cfg, cfg.large_events)
        urls = {"small": small_url, "large": large_url}
        counts = {name: await _counts(url) for name, url in urls.items()}
        for name, count in counts.items():
            log(f"history {name}: {count['events']:,} events in the database")
        runs_of = {name: count["generated_runs"] for name, count in counts.items()}
        redis_of = {"small": REDIS_URL, "large": REDIS_URL_2}
        sides = {
            name: await _side(
                stacks, urls[name], redis_of[name], logs / name, runs_of[name], cfg.steps
            )
            for name in urls
        }
        for _ in range(cfg.present_runs):
            for side in sides.values():
                run_id = await side.api.submit(WORKFLOW, {})
                await side.api.wait(run_id)
                side.present.append(run_id)
        figures = await _measure(cfg, sides)
    phases = {
        name: {
            "events": counts[name]["events"],
            "runs": counts[name]["runs"],
            "ledger_entries": counts[name]["ledger_entries"],
            "figures": figures[name],
        }
        for name in urls
    }
    results = {"phases": phases, "generation_s": generated, "config": asdict(cfg)}
    made = (
        f"generated beforehand in database {cfg.reuse} (python -m bench.history generate)"
        if cfg.reuse
        else "generated before the measurement"
    )
    notes = [
        f"One client, requests one after another, alternating between the two stacks; "
        f"{cfg.probes} of each ({max(5, cfg.probes // 10)} 10-step runs). PostgreSQL durable; "
        "each stack: one modx serve, one numbers agent process.",
        f"History: finished runs spread over {cfg.months} months, {cfg.events_per_run} events, "
        "2 steps and 2 ledger entries each, generated in the database (generate_series) into "
        "the month partitions, then VACUUM ANALYZE; the large one "
        + made
        + (
            ", its secondary indexes dropped during the insert and built again after it."
            if counts["large"]["runs"] >= BULK_RUNS
            else "."
        ),
        "Recent runs: runs made through the API just before the measurement; old runs: "
        "random runs of the generated history.",
        "The ledger checkpoint interval is a day here (the generated entries are not chains).",
    ]
    return results, notes


async def _main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.history",
        description="Make (or drop) a large history database for `modx bench history --reuse`.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("generate", help="a new database with a generated history")
    make.add_argument("--events", type=int, default=HistoryConfig.large_events)
    commands.add_parser("drop", help="drop a database made here").add_argument("name")
    args = parser.parse_args(argv)
    if args.command == "drop":
        if not args.name.startswith("modx_bench_history_"):
            parser.error("name: only a modx_bench_history_* database is dropped here")
        await drop_database(database_url(args.name))
        log(f"history: dropped {args.name}")
        return
    url = await create_database("history")
    name = url.rsplit("/", 1)[1]
    log(f"history: generating {args.events:,} events into {name}")
    try:
        took = await generate(url, HistoryConfig(), args.events)
    except BaseException:
        await drop_database(url)
        raise
    log(f"history: done in {took:,.0f} s; measure with: modx bench history --reuse {name}")
    print(name)


if __name__ == "__main__":
    asyncio.run(_main())
