"""Load benchmark of the dashboard's run list: 100,000 runs, first page and filtered pages.

    python -m bench.dashboard_load [--runs 100000] [--repeats 40]
    python -m bench.dashboard_load --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/postgres

Seeds runs (and three steps per run) with bulk inserts into a fresh SQLite file, or, with
``--postgres URL``, into a scratch database created on that server (dropped afterwards unless
``--keep``), then serves the app in process (httpx ASGITransport, lifespan run, orchestrator
loops off) and times ``GET /dashboard/runs`` with a valid session: the first page, a page
filtered by status, by workflow and status, by agent, by time range, and the second page
(cursor). Prints median and p95 per page. The target is a first page under 300 ms.
This is a benchmark, not a test: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
from sqlalchemy import insert

from services.api.app import create_app
from services.config import Settings
from services.dashboard import auth
from services.db import migrate
from services.db.engine import create_engine
from services.db.models import AgentRow, RunRow, StepRow

ADMIN = "bench-admin-token-0123456789"
STATUSES = [
    ("succeeded", 0.80),
    ("failed", 0.10),
    ("cancelled", 0.04),
    ("running", 0.04),
    ("timed_out", 0.01),
    ("pending", 0.01),
]
WORKFLOWS = [f"workflow-{i}" for i in range(12)]
AGENTS = [str(uuid.UUID(int=i + 1)) for i in range(6)]
CHUNK = 5000


def _definition(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "steps": [
            {"id": "parse", "capability": "sara.parse_case", "input": {"case": "$.input.case"}},
            {
                "id": "check",
                "capability": "legal.validate_facts",
                "input": {"facts": "$.steps.parse.output.facts"},
            },
            {
                "id": "infer",
                "capability": "legal.infer",
                "input": {"facts": "$.steps.check.output.facts"},
            },
        ],
        "output": "$.steps.infer.output",
    }


def _rows(count: int, rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    now = datetime.now(UTC)
    start = now - timedelta(days=7)
    span = (now - start).total_seconds()
    statuses, weights = zip(*STATUSES, strict=True)
    runs: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []
    for i in range(count):
        created = start + timedelta(seconds=span * i / count)
        status = rng.choices(statuses, weights)[0]
        workflow = rng.choice(WORKFLOWS)
        finished = created + timedelta(seconds=rng.uniform(0.2, 30))
        done = status not in ("running", "pending")
        run_id = str(uuid.UUID(int=(int(created.timestamp() * 1000) << 80) | rng.getrandbits(64)))
        runs.append(
            {
                "id": run_id,
                "workflow_name": workflow,
                "workflow_version": 1,
                "definition": _definition(workflow),
                "input": {"case": f"case-{i}"},
                "output": {"answer": i} if status == "succeeded" else None,
                "error": {"code": "step_failed", "message": "step infer failed"}
                if status == "failed"
                else None,
                "goal": None,
                "status": status,
                "idempotency_key": None,
                "cancel_requested": False,
                "retry_of": None,
                "created_at": created,
                "started_at": created,
                "finished_at": finished if done else None,
                "deadline_at": None,
                "updated_at": finished,
                "ledger_seq": 0,
                "ledger_head": "",
            }
        )
        for n, (step, capability) in enumerate(
            (
                ("parse", "sara.parse_case"),
                ("check", "legal.validate_facts"),
                ("infer", "legal.infer"),
            )
        ):
            step_status = status if n == 2 else ("succeeded" if done else "running")
            steps.append(
                {
                    "run_id": run_id,
                    "step_id": step,
                    "definition_id": step,
                    "item_index": None,
                    "capability": capability,
                    "status": step_status,
                    "attempt": 1,
                    "max_attempts": 1,
                    "input": {},
                    "output": None,
                    "error": None,
                    "agent_id": rng.choice(AGENTS),
                    "task_id": None,
                    "scheduled_at": created,
                    "started_at": created,
                    "finished_at": finished if done else None,
                    "due_at": None,
                    "duplicates": 0,
                    "meta": {},
                }
            )
    return runs, steps


def _agents() -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [
        {
            "id": agent_id,
            "name": f"agent-{i}",
            "version": "1.0.0",
            "description": "",
            "transport": "bus",
            "endpoint": None,
            "public_key": None,
            "token_hash": f"{i:064d}",
            "status": "online",
            "card": {"name": f"agent-{i}", "capabilities": []},
            "registered_at": now,
            "last_heartbeat_at": now,
            "lease_expires_at": now,
            "in_flight": 0,
            "completed": 0,
            "failed": 0,
        }
        for i, agent_id in enumerate(AGENTS)
    ]


async def seed(url: str, count: int) -> float:
    """Create the schema and bulk-insert ``count`` runs; returns the seconds it took."""
    started = time.perf_counter()
    await migrate.upgrade_async(url)
    runs, steps = _rows(count, random.Random(7))
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(AgentRow), _agents())
            for table, rows in ((RunRow, runs), (StepRow, steps)):
                for offset in range(0, len(rows), CHUNK):
                    await conn.execute(insert(table), rows[offset : offset + CHUNK])
        if not url.startswith("sqlite"):
            async with engine.connect() as conn:
                await conn.exec_driver_sql("COMMIT")
                await conn.exec_driver_sql("ANALYZE")
    finally:
        await engine.dispose()
    return time.perf_counter() - started


@asynccontextmanager
async def scratch_postgres(server: str, keep: bool) -> AsyncIterator[str]:
    """A fresh database on the server of ``server`` (dropped at the end unless ``keep``)."""
    import asyncpg

    parsed = urlparse(server.replace("+asyncpg", ""))
    admin = server.replace("+asyncpg", "")
    name = f"modx_bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield server.rsplit("/", 1)[0] + "/" + name if parsed.path else f"{server}/{name}"
    finally:
        if keep:
            print(f"kept database {name}")
        else:
            conn = await asyncpg.connect(admin)
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await conn.close()


def _pages(first_created: datetime) -> dict[str, str]:
    since = (datetime.now(UTC) - timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%S")
    return {
        "first page": "/dashboard/runs",
        "status=failed": "/dashboard/runs?status=failed",
        "workflow+status": "/dashboard/runs?workflow=workflow-3&status=succeeded",
        "agent": f"/dashboard/runs?agent={AGENTS[2]}",
        "last 6 hours": f"/dashboard/runs?since={since}",
        "id prefix": "/dashboard/runs?id=01",
    }


async def measure(url: str, repeats: int, data_dir: Path) -> dict[str, list[float]]:
    """Time each page ``repeats`` times through the app; milliseconds per request."""
    settings = Settings(data_dir=data_dir, database_url=url, admin_token=ADMIN)
    app = create_app(settings, orchestrate=False)
    cookie = {"cookie": f"{auth.COOKIE}={auth.issue(ADMIN)}"}
    timings: dict[str, list[float]] = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            pages = _pages(datetime.now(UTC))
            first = await client.get(pages["first page"], headers=cookie)
            assert first.status_code == 200, first.text[:300]
            marker = 'id="next-page" href="?'
            cursor_query = first.text.split(marker, 1)[1].split('"', 1)[0].replace("&amp;", "&")
            pages["second page (cursor)"] = "/dashboard/runs?" + cursor_query
            for name, path in pages.items():
                for _ in range(3):  # warm caches and connections
                    response = await client.get(path, headers=cookie)
                    assert response.status_code == 200, (name, response.status_code)
                samples = []
                for _ in range(repeats):
                    began = time.perf_counter()
                    response = await client.get(path, headers=cookie)
                    samples.append((time.perf_counter() - began) * 1000)
                    assert response.status_code == 200
                timings[name] = samples
    return timings


def report(label: str, seeded_s: float, count: int, timings: dict[str, list[float]]) -> None:
    """Print median and p95 per page."""
    print(f"\n{label}: {count:,} runs seeded in {seeded_s:.1f} s")
    print(f"{'page':<24}{'median ms':>12}{'p95 ms':>10}{'min ms':>10}")
    for name, samples in timings.items():
        ordered = sorted(samples)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        print(f"{name:<24}{statistics.median(ordered):>12.1f}{p95:>10.1f}{ordered[0]:>10.1f}")


async def main() -> None:
    """Seed, measure, report (SQLite, then PostgreSQL when asked)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--postgres", help="server URL; a scratch database is created there")
    parser.add_argument("--keep", action="store_true", help="keep the scratch PostgreSQL database")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_sqlite:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            seeded = await seed(url, args.runs)
            report("SQLite", seeded, args.runs, await measure(url, args.repeats, Path(tmp)))
        if args.postgres:
            async with scratch_postgres(args.postgres, args.keep) as url:
                seeded = await seed(url, args.runs)
                timings = await measure(url, args.repeats, Path(tmp))
                report("PostgreSQL", seeded, args.runs, timings)


if __name__ == "__main__":
    asyncio.run(main())
