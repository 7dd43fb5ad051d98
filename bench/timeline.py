"""A timeline of one step across the processes, from the outside.

``python -m bench.timeline [--runs N]``: one ``modx serve`` on PostgreSQL + Redis with one
``numbers`` agent; N 10-step runs of no-op steps, one at a time, while Redis ``MONITOR``
records every command with its time (microseconds, the same clock as the server's). For each
step it lines up:

- ``scheduled``: the step's ``scheduled_at`` (the engine's clock for the batch that dispatched
  it, before that batch's statement);
- ``task out``: the server's ``XADD`` of the task (after the commit);
- ``result out``: the agent's ``XADD`` of its result to ``modx.results``;
- ``recorded``: the step's ``finished_at`` (the clock of the batch that recorded the result,
  after the result was read, checked and queued for the writer);
- ``next task out``: the ``XADD`` of the next step's task (that batch committed).

and reports the median and p90 of each interval. MONITOR slows Redis a little; the figures are
for reading where the time goes, not for the README's latency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from typing import Any

import asyncpg
from redis import Redis

from bench.harness import log, percentile
from bench.stack import REDIS_URL, Stacks, asyncpg_dsn, log_dir
from bench.workload import Api, chain

STEPS = 10


def _monitor(url: str, seen: list[tuple[float, str, str]], stop: threading.Event) -> None:
    client = Redis.from_url(url)
    db = int(url.rsplit("/", 1)[1])
    with client.monitor() as monitor:  # type: ignore[no-untyped-call]
        for command in monitor.listen():
            if stop.is_set():
                return
            if int(command.get("db", -1)) != db:
                continue
            text = str(command["command"])
            if text.startswith(("XADD", "EVALSHA", "EVAL ")) and "modx." in text:
                stream = "tasks" if "modx.tasks." in text else "results"
                seen.append((float(command["time"]), stream, text))


async def _steps(database_url: str, run_ids: list[str]) -> list[Any]:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        return list(
            await conn.fetch(
                "SELECT run_id, step_id, task_id, scheduled_at, finished_at FROM steps "
                "WHERE run_id = ANY($1::text[]) ORDER BY run_id, scheduled_at",
                run_ids,
            )
        )
    finally:
        await conn.close()


def _intervals(steps: list[Any], xadds: list[tuple[float, str, str]]) -> dict[str, list[float]]:
    tasks: dict[str, float] = {}
    results: dict[str, float] = {}
    for at, stream, text in xadds:
        if stream == "tasks":
            for step in steps:
                if step["task_id"] and step["task_id"] in text:
                    tasks.setdefault(step["task_id"], at)
        else:
            for step in steps:
                if step["task_id"] and step["task_id"] in text:
                    results.setdefault(step["task_id"], at)
    out: dict[str, list[float]] = {
        "scheduled -> task out (statement, commit, publish)": [],
        "task out -> result out (bus hop, agent, bus publish)": [],
        "result out -> recorded (server reads, checks, queues, batch starts)": [],
        "recorded -> next task out (apply, statement, commit, publish)": [],
        "step total (task out -> next task out)": [],
    }
    by_run: dict[str, list[Any]] = {}
    for step in steps:
        by_run.setdefault(step["run_id"], []).append(step)
    for run_steps in by_run.values():
        for step, following in zip(run_steps, [*run_steps[1:], None], strict=True):
            task = tasks.get(step["task_id"])
            result = results.get(step["task_id"])
            if task is None or result is None:
                continue
            scheduled = step["scheduled_at"].replace(tzinfo=UTC).timestamp()
            recorded = step["finished_at"].replace(tzinfo=UTC).timestamp()
            out["scheduled -> task out (statement, commit, publish)"].append(task - scheduled)
            out["task out -> result out (bus hop, agent, bus publish)"].append(result - task)
            out["result out -> recorded (server reads, checks, queues, batch starts)"].append(
                recorded - result
            )
            following_task = tasks.get(following["task_id"]) if following is not None else None
            if following_task is not None:
                out["recorded -> next task out (apply, statement, commit, publish)"].append(
                    following_task - recorded
                )
                out["step total (task out -> next task out)"].append(following_task - task)
    return out


async def main(args: argparse.Namespace) -> None:
    with log_dir(Path(args.logs) if args.logs else None) as logs:
        async with Stacks(logs) as stacks:
            stack = await stacks.distributed("timeline", REDIS_URL, 1)
            assert stack.database_url is not None
            api = Api(stack.servers)
            name = "timeline-chain"
            await api.register(chain(name, STEPS))
            for _ in range(5):
                await api.run_once(name)
            seen: list[tuple[float, str, str]] = []
            stop = threading.Event()
            thread = threading.Thread(target=_monitor, args=(REDIS_URL, seen, stop), daemon=True)
            thread.start()
            await asyncio.sleep(0.5)
            run_ids = []
            for _ in range(args.runs):
                response = await api.client.post("/v1/runs", json={"workflow": name, "input": {}})
                run_id = response.json()["run_id"]
                await api.wait(run_id)
                run_ids.append(run_id)
            stop.set()
            await api.run_once(name)  # one more command wakes the monitor thread
            thread.join(5)
            steps = await _steps(stack.database_url, run_ids)
            await api.aclose()
    intervals = _intervals(steps, seen)
    report = {
        name: {
            "p50_ms": round(1000 * median(values), 3),
            "p90_ms": round(1000 * percentile(values, 0.9), 3),
            "n": len(values),
        }
        for name, values in intervals.items()
        if values
    }
    log(f"{len(seen)} XADDs seen at {datetime.now(UTC).isoformat()}")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--logs", default="")
    asyncio.run(main(parser.parse_args()))
