"""Orchestrator against Celery: chains of no-op steps, side by side in one run.

Targets, all up at once and measured in turn inside every repeat (so a repeat's ratios compare
figures taken seconds apart):

- ``modx-postgres``: ``modx serve`` on PostgreSQL + Redis, ``agents`` ``numbers`` agent
  processes; every transition committed (and fsynced) before it counts;
- ``celery``: Celery 5, Redis broker and result backend, a prefork worker with as many
  processes as MODX has agents (``bench.celery_chain``); no durable history;
- ``modx-postgres-nofsync``: the same stack on a database with ``synchronous_commit = off``
  (commits do not wait for the WAL flush: a crash may lose the last transitions);
- ``modx-embedded``: SQLite + the in-process bus, the agent inside the server process.

For each: p50/p99 end-to-end latency of one run alone (``latency_samples`` runs, one after the
other); steps/s with ``runs`` runs submitted at once and the run list polled; and ``clients``
clients each submitting their own run and waiting on it, as users do: through ``/wait`` and
through the event stream for MODX, on its own ``AsyncResult`` for Celery (steps/s, and p50/p99
of a client's submit-to-result time). Then, on ``modx-postgres``: the bus
round trip through an agent without the orchestrator, a py-spy profile of the server during
one more throughput run, and (in this process, on a scratch database) the replay that splits a
step's orchestrator time into database and Python (``bench.breakdown``).
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from bench import breakdown, celery_chain, profile
from bench.harness import Series, latency_summary, log, percentile
from bench.stack import REDIS_URL, REDIS_URL_2, Stack, Stacks, describe
from bench.workload import WAIT_MODES, Api, chain
from bus.signing import read_key_file

CHAIN = "bench-chain"


@dataclass(frozen=True)
class OrchestratorConfig:
    """Sizes of the orchestrator benchmark."""

    steps: int = 10
    runs: int = 100
    agents: int = 2
    latency_samples: int = 20
    clients: int = 200
    repeats: int = 5
    warmup_runs: int = 20
    probe_samples: int = 200
    replay_runs: int = 20
    profile: bool = True
    variants: tuple[str, ...] = ("nofsync", "embedded")

    @classmethod
    def quick(cls) -> OrchestratorConfig:
        """Tiny sizes for the CI smoke run."""
        return cls(
            runs=8,
            agents=1,
            latency_samples=2,
            clients=8,
            repeats=2,
            warmup_runs=2,
            probe_samples=5,
            replay_runs=1,
        )


class Target(Protocol):
    """Something that runs chains: a MODX stack or Celery."""

    name: str

    async def idle(self) -> float:
        """Seconds for one chain alone."""
        ...

    async def throughput(self, runs: int) -> dict[str, float]:
        """Steps/s with ``runs`` chains at once."""
        ...

    wait_modes: tuple[str, ...]

    async def clients(self, count: int, mode: str) -> dict[str, float]:
        """Steps/s, p50 and p99 with ``count`` clients each waiting on their own chain."""
        ...


class ModxTarget:
    """A MODX stack driven over its API."""

    async def processes(self) -> dict[str, list[int]]:
        """The processes whose CPU time a step costs: server(s), agents, PostgreSQL backends."""
        return await self.stack.processes()

    def __init__(self, name: str, stack: Stack, steps: int) -> None:
        self.name = name
        self.stack = stack
        self.definition = chain(CHAIN, steps)
        self.api = Api(stack.servers)

    async def setup(self) -> None:
        """Register the chain."""
        await self.api.register(self.definition)

    async def idle(self) -> float:
        """Seconds for one run alone."""
        return await self.api.run_once(CHAIN)

    async def throughput(self, runs: int) -> dict[str, float]:
        """Steps/s with ``runs`` runs submitted at once."""
        return await self.api.throughput(self.definition, runs)

    wait_modes = WAIT_MODES

    async def clients(self, count: int, mode: str) -> dict[str, float]:
        """``count`` clients each submitting a run and waiting on it (``/wait`` or stream)."""
        return await self.api.clients(self.definition, count, mode)


class CeleryTarget:
    """The Celery worker, driven from a thread (its client is synchronous)."""

    name = "celery"

    def __init__(self, steps: int, worker: celery_chain.CeleryWorker) -> None:
        self.steps = steps
        self.worker = worker

    async def processes(self) -> dict[str, list[int]]:
        """The worker's processes (Redis's CPU is not counted, for either side)."""
        return {"worker": self.worker.pids()}

    async def idle(self) -> float:
        """Seconds for one chain alone."""
        return await asyncio.to_thread(celery_chain.run_once, self.steps)

    async def throughput(self, runs: int) -> dict[str, float]:
        """Steps/s with ``runs`` chains sent at once."""
        return await asyncio.to_thread(celery_chain.throughput, runs, self.steps)

    wait_modes = ("result",)

    async def clients(self, count: int, mode: str) -> dict[str, float]:
        """``count`` client threads, each sending a chain and waiting on its result."""
        return await asyncio.to_thread(celery_chain.clients, count, self.steps)


async def _start(cfg: OrchestratorConfig, stacks: Stacks) -> list[Any]:
    worker = celery_chain.CeleryWorker(cfg.agents, stacks.logs)
    await asyncio.to_thread(worker.start)
    stacks.on_exit(lambda: asyncio.to_thread(worker.stop))
    starting: list[Any] = [stacks.distributed("orch", REDIS_URL, cfg.agents)]
    if "nofsync" in cfg.variants:
        starting.append(
            stacks.distributed("nofsync", REDIS_URL_2, cfg.agents, synchronous_commit=False)
        )
    if "embedded" in cfg.variants:
        starting.append(stacks.embedded())
    started = await asyncio.gather(*starting)
    await asyncio.to_thread(worker.wait_ready)
    names = ["modx-postgres", "modx-postgres-nofsync", "modx-embedded"]
    chosen = [names[0]] + [
        n for n, v in zip(names[1:], ("nofsync", "embedded"), strict=True) if v in cfg.variants
    ]
    targets: list[Any] = [ModxTarget(n, s, cfg.steps) for n, s in zip(chosen, started, strict=True)]
    for target in targets:
        await target.setup()
    targets.insert(1, CeleryTarget(cfg.steps, worker))
    return targets


async def _measure(cfg: OrchestratorConfig, targets: list[Any], series: Series) -> None:
    for target in targets:
        await target.throughput(cfg.warmup_runs)
        for _ in range(3):
            await target.idle()
    log("orchestrator: warmed up")
    for repeat in range(cfg.repeats):
        by_target: dict[str, dict[str, float]] = {}
        for target in targets:
            before = profile.cpu_snapshot(await target.processes())
            samples = [await target.idle() for _ in range(cfg.latency_samples)]
            idle_cpu = profile.cpu_delta(before, profile.cpu_snapshot(await target.processes()))
            latency = latency_summary(samples)
            before = profile.cpu_snapshot(await target.processes())
            rate = await target.throughput(cfg.runs)
            busy_cpu = profile.cpu_delta(before, profile.cpu_snapshot(await target.processes()))
            for label, cpu, steps in (
                ("idle", idle_cpu, cfg.latency_samples * cfg.steps),
                ("busy", busy_cpu, cfg.runs * cfg.steps),
            ):
                series.add_all(
                    {f"{k}_ms": 1000 * v / steps for k, v in cpu.items()},
                    f"{target.name}.cpu_per_step.{label}.",
                )
            by_target[target.name] = {**latency, **rate}
            series.add_all({k: latency[k] for k in ("p50_ms", "p99_ms")}, f"{target.name}.")
            series.add_all({k: rate[k] for k in ("steps_per_s", "runs_per_s")}, f"{target.name}.")
            log(
                f"orchestrator repeat {repeat + 1}/{cfg.repeats}: {target.name}: "
                f"{rate['steps_per_s']:,.0f} steps/s; one run p50 {latency['p50_ms']:.1f} ms, "
                f"p99 {latency['p99_ms']:.1f} ms"
            )
            for mode in target.wait_modes:
                waited = await target.clients(cfg.clients, mode)
                by_target[f"{target.name}.clients_{mode}"] = waited
                series.add_all(
                    {k: waited[k] for k in ("steps_per_s", "p50_ms", "p99_ms")},
                    f"{target.name}.clients_{mode}.",
                )
                log(
                    f"orchestrator repeat {repeat + 1}/{cfg.repeats}: {target.name}: "
                    f"{cfg.clients} clients ({mode}) {waited['steps_per_s']:,.0f} steps/s; "
                    f"a client's run p50 {waited['p50_ms']:.1f} ms, p99 {waited['p99_ms']:.1f} ms"
                )
        ours, celery = by_target["modx-postgres"], by_target["celery"]
        series.add("ratio.steps_per_s", ours["steps_per_s"] / celery["steps_per_s"])
        series.add("ratio.p50", ours["p50_ms"] / celery["p50_ms"])
        celery_clients = by_target["celery.clients_result"]["steps_per_s"]
        for mode in WAIT_MODES:
            series.add(
                f"ratio.clients_{mode}.steps_per_s",
                by_target[f"modx-postgres.clients_{mode}"]["steps_per_s"] / celery_clients,
            )


async def _profile(stack: Stack, cfg: OrchestratorConfig) -> dict[str, Any]:
    if not cfg.profile or profile.py_spy() is None:
        return {"skipped": "py-spy is not installed" if cfg.profile else "not asked"}
    path = stack.logs / "serve-profile.txt"
    sampler = profile.Sampler(stack.server.pid, path)
    agents = [p.pid for p in stack.agents]
    try:
        await asyncio.sleep(0.5)  # py-spy attaches
        server_cpu, agents_cpu = (
            profile.cpu_seconds(stack.server.pid),
            sum(profile.cpu_seconds(pid) for pid in agents),
        )
        rate = await Api(stack.servers).throughput(chain(CHAIN, cfg.steps), cfg.runs)
        server_cpu = profile.cpu_seconds(stack.server.pid) - server_cpu
        agents_cpu = sum(profile.cpu_seconds(pid) for pid in agents) - agents_cpu
    finally:
        await asyncio.to_thread(sampler.stop)
    summary = profile.summarize(profile.read_stacks(path))
    steps = cfg.runs * cfg.steps
    summary["steps_per_s_while_profiled"] = rate["steps_per_s"]
    summary["cpu_ms_per_step"] = {
        "server": 1000 * server_cpu / steps,
        "agents": 1000 * agents_cpu / steps,
    }
    summary["server_cpu_utilization"] = server_cpu / rate["elapsed_s"]
    log(f"profile: {summary['samples']} samples; layers {list(summary['layers'].items())[:4]}")
    return summary


async def run(cfg: OrchestratorConfig, logs: Path) -> tuple[dict[str, Any], list[str]]:
    """All targets, ``repeats`` times, then the probe, the profile and the replay."""
    series = Series()
    async with Stacks(logs) as stacks:
        targets = await _start(cfg, stacks)
        main: Stack = targets[0].stack
        await _measure(cfg, targets, series)
        round_trip = await breakdown.bus_round_trip(
            main.redis_url or REDIS_URL,
            cfg.probe_samples,
            read_key_file(main.logs / "orchestrator.key"),  # agents run only signed tasks
        )
        profiled = await _profile(main, cfg)
        stack_info = {t.name: describe(t.stack) for t in targets if isinstance(t, ModxTarget)}
    async with Stacks(logs) as stacks:
        database = await stacks.database("replay")
        replayed = await breakdown.replay(database, cfg.steps, cfg.replay_runs)
        pg_rtt = await breakdown.pg_round_trip(database)
    figures = series.summary()
    results = {
        "figures": figures,
        "bus_round_trip_ms": {
            "p50": 1000 * percentile(round_trip, 0.5),
            "p99": 1000 * percentile(round_trip, 0.99),
            "samples": len(round_trip),
        },
        "pg_select1_ms": {
            "p50": 1000 * percentile(pg_rtt, 0.5),
            "p99": 1000 * percentile(pg_rtt, 0.99),
        },
        "replay": replayed,
        "breakdown": per_step_breakdown(figures, cfg.steps, round_trip, replayed),
        "profile": profiled,
        "stacks": stack_info,
        "config": asdict(cfg),
    }
    notes = [
        "Celery keeps no durable history: a chain's state lives in the broker and expiring "
        "results, nothing records its transitions. Every MODX figure includes committing each "
        "transition (run, steps, events, ledger, outbox) to PostgreSQL before it counts.",
        "modx-postgres-nofsync shows the price of the WAL flush alone; modx-embedded shows "
        "SQLite and the in-process bus (one process, one writer).",
        "Throughput: runs submitted at once over the API; it ends at the last run's "
        "finished_at (Celery: the last result's date_done).",
        f"Clients: {cfg.clients} clients at once, each submitting its own {cfg.steps}-step run "
        "and waiting on it (MODX: /wait, or the SSE stream then one read; Celery: its own "
        "AsyncResult.get() in its own thread); it ends when the last client has its result.",
    ]
    return results, notes


def per_step_breakdown(
    figures: dict[str, Any], steps: int, round_trip: list[float], replayed: dict[str, Any]
) -> dict[str, float]:
    """One step of one run alone, split: bus + agent, PostgreSQL, driver, engine, the rest."""
    p50 = figures.get("modx-postgres.p50_ms", {}).get("median") or 0.0
    per_step = p50 / steps
    bus = 1000 * percentile(round_trip, 0.5)
    step = replayed["step"]
    rest = per_step - bus - step["wall_ms"]
    return {
        "per_step_ms": per_step,
        "bus_and_agent_ms": bus,
        "pg_wait_ms": step["pg_wait_ms"],
        "db_commit_ms": step["commit_ms"],
        "db_statements": step["statements"],
        "driver_cpu_ms": step["driver_cpu_ms"],
        "python_ms": step["python_cpu_ms"],
        "waiting_and_other_ms": rest,
        "overhead_over_bus_ms": per_step - bus,
        "relay_off_path_ms": replayed["phases"]["relay"]["wall_ms"],
    }
