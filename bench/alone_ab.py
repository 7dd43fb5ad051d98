"""One 10-step run alone, two builds side by side, with Celery's chain in the same rounds.

``python -m bench.alone_ab --other DIR [--rounds N] [--block B] [--agents A] [--clients C]
[--other-agents A2]``:
two stacks at once, each one ``modx serve`` on its own scratch PostgreSQL database and its
own Redis database with ``A`` ``numbers`` agents (``--other-agents`` gives the other stack
another number: the same code twice then compares two setups): ``this``, started from this
checkout, and ``other``, started from the checkout ``DIR`` (``git worktree add DIR
<commit>``), so the two builds run on the same machine at the same moment; and a 2-process
Celery worker. Each round takes ``B`` runs alone on each stack in turn, then ``B`` Celery
chains, and the order of the two stacks alternates from round to round. Sequential runs of
one build drift by more than a small effect (bench/README.md); alternating blocks within one
window does not.

It reports, per build, the p50/p99 of all its runs and of each round, and the CPU
milliseconds per step of its server, its agents and its database's PostgreSQL backends,
counted over its own blocks only (``/proc``), and the servers' and the agents' system calls
and wake-ups (voluntary context switches) per step, and the sequential scans of ``runs`` and
``steps`` in its database at the end. With ``--clients C`` each round also has each build
take a burst of C clients, each submitting a run and waiting on it (``/wait``): steps/s and the
server's CPU per step, so that a change for runs alone is seen not to cost the burst.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg

from bench import celery_chain, harness, profile, stack
from bench.harness import latency_summary, log
from bench.stack import REDIS_URL, REDIS_URL_2, Stack, Stacks, asyncpg_dsn, log_dir
from bench.workload import Api, chain

STEPS = 10
NAME = "alone-ab-chain"


@contextmanager
def _from(repo: Path | None) -> Iterator[None]:
    """Processes started in this block run the code of ``repo`` (None: this checkout)."""
    if repo is None:
        yield
        return
    stack.REPO = repo  # type: ignore[attr-defined]  # read by bench.stack._popen
    try:
        yield
    finally:
        stack.REPO = harness.REPO  # type: ignore[attr-defined]


async def _start(
    stacks: Stacks, label: str, redis_url: str, agents: int, repo: Path | None
) -> Stack:
    with _from(repo):
        started = await stacks.distributed(label, redis_url, agents)
    return started


_COUNTERS = ("seq_scan", "seq_tup_read", "idx_scan", "pages")


def _delta(
    before: dict[str, dict[str, int]], after: dict[str, dict[str, int]]
) -> dict[str, dict[str, int]]:
    return {
        table: {k: v - before.get(table, {}).get(k, 0) for k, v in counters.items()}
        for table, counters in after.items()
    }


class Build:
    """One stack under test, with what its blocks measured."""

    def __init__(self, label: str, started: Stack) -> None:
        self.label = label
        self.stack = started
        self.api = Api(started.servers)
        self.samples: list[float] = []
        self.rounds: list[dict[str, float]] = []
        self.cpu: dict[str, float] = {}
        self.activity: dict[str, list[float]] = {}  # per process group: syscalls, wake-ups
        self.bursts: list[dict[str, float]] = []
        self.scanned: dict[str, int] = {}
        self.read: list[dict[str, dict[str, int]]] = []  # per block: what each table's reads did

    async def block(self, runs: int) -> None:
        groups = await self.stack.processes()
        tables = await self.tables()
        before = profile.cpu_snapshot(groups)
        did = profile.activity_snapshot(groups)
        samples = [await self.api.run_once(NAME) for _ in range(runs)]
        groups = await self.stack.processes()
        self.read.append(_delta(tables, await self.tables()))
        for key, value in profile.cpu_delta(before, profile.cpu_snapshot(groups)).items():
            self.cpu[key] = self.cpu.get(key, 0.0) + value
        done = profile.activity_delta(did, profile.activity_snapshot(groups))
        for group in ("server", "agents"):
            into = self.activity.setdefault(group, [0.0, 0.0])
            into[0] += done.get(group, (0.0, 0.0))[0]
            into[1] += done.get(group, (0.0, 0.0))[1]
        self.samples += samples
        summary = latency_summary(samples)
        self.rounds.append({"p50_ms": summary["p50_ms"], "p99_ms": summary["p99_ms"]})

    async def burst(self, clients: int) -> None:
        """``clients`` clients at once, each submitting a run and waiting on it (``/wait``)."""
        groups = await self.stack.processes()
        before = profile.cpu_snapshot(groups)
        found = await self.api.clients(chain(NAME, STEPS), clients, "wait")
        cpu = profile.cpu_delta(before, profile.cpu_snapshot(await self.stack.processes()))
        self.bursts.append(
            {
                "steps_per_s": round(found["steps_per_s"], 1),
                "server_cpu_ms_per_step": round(1000 * cpu["server"] / (clients * STEPS), 3),
            }
        )

    async def tables(self) -> dict[str, dict[str, int]]:
        """Per table of this build's database: sequential scans, the rows they read, index
        scans, and its pages read; per index (``table.index``): its scans, the entries they
        read (as ``seq_tup_read``) and its pages read (``pg_stat``/``pg_statio``)."""
        assert self.stack.database_url is not None
        conn = await asyncpg.connect(asyncpg_dsn(self.stack.database_url))
        try:
            rows = await conn.fetch(
                "SELECT s.relname, s.seq_scan, s.seq_tup_read, coalesce(s.idx_scan, 0) idx_scan,"
                " io.heap_blks_hit + io.heap_blks_read AS pages"
                " FROM pg_stat_user_tables s JOIN pg_statio_user_tables io USING (relid)"
                " UNION ALL SELECT s.relname || '.' || s.indexrelname, 0, s.idx_tup_read,"
                " s.idx_scan, io.idx_blks_hit + io.idx_blks_read"
                " FROM pg_stat_user_indexes s JOIN pg_statio_user_indexes io USING (indexrelid)"
            )
        finally:
            await conn.close()
        return {r["relname"]: {k: int(r[k]) for k in _COUNTERS} for r in rows}

    def tables_read(self, first: slice) -> dict[str, dict[str, float]]:
        """Per run alone, over the blocks ``first`` selects: each table's counters (the
        tables that read a page or more per run)."""
        blocks = self.read[first]
        runs = max(1, len(blocks) * (len(self.samples) // max(1, len(self.read))))
        found: dict[str, dict[str, float]] = {}
        for block in blocks:
            for table, counters in block.items():
                into = found.setdefault(table, dict.fromkeys(_COUNTERS, 0.0))
                for key, value in counters.items():
                    into[key] += value / runs
        return {
            table: {k: round(v, 1) for k, v in counters.items()}
            for table, counters in sorted(found.items())
            if counters["pages"] >= 1
        }

    async def scans(self) -> dict[str, int]:
        """Sequential scans of ``runs`` and ``steps`` in this build's database so far, and the
        rows they read (from ``tables``)."""
        found = await self.tables()
        return {
            f"{table}_{name}": found[table][key]
            for table in ("runs", "steps")
            for name, key in (("seq_scans", "seq_scan"), ("rows_scanned", "seq_tup_read"))
        }

    def report(self) -> dict[str, Any]:
        steps = len(self.samples) * STEPS
        summary = latency_summary(self.samples)
        return {
            "runs": len(self.samples),
            "p50_ms": round(summary["p50_ms"], 2),
            "p99_ms": round(summary["p99_ms"], 2),
            "mean_ms": round(summary["mean_ms"], 2),
            "rounds_p50_ms": [round(r["p50_ms"], 2) for r in self.rounds],
            "cpu_ms_per_step": {k: round(1000 * v / steps, 3) for k, v in self.cpu.items()},
            **{
                f"{group}_{what}_per_step": round(counts[i] / steps, 2)
                for group, counts in self.activity.items()
                for i, what in enumerate(("syscalls", "wakeups"))
            },
            **({"bursts": self.bursts} if self.bursts else {}),
            "scans": self.scanned,
            # What the runs alone read, per run, in the first and the last three rounds.
            "tables_per_run_first": self.tables_read(slice(0, 3)),
            "tables_per_run_last": self.tables_read(slice(-3, None)),
        }


async def main(args: argparse.Namespace) -> None:
    other = Path(args.other)  # made absolute before the loop started
    with log_dir(Path(args.logs) if args.logs else None) as logs:
        async with Stacks(logs) as stacks:
            worker = celery_chain.CeleryWorker(2, logs)
            await asyncio.to_thread(worker.start)
            stacks.on_exit(lambda: asyncio.to_thread(worker.stop))
            this_stack = await _start(stacks, "ab-this", REDIS_URL, args.agents, None)
            other_agents = args.other_agents or args.agents
            other_stack = await _start(stacks, "ab-other", REDIS_URL_2, other_agents, other)
            await asyncio.to_thread(worker.wait_ready)
            builds = [Build("this", this_stack), Build("other", other_stack)]
            for build in builds:
                await build.api.register(chain(NAME, STEPS))
                for _ in range(args.warm):
                    await build.api.run_once(NAME)
            for _ in range(args.warm):
                await asyncio.to_thread(celery_chain.run_once, STEPS)
            celery: list[float] = []
            celery_rounds: list[float] = []
            for index in range(args.rounds):
                order = builds if index % 2 == 0 else builds[::-1]
                for build in order:
                    await build.block(args.block)
                samples = [
                    await asyncio.to_thread(celery_chain.run_once, STEPS) for _ in range(args.block)
                ]
                if args.clients:
                    for build in order:
                        await build.burst(args.clients)
                celery += samples
                celery_rounds.append(latency_summary(samples)["p50_ms"])
                log(
                    f"round {index + 1}: "
                    + ", ".join(f"{b.label} {b.rounds[-1]['p50_ms']:.1f}" for b in builds)
                    + f", celery {celery_rounds[-1]:.1f} ms p50"
                )
            for build in builds:
                build.scanned = await build.scans()
                await build.api.aclose()
    celery_summary = latency_summary(celery)
    print(
        json.dumps(
            {
                "this": builds[0].report(),
                "other": {"dir": str(other), **builds[1].report()},
                "celery": {
                    "runs": len(celery),
                    "p50_ms": round(celery_summary["p50_ms"], 2),
                    "p99_ms": round(celery_summary["p99_ms"], 2),
                    "rounds_p50_ms": [round(v, 2) for v in celery_rounds],
                },
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--other", required=True, help="a checkout of the other build")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--block", type=int, default=20, help="runs per build per round")
    parser.add_argument("--agents", type=int, default=2)
    parser.add_argument(
        "--other-agents", type=int, default=0, help="agents of the other stack (--agents)"
    )
    parser.add_argument("--warm", type=int, default=10)
    parser.add_argument(
        "--clients", type=int, default=0, help="also a burst of this many /wait clients a round"
    )
    parser.add_argument("--logs", default="")
    parsed = parser.parse_args()
    parsed.other = str(Path(parsed.other).resolve())
    asyncio.run(main(parsed))
