"""Replicas: what a step costs with 1, 2 and 3 ``modx serve`` replicas on one database and bus.

On a machine with few CPUs, more replicas cannot add throughput: they share the same CPUs. What
shows whether they would add capacity on more machines is the CPU a step costs, summed over
every process that works on it: the replicas, the agents and the PostgreSQL backends of the
stack's database. If that stays flat as replicas are added, each replica does its share of the
work and no more (``services.orchestrator.ownership``); if replicas fought over runs, it would
grow with every replica.

For each replica count, 10-step chains are submitted to the replicas in turn, and each repeat
records steps/s, CPU per step by process group, and per step the results one replica forwarded
to the owner of their run and the changes redone because a replica's copy of a run was out of
date (``/metrics``), the replicas' collector time, and per process group what the processes did
(``profile.ACTIVITY``: system calls, wake-ups, preemptions, time waiting for a CPU), which tells
more work per step from the same work slowed by sharing the CPUs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from bench import profile
from bench.harness import Series, load_average, log
from bench.stack import (
    ADMIN,
    REDIS_URL,
    Stack,
    Stacks,
    asyncpg_dsn,
    log_dir,
    stop_processes,
)
from bench.workload import Api, chain

GROUPS = ("server", "agents", "postgres")
COUNTERS = {
    "forwarded": "modx_results_forwarded_total",
    "conflicts": "modx_run_conflicts_total",
    "gc_s": "modx_gc_seconds_total",  # the replicas' garbage collector passes, every generation
    # The writers' batches and the changes they applied: changes per batch is how many steps
    # share each commit (a replica with a third of the rate commits smaller batches).
    "batches": "modx_writer_batches_total",
    "changes": "modx_writer_changes_total",
}


@dataclass(frozen=True)
class ReplicasConfig:
    """Sizes of the replicas benchmark."""

    replicas: tuple[int, ...] = (1, 2, 3)
    agents: int = 2
    runs: int = 200
    steps: int = 10
    repeats: int = 3
    partitions: int = 12  # the servers' default (MODX_RESULT_PARTITIONS)
    idle_s: float = 10.0  # how long the idle stack is measured, per replica count
    # ``runs`` in flight per replica, as if each replica had a machine and its own load (each
    # writer then batches as a lone one does); false: ``runs`` in all, shared out.
    runs_per_replica: bool = True
    # py-spy of the last replica (not the leader: the first) while idle, per replica count.
    profile_idle: str = ""
    # py-spy of every replica through one more repeat per replica count (not counted in the
    # figures: sampling takes CPU from the same two cores), to compare what a step costs where.
    profile_load: str = ""

    @classmethod
    def quick(cls) -> ReplicasConfig:
        """Tiny sizes for the CI smoke run."""
        return cls(replicas=(1, 2, 1), agents=1, runs=10, repeats=2, idle_s=1.0)


def phases(counts: tuple[int, ...]) -> list[str]:
    """The figures' key of each phase: ``replicas.N``, or ``replicas.N.again`` for a count
    measured again (``1 3 1``: on the tables the earlier phases grew)."""
    return [f"replicas.{n}" + ".again" * (n in counts[:phase]) for phase, n in enumerate(counts)]


async def _metric(url: str, name: str) -> float:
    async with httpx.AsyncClient(headers={"authorization": f"Bearer {ADMIN}"}) as client:
        response = await client.get(f"{url}/metrics")
        response.raise_for_status()
    lines = response.text.splitlines()
    named = (name + " ", name + "{")  # a counter with labels: every label's line
    return sum(float(line.rsplit(None, 1)[1]) for line in lines if line.startswith(named))


async def _counters(stack: Stack) -> dict[str, float]:
    return {
        key: sum([await _metric(s.url, name) for s in stack.servers])
        for key, name in COUNTERS.items()
    }


async def _settled(stack: Stack, partitions: int, timeout_s: float = 60.0) -> None:
    """Until the replicas own every partition between them, each a share."""
    for _ in range(int(timeout_s / 0.2)):
        owned = [await _metric(s.url, "modx_partitions_owned") for s in stack.servers]
        if sum(owned) == partitions and min(owned) > 0:
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"the replicas did not share the {partitions} partitions out")


async def _analyze(stack: Stack) -> None:
    """Fresh planner statistics, as a database in service has (autovacuum's come a minute or
    more late): without them, the tables this benchmark grows tenfold in minutes are read by
    sequential scans in the sweeps every replica runs each second, a cost that grows with the
    phase (3 replicas run last, on the largest tables), not with the replica count."""
    import asyncpg

    assert stack.database_url is not None
    conn = await asyncpg.connect(asyncpg_dsn(stack.database_url))
    try:
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def _idle(
    stack: Stack, seconds: float, profile_to: Path | None = None
) -> tuple[dict[str, float], list[float]]:
    """CPU seconds per second each group spends with no run in flight (the timers, polls and
    leases every replica runs whatever the load), and each replica's own, in start order."""
    sampler = None if profile_to is None else profile.Sampler(stack.servers[-1].pid, profile_to)
    replicas = {"server": [s.pid for s in stack.servers]}
    before = profile.cpu_snapshot(await stack.processes())
    each = profile.cpu_snapshot(replicas)["server"]
    started = time.monotonic()
    await asyncio.sleep(seconds)
    cpu = profile.cpu_delta(before, profile.cpu_snapshot(await stack.processes()))
    each_after = profile.cpu_snapshot(replicas)["server"]
    elapsed = time.monotonic() - started
    if sampler is not None:
        await asyncio.to_thread(sampler.stop)
    per_replica = [(each_after[pid] - each[pid]) / elapsed for pid in replicas["server"]]
    return {g: cpu.get(g, 0.0) / elapsed for g in GROUPS}, per_replica


async def _measure(cfg: ReplicasConfig, stack: Stack, count: int, series: Series, key: str) -> None:
    api = Api(stack.servers)
    definition = chain("bench-replicas", cfg.steps)
    runs = cfg.runs * count if cfg.runs_per_replica else cfg.runs
    steps = runs * cfg.steps
    try:
        await api.throughput(definition, max(2, runs // 4))  # warm-up: caches, connections
        await _analyze(stack)
        where = Path(cfg.profile_idle) / f"idle-{count}.txt" if cfg.profile_idle else None
        idle, per_replica = await _idle(stack, cfg.idle_s, where)
        series.add_all({f"{g}_ms_per_s": 1000 * v for g, v in idle.items()}, f"{key}.idle_cpu.")
        series.add_all(
            {f"replica_{i + 1}_ms_per_s": 1000 * v for i, v in enumerate(per_replica)},
            f"{key}.idle_cpu.",
        )
        log(
            f"replicas {count}, idle: "
            + ", ".join(f"{g} {1000 * v:.1f}" for g, v in idle.items())
            + " ms/s; each replica "
            + ", ".join(f"{1000 * v:.1f}" for v in per_replica)
        )
        for repeat in range(cfg.repeats):
            processes = await stack.processes()
            before = profile.cpu_snapshot(processes)
            did = profile.activity_snapshot(processes)
            counted = await _counters(stack)
            started = time.monotonic()
            rate = await api.throughput(definition, runs)
            processes = await stack.processes()
            cpu = profile.cpu_delta(before, profile.cpu_snapshot(processes))
            done = profile.activity_delta(did, profile.activity_snapshot(processes))
            wall = time.monotonic() - started
            after = await _counters(stack)
            batches = after["batches"] - counted["batches"]
            series.add(f"{key}.steps_per_s", rate["steps_per_s"])
            gross = {g: 1000 * cpu.get(g, 0.0) / steps for g in GROUPS}
            # What the steps themselves cost: the CPU an idle stack would have spent meanwhile
            # taken out. On a loaded machine steps are slow, and that share grows per step.
            marginal = {g: gross[g] - 1000 * idle[g] * wall / steps for g in GROUPS}
            for name, figures in (("cpu_per_step", gross), ("marginal_per_step", marginal)):
                series.add_all({f"{g}_ms": v for g, v in figures.items()}, f"{key}.{name}.")
                series.add(f"{key}.{name}.total_ms", sum(figures.values()))
            for name in COUNTERS:
                series.add(f"{key}.{name}_per_step", (after[name] - counted[name]) / steps)
            for group in GROUPS:
                counts = zip(profile.ACTIVITY, done[group], strict=True)
                series.add_all({f"{group}_{a}": n / steps for a, n in counts}, f"{key}.per_step.")
            log(
                f"replicas {count}, repeat {repeat + 1}/{cfg.repeats}: "
                f"{rate['steps_per_s']:,.0f} steps/s, {sum(gross.values()):.2f} ms CPU per step "
                f"({', '.join(f'{g} {v:.2f}' for g, v in gross.items())}), "
                f"{sum(marginal.values()):.2f} ms without the idle stack's; "
                f"conflicts per step {(after['conflicts'] - counted['conflicts']) / steps:.3f}, "
                f"GC {1000 * (after['gc_s'] - counted['gc_s']) / steps:.3f} ms per step; "
                f"writer batches per step {batches / steps:.3f} "
                f"({(after['changes'] - counted['changes']) / max(batches, 1):.1f} changes each); "
                "per step syscalls/wakeups/preempted/queued ms: "
                + ", ".join(f"{g} " + "/".join(f"{n / steps:.2f}" for n in done[g]) for g in GROUPS)
            )
        if cfg.profile_load:
            await _profile_load(Path(cfg.profile_load), stack, api, definition, runs, key)
    finally:
        await api.aclose()


async def _profile_load(
    where: Path, stack: Stack, api: Api, definition: dict[str, Any], runs: int, key: str
) -> None:
    """py-spy every replica through one repeat: ``load-{n}-{i}.txt`` (``n`` the replica count,
    ``1.again`` for a count measured again), and the steps it ran in ``load-{n}.json``."""
    name = key.removeprefix("replicas.")
    samplers = [
        profile.Sampler(s.pid, where / f"load-{name}-{i + 1}.txt")
        for i, s in enumerate(stack.servers)
    ]
    before = profile.cpu_snapshot(await stack.processes())
    rate = await api.throughput(definition, runs)
    cpu = profile.cpu_delta(before, profile.cpu_snapshot(await stack.processes()))
    for sampler in samplers:
        await asyncio.to_thread(sampler.stop)
    steps = runs * len(definition["steps"])
    summary = {"steps": steps, "rate": rate, "cpu_s": cpu}
    await asyncio.to_thread((where / f"load-{name}.json").write_text, json.dumps(summary))


async def run(cfg: ReplicasConfig, logs: Path) -> tuple[dict[str, Any], list[str]]:
    """1, 2, 3 replicas on one stack, added one by one."""
    series = Series()
    async with Stacks(logs) as stacks:
        stack = await stacks.distributed("replicas", REDIS_URL, cfg.agents)
        for count, key in zip(cfg.replicas, phases(cfg.replicas), strict=True):
            while len(stack.servers) < count:
                await stack.add_replica()
            while len(stack.servers) > count:  # the last started gives its partitions back
                await asyncio.to_thread(stop_processes, [stack.servers.pop().proc])
            await _settled(stack, cfg.partitions)
            await _measure(cfg, stack, count, series, key)
    figures = series.summary()
    first, last = cfg.replicas[0], max(cfg.replicas)

    def growth(name: str) -> float | None:
        low = figures.get(f"replicas.{first}.{name}.total_ms")
        high = figures.get(f"replicas.{last}.{name}.total_ms")
        if not low or not high or not low["median"]:
            return None
        return float(high["median"] / low["median"] - 1)

    results = {
        "figures": figures,
        "cpu_growth": growth("cpu_per_step"),
        "marginal_growth": growth("marginal_per_step"),
        "config": asdict(cfg),
    }
    notes = [
        f"{cfg.agents} agent processes; {cfg.runs} runs of {cfg.steps} no-op steps "
        + ("per replica" if cfg.runs_per_replica else "in all")
        + " submitted at once, to the replicas in turn; PostgreSQL durable (synchronous_commit "
        "on). Per replica: each replica has as many runs in flight as a lone one, as it "
        "would with a machine of its own; on these 2 CPUs each still runs at about a third "
        "of a lone one's rate, so its group commits are smaller. In all: the replicas share "
        "one load out.",
        "Planner statistics are refreshed (ANALYZE) after each warm-up, as a database in "
        "service has them: the benchmark grows its tables tenfold in minutes, faster than "
        "autovacuum analyzes them.",
        "CPU from /proc: every replica, every agent, and the PostgreSQL backends of the stack's "
        "database (a lower bound: the server's background processes are not counted). Redis is "
        "not counted: it is shared with other work on this machine.",
        f"Idle: the stack's CPU over {cfg.idle_s:g} s with no run in flight, per replica count. "
        "'Without idle' takes that rate times the measurement's wall time out of the CPU per "
        "step: what the steps cost, apart from what the replicas spend anyway (polls, sweeps, "
        "leases, a cost per replica and per second, not per step).",
        "On a 2-CPU machine every process shares the same two CPUs: throughput cannot grow "
        "with replicas here, CPU per step says whether it would on more machines.",
    ]
    return results, notes


async def _main(args: argparse.Namespace) -> None:
    cfg = ReplicasConfig(
        replicas=tuple(args.replicas),
        agents=args.agents,
        runs=args.runs,
        repeats=args.repeats,
        idle_s=args.idle_s,
        profile_idle=args.profile_idle,
        profile_load=args.profile_load,
    )
    for where in (cfg.profile_idle, cfg.profile_load):
        if where:
            await asyncio.to_thread(Path(where).mkdir, parents=True, exist_ok=True)
    log(f"load average {load_average()}")
    with log_dir(Path(args.logs) if args.logs else None) as logs:
        results, _ = await run(cfg, logs)
    log(f"load average {load_average()}")
    figures = results["figures"]
    print(json.dumps({k: v["median"] for k, v in figures.items()}, indent=1))
    print(f"growth {results['cpu_growth']}, without idle {results['marginal_growth']}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--agents", type=int, default=2)
    parser.add_argument("--runs", type=int, default=200, help="runs in flight per replica")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--idle-s", type=float, default=10.0)
    parser.add_argument("--profile-idle", default="", help="py-spy the last replica when idle")
    parser.add_argument(
        "--profile-load", default="", help="py-spy every replica through one more repeat"
    )
    parser.add_argument("--logs", default="")
    asyncio.run(_main(parser.parse_args()))
