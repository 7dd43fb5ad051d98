"""A run alone split into what each run costs and what each step costs, beside Celery.

``python -m bench.alone_split [--runs N] [--long L]``: one ``modx serve`` on PostgreSQL + Redis
with 2 ``numbers`` agents, and a 2-process Celery worker. Runs alone of 1 and of ``L`` no-op
steps (``L`` = 10 by default) and Celery chains of the same lengths, interleaved so that the
four series share the machine's moments. From the p50s: a step costs ``(p50(L) - p50(1)) /
(L - 1)``, and a run ``p50(1)`` minus one step (submitting it, its first dispatch, and
answering the client's wait). The issue's target compares the two p50s of ``L`` steps; this
says whether the gap is in the steps or around them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from statistics import median

from bench import celery_chain
from bench.harness import log
from bench.stack import REDIS_URL, Stacks, log_dir
from bench.workload import Api, chain


def split(short_s: list[float], long_s: list[float], steps: int) -> dict[str, float]:
    """p50s of runs of 1 and of ``steps`` steps, the cost of a step and of a run (ms)."""
    short, long = 1000 * median(short_s), 1000 * median(long_s)
    per_step = (long - short) / (steps - 1)
    return {
        "p50_1_ms": round(short, 2),
        f"p50_{steps}_ms": round(long, 2),
        "per_step_ms": round(per_step, 3),
        "per_run_ms": round(short - per_step, 2),
    }


async def main(args: argparse.Namespace) -> None:
    lengths = (1, args.long)
    modx: dict[int, list[float]] = {n: [] for n in lengths}
    celery: dict[int, list[float]] = {n: [] for n in lengths}
    with log_dir(Path(args.logs) if args.logs else None) as logs:
        async with Stacks(logs) as stacks:
            worker = celery_chain.CeleryWorker(2, logs)
            await asyncio.to_thread(worker.start)
            stacks.on_exit(lambda: asyncio.to_thread(worker.stop))
            stack = await stacks.distributed("alone-split", REDIS_URL, 2)
            await asyncio.to_thread(worker.wait_ready)
            api = Api(stack.servers)
            for n in lengths:
                await api.register(chain(f"split-{n}", n))
            for index in range(10 + args.runs):  # the first 10 warm both up, not counted
                for n in lengths:
                    took = await api.run_once(f"split-{n}")
                    chained = await asyncio.to_thread(celery_chain.run_once, n)
                    if index >= 10:
                        modx[n].append(took)
                        celery[n].append(chained)
            await api.aclose()
    found = {
        "modx": split(modx[1], modx[args.long], args.long),
        "celery": split(celery[1], celery[args.long], args.long),
    }
    log(f"{args.runs} runs of each length, each side")
    print(json.dumps(found, indent=1))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--long", type=int, default=10)
    parser.add_argument("--logs", default="")
    asyncio.run(main(parser.parse_args()))
