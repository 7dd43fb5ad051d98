"""History: does the present stay fast when the database holds ten million events?

One ``modx serve`` (PostgreSQL + Redis) with a ``numbers`` agent, on a scratch database
(``modx_bench_history_<hex>``, dropped at the end). Finished runs of the past ``months`` are
generated straight into the tables with ``generate_series``: ``events_per_run`` events, two
steps and two ledger entries per run, created at times spread over the months, into the month
partitions the service would have made as the months went by. A few runs are then made through
the API: the present. Each request below is sent ``probes`` times by one client (latency, not
throughput), first with ``small_events`` events in the database, then again after growing it
to ``large_events``:

- the run list (``GET /v1/runs?limit=50``, the newest first);
- a recent run's detail and its events (``GET /v1/runs/{id}``, ``/events``);
- ``/wait`` on a finished run (the read it ends with), and a 10-step run from submission to
  ``/wait`` returning (the write path: its events and entries go into the partitioned tables);
- an old run's detail and events (a run of the generated history).

The ledger checkpoint interval is set to a day: the generated entries are not real chains,
and checkpointing a million of them at once would be measured as the present's cost.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from bench.harness import latency_summary, log
from bench.stack import (
    REDIS_URL,
    Stack,
    Stacks,
    asyncpg_dsn,
    flush_redis,
    start_serve,
)
from bench.workload import Api, chain
from services.db import partitions
from services.db.engine import create_engine

WORKFLOW = "bench-history"
BATCH_RUNS = 25_000  # runs generated per statement (half a million events)


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

    @classmethod
    def quick(cls) -> HistoryConfig:
        """Tiny sizes for the CI smoke run."""
        return cls(large_events=100_000, probes=20, present_runs=5)


def _run_id(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


async def _months_made(database_url: str, start: datetime, months: int) -> int:
    """The month partitions of the history's span (the service makes them as months pass)."""
    db = create_engine(database_url, pool_size=1, max_overflow=0)
    made = 0
    try:
        async with db.begin() as conn:
            for table in partitions.TABLES:
                for count in range(months + 1):
                    month = partitions.add_months(partitions.month_start(start), count)
                    made += await conn.run_sync(partitions.create_month, table, month) is not None
    finally:
        await db.dispose()
    return made


async def _grow(database_url: str, cfg: HistoryConfig, first_run: int, last_run: int) -> float:
    """Generate runs ``first_run`` to ``last_run`` (exclusive) of the history; seconds taken."""
    total = cfg.large_events // cfg.events_per_run  # every run's time, whatever the phase
    span_s = (cfg.months * 30 - 2) * 86400
    start = datetime.now(UTC) - timedelta(days=cfg.months * 30)
    started = time.monotonic()
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await conn.execute("SET synchronous_commit = off")  # generating, not measuring
        for low in range(first_run, last_run, BATCH_RUNS):
            high = min(last_run, low + BATCH_RUNS)
            # Run n's time: a permutation of the runs over the span, so every phase covers
            # every month.
            at = (
                f"$1::timestamptz + ((g * 7919) % {total})::float8 / {total} "
                "* $2 * interval '1 second'"
            )
            await conn.execute(
                "INSERT INTO runs (id, tenant, workflow_name, definition, status, "
                "cancel_requested, created_at, started_at, finished_at, updated_at, ledger_seq, "
                "ledger_head, version) SELECT '00000000-0000-4000-8000-' || lpad(g::text, 12, "
                f"'0'), 'default', 'history', '{{}}'::jsonb, 'succeeded', false, {at}, {at}, "
                f"{at} + interval '2 seconds', {at} + interval '2 seconds', 2, md5(g::text), 2 "
                "FROM generate_series($3::bigint, $4::bigint - 1) g",
                start,
                float(span_s),
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
            await conn.execute(
                "INSERT INTO events (run_id, step_id, type, from_state, to_state, attempt, "
                "envelope_id, data, created_at) "
                f"SELECT {run}, 's' || (k % 2), 'step.changed', 'running', 'succeeded', 1, "
                "CASE WHEN k % 4 = 0 THEN md5(r.g::text || k)::uuid::text END, "
                "jsonb_build_object('k', k), "
                f"$3::timestamptz + ((r.g * 7919) % {total})::float8 / {total} * $4 "
                "* interval '1 second' + k * interval '100 milliseconds' "
                "FROM generate_series($1::bigint, $2::bigint - 1) r(g), "
                f"generate_series(0, {cfg.events_per_run - 1}) k",
                low,
                high,
                start,
                float(span_s),
            )
            await conn.execute(
                "INSERT INTO ledger_entries (run_id, seq, kind, data, prev_hash, hash, "
                "signature, created_at) "
                f"SELECT {run}, k, CASE k WHEN 1 THEN 'step.succeeded' ELSE 'run.succeeded' END, "
                "'{}'::jsonb, '', md5(r.g::text || k), NULL, "
                f"$3::timestamptz + ((r.g * 7919) % {total})::float8 / {total} * $4 "
                "* interval '1 second' + k * interval '1 second' "
                "FROM generate_series($1::bigint, $2::bigint - 1) r(g), generate_series(1, 2) k",
                low,
                high,
                start,
                float(span_s),
            )
            log(f"history: {high * cfg.events_per_run:,} events generated")
        await conn.execute("ANALYZE")  # as autovacuum would have, over months
    finally:
        await conn.close()
    return time.monotonic() - started


async def _probe(count: int, request: Callable[[], Awaitable[Any]]) -> dict[str, float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        await request()
        samples.append(time.perf_counter() - started)
    return latency_summary(samples)


async def _measure(
    api: Api, cfg: HistoryConfig, present: list[str], history_runs: int
) -> dict[str, dict[str, float]]:
    http = api.client
    pick = random.Random(7)

    async def get(path: str, **params: Any) -> None:
        response = await http.get(path, params=params)
        response.raise_for_status()

    def recent() -> str:
        return pick.choice(present)

    def old() -> str:
        return _run_id(pick.randrange(history_runs))

    figures = {
        "run_list": await _probe(cfg.probes, lambda: get("/v1/runs", limit=50)),
        "run_detail": await _probe(cfg.probes, lambda: get(f"/v1/runs/{recent()}")),
        "run_events": await _probe(cfg.probes, lambda: get(f"/v1/runs/{recent()}/events")),
        "wait_finished": await _probe(
            cfg.probes, lambda: get(f"/v1/runs/{recent()}/wait", timeout_s=5)
        ),
        "old_run_detail": await _probe(cfg.probes, lambda: get(f"/v1/runs/{old()}")),
        "old_run_events": await _probe(cfg.probes, lambda: get(f"/v1/runs/{old()}/events")),
        "run_and_wait": await _probe(max(5, cfg.probes // 10), lambda: api.run_once(WORKFLOW)),
    }
    for name, figure in figures.items():
        log(f"  {name}: p50 {figure['p50_ms']:.2f} ms, p99 {figure['p99_ms']:.2f} ms")
    return figures


async def _count(database_url: str, table: str) -> int:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))
    finally:
        await conn.close()


async def run(cfg: HistoryConfig, logs: Path) -> tuple[dict[str, Any], list[str]]:
    """The present's latencies with a small history, then with a large one."""
    phases: dict[str, Any] = {}
    async with Stacks(logs) as stacks:
        database_url = await stacks.database("history")
        await flush_redis(REDIS_URL)
        stacks.on_exit(lambda: flush_redis(REDIS_URL))
        stack = Stack(
            [start_serve(database_url, REDIS_URL, logs, MODX_LEDGER_CHECKPOINT_INTERVAL_S="86400")],
            logs,
            database_url,
            REDIS_URL,
        )
        stacks.on_exit(lambda: asyncio.to_thread(stack.stop))
        await stack.server.wait_ready()
        stack.start_agents(1)
        await stack.wait_agents(1)
        start = datetime.now(UTC) - timedelta(days=cfg.months * 30)
        made = await _months_made(database_url, start, cfg.months)
        api = Api(stack.servers)
        try:
            await api.register(chain(WORKFLOW, cfg.steps))
            small_runs = cfg.small_events // cfg.events_per_run
            large_runs = cfg.large_events // cfg.events_per_run
            generated = {"small": await _grow(database_url, cfg, 0, small_runs)}
            present = []
            for _ in range(cfg.present_runs):
                run_id = await api.submit(WORKFLOW, {})
                await api.wait(run_id)
                present.append(run_id)
            for name, runs in (("small", small_runs), ("large", large_runs)):
                if name == "large":
                    generated["large"] = await _grow(database_url, cfg, small_runs, large_runs)
                events = await _count(database_url, "events")
                log(f"history {name}: {events:,} events in the database")
                phases[name] = {
                    "events": events,
                    "runs": await _count(database_url, "runs"),
                    "ledger_entries": await _count(database_url, "ledger_entries"),
                    "figures": await _measure(api, cfg, present, runs),
                }
        finally:
            await api.aclose()
    results = {
        "phases": phases,
        "generation_s": generated,
        "partitions_made": made,
        "config": asdict(cfg),
    }
    notes = [
        f"One client, requests one after another; {cfg.probes} of each ({max(5, cfg.probes // 10)} "
        "10-step runs). PostgreSQL durable; one modx serve, one numbers agent process.",
        f"History: finished runs spread over {cfg.months} months, {cfg.events_per_run} events, "
        "2 steps and 2 ledger entries each, generated in the database (generate_series) into "
        f"the month partitions ({made} made for the span), then ANALYZE.",
        "Recent runs: runs made through the API just before the first measurement; old runs: "
        "random runs of the generated history.",
        "The ledger checkpoint interval is a day here (the generated entries are not chains).",
    ]
    return results, notes
