"""The two open targets of the speed issue, quickly, beside Celery in the same run.

``python -m bench.hotpath [--rounds N] [--clients C] [--replicas R] [--pattern P]
[--profile DIR] [--token static|issued]``: ``R`` ``modx serve`` replicas (1 by default) on
PostgreSQL + Redis with 2 ``numbers`` agents, and a Celery worker with 2 processes. The clients
authenticate with the servers' ``MODX_API_TOKEN`` (compared in memory) or, ``--token issued``,
with a token issued by ``POST /v1/tokens``, as tenants do. Each round measures, in turn for
MODX and Celery: one 10-step run alone (``--alone`` runs, one after the other; p50/p99), and
``--clients`` clients each submitting a 10-step run and waiting on it (``--pattern wait``:
``/wait`` for MODX; ``--pattern stream``: its SSE stream to the end, then one read;
``AsyncResult.get`` for Celery; steps/s, p50/p99). Each phase logs the CPU per step of each
process group (servers, agents, the database's PostgreSQL backends, this client, and
redis-server) and system calls and wake-ups (voluntary context switches) per step: of each
group in the clients burst, of the servers alone; the runs alone also the Redis commands per
step (``INFO commandstats``: the whole Redis's, so run it alone, under the quiet lock). With
``--profile`` the first server runs under py-spy during one more clients burst (and the first
agent beside it), and their collapsed stacks go there.

This is the loop for working on the hot path (a few minutes); ``modx bench orchestrator`` is
the full benchmark with the figures for the README.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from collections import Counter
from pathlib import Path
from statistics import median
from typing import Any

from redis.asyncio import Redis

from bench import celery_chain, profile
from bench.harness import latency_summary, log
from bench.stack import ADMIN, REDIS_URL, Stack, Stacks, log_dir
from bench.workload import Api, chain

STEPS = 10
GC_SECONDS = "modx_gc_seconds_total"  # the server's garbage collector (services/collector.py)


async def _groups(stack: Stack, redis: Redis) -> dict[str, list[int]]:
    return {
        **await stack.processes(),
        "client": [os.getpid()],
        # Shared with Celery's broker, but not used by it while MODX is measured.
        "redis": [int((await redis.info("server"))["process_id"])],
    }


def _per_step(cpu: dict[str, float], runs: int) -> dict[str, float]:
    """CPU milliseconds per step of each process group, over ``runs`` runs of STEPS steps."""
    return {k: round(1000 * v / (runs * STEPS), 3) for k, v in cpu.items()}


async def _commands(redis: Redis) -> Counter[str]:
    """Calls so far of each Redis command (the whole server's: run under the quiet lock)."""
    stats = await redis.info("commandstats")
    return Counter({name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()})


async def _round(
    stack: Stack, redis: Redis, api: Api, name: str, alone: int, clients: int, pattern: str
) -> dict[str, Any]:
    definition = chain(name, STEPS)
    # CPU of runs alone too: alone, a step costs the server about twice its CPU in a burst
    # (each wake-up of each process is paid for one step, not shared by a batch).
    groups = await _groups(stack, redis)
    before, did = profile.cpu_snapshot(groups), profile.activity_snapshot(groups)
    calls = await _commands(redis)
    modx_alone = latency_summary([await api.run_once(name) for _ in range(alone)])
    calls = await _commands(redis) - calls
    groups = await _groups(stack, redis)
    cpu = profile.cpu_delta(before, profile.cpu_snapshot(groups))
    done = profile.activity_delta(did, profile.activity_snapshot(groups))
    log(f"alone: CPU ms per step {_per_step(cpu, alone)}")
    steps = alone * STEPS
    log(
        "alone: per step, the server's syscalls and wake-ups "
        f"{[round(n / steps, 2) for n in done['server'][:2]]}, Redis commands "
        f"{ {cmd: round(n / steps, 2) for cmd, n in sorted(calls.items()) if n >= steps / 10} }"
    )
    celery_alone = latency_summary(
        [await asyncio.to_thread(celery_chain.run_once, STEPS) for _ in range(alone)]
    )
    groups = await _groups(stack, redis)
    before, did = profile.cpu_snapshot(groups), profile.activity_snapshot(groups)
    gc_before = await api.metric_sum(GC_SECONDS, ADMIN)
    modx_clients = await api.clients(definition, clients, pattern)
    groups = await _groups(stack, redis)
    cpu = profile.cpu_delta(before, profile.cpu_snapshot(groups))
    done = profile.activity_delta(did, profile.activity_snapshot(groups))
    cpu["server_gc"] = await api.metric_sum(GC_SECONDS, ADMIN) - gc_before  # part of the server's
    log(f"clients: {modx_clients['elapsed_s']:.2f} s; CPU ms per step {_per_step(cpu, clients)}")
    steps = clients * STEPS
    log(
        "clients: per step, syscalls and wake-ups "
        f"{ {k: [round(n / steps, 2) for n in v[:2]] for k, v in done.items()} }"
    )
    celery_clients = await asyncio.to_thread(celery_chain.clients, clients, STEPS)
    return {
        "alone_p50_ms": {"modx": modx_alone["p50_ms"], "celery": celery_alone["p50_ms"]},
        "alone_p99_ms": {"modx": modx_alone["p99_ms"], "celery": celery_alone["p99_ms"]},
        "clients_steps_per_s": {
            "modx": modx_clients["steps_per_s"],
            "celery": celery_clients["steps_per_s"],
        },
        "clients_p50_ms": {"modx": modx_clients["p50_ms"], "celery": celery_clients["p50_ms"]},
        "clients_p99_ms": {"modx": modx_clients["p99_ms"], "celery": celery_clients["p99_ms"]},
    }


async def main(args: argparse.Namespace) -> None:
    with log_dir(Path(args.logs) if args.logs else None) as logs:
        async with Stacks(logs) as stacks:
            worker = celery_chain.CeleryWorker(2, logs)
            await asyncio.to_thread(worker.start)
            stacks.on_exit(lambda: asyncio.to_thread(worker.stop))
            stack = await stacks.distributed("hotpath", REDIS_URL, 2)
            for _ in range(args.replicas - 1):
                await stack.add_replica()
            await asyncio.to_thread(worker.wait_ready)
            api = Api(stack.servers)
            if args.token == "issued":
                static, api = api, await api.issued(ADMIN)
                await static.aclose()
            name = "hotpath-chain"
            await api.register(chain(name, STEPS))
            await api.throughput(chain("warm", STEPS), 20)
            await asyncio.to_thread(celery_chain.throughput, 20, STEPS)
            rounds = []
            redis = Redis.from_url(REDIS_URL)
            for index in range(args.rounds):
                found = await _round(
                    stack, redis, api, name, args.alone, args.clients, args.pattern
                )
                log(f"round {index + 1}: {json.dumps(found)}")
                rounds.append(found)
            await redis.aclose()
            if args.profile:
                out = Path(args.profile)
                await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
                sampler = profile.Sampler(stack.server.pid, out / "serve-clients.txt")
                agent = profile.Sampler(stack.agents[0].pid, out / "agent-clients.txt")
                await asyncio.sleep(0.5)
                await api.clients(chain(name, STEPS), args.clients, args.pattern)
                await asyncio.to_thread(sampler.stop)
                await asyncio.to_thread(agent.stop)
                sampler = profile.Sampler(stack.server.pid, out / "serve-alone.txt")
                await asyncio.sleep(0.5)
                for _ in range(args.alone):
                    await api.run_once(name)
                await asyncio.to_thread(sampler.stop)
            await api.aclose()
    summary = {
        key: {who: median(r[key][who] for r in rounds) for who in ("modx", "celery")}
        for key in rounds[0]
    }
    print(json.dumps({"median": summary, "rounds": rounds}, indent=1))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--alone", type=int, default=20)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--pattern", choices=("wait", "stream"), default="wait")
    parser.add_argument("--profile", default="")
    parser.add_argument(
        "--token",
        choices=("static", "issued"),
        default="static",
        help="the clients' token: MODX_API_TOKEN, or one issued by POST /v1/tokens",
    )
    parser.add_argument("--logs", default="")
    asyncio.run(main(parser.parse_args()))
