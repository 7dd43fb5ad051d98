"""The Celery 5 baseline: a chain of no-op tasks, Redis as broker and result backend.

The worker is ``celery -A bench.celery_chain worker --pool=prefork --concurrency=N`` (N = the
number of MODX agent processes it is compared with), with Celery's defaults otherwise
(prefetch multiplier 4, early acknowledgement) except gossip and mingle, which only slow the
start. Each chain passes the previous task's result to the next, like the MODX chain passes
the previous step's output. Celery keeps no durable history of a chain: results expire from
Redis, and a lost worker loses the task it had prefetched unless ``acks_late`` is set.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from celery import Celery, chain
from celery.result import AsyncResult

from bench.harness import REPO

URL = os.environ.get("MODX_BENCH_CELERY_URL", "redis://127.0.0.1:6379/5")

app = Celery("modx_bench", broker=URL, backend=URL)
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_expires=3600,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


@app.task(name="bench.noop")  # type: ignore[untyped-decorator]
def noop(prev: Any = None) -> dict[str, bool]:
    """Does nothing; returns what a MODX no-op step returns."""
    return {"ok": True}


def signature(steps: int) -> Any:
    """A chain of ``steps`` no-op tasks, each getting the previous result."""
    return chain(noop.s(None), *(noop.s() for _ in range(steps - 1)))


def _done_at(result: AsyncResult) -> float | None:
    value: Any = result.date_done
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return float(value.timestamp())


class CeleryWorker:
    """A prefork worker process of ``bench.celery_chain``."""

    def __init__(self, processes: int, logs: Path) -> None:
        self.processes = processes
        self.logs = logs
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Flush the broker database and start the worker."""
        app.connection_for_write().default_channel.client.flushdb()
        out = open(self.logs / "celery-worker.log", "ab")  # noqa: SIM115 - lives with the process
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "bench.celery_chain",
                "worker",
                "--pool=prefork",
                f"--concurrency={self.processes}",
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"bench-{uuid.uuid4().hex[:6]}@%h",
            ],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO), "MODX_BENCH_CELERY_URL": URL},
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    def pids(self) -> list[int]:
        """The worker's main process and its pool processes."""
        from bench.profile import children

        if self.proc is None:
            return []
        return [self.proc.pid, *children(self.proc.pid)]

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Until a one-task chain comes back."""
        end = time.monotonic() + timeout
        while True:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"the Celery worker exited; see {self.logs}/celery-worker.log")
            try:
                signature(1).apply_async().get(timeout=5)
                return
            except Exception:
                if time.monotonic() > end:
                    raise

    def stop(self) -> None:
        """Warm shutdown, then kill if it lingers; flush the broker database."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        with contextlib.suppress(Exception):
            app.connection_for_write().default_channel.client.flushdb()


def run_once(steps: int) -> float:
    """Seconds from sending one chain to getting its result."""
    started = time.perf_counter()
    signature(steps).apply_async().get(timeout=120)
    return time.perf_counter() - started


def throughput(chains: int, steps: int) -> dict[str, float]:
    """Send ``chains`` chains at once; steps/s until the last one finished."""
    started = time.time()
    results = [signature(steps).apply_async() for _ in range(chains)]
    submitted = time.time() - started
    for result in results:
        result.get(timeout=300)
    waited = time.time()
    done = [t for t in (_done_at(r) for r in results) if t is not None]
    # date_done is stamped by the worker when the last task's result is stored.
    last = max(done) if len(done) == len(results) else waited
    elapsed = last - started
    return {
        "steps_per_s": chains * steps / elapsed,
        "runs_per_s": chains / elapsed,
        "elapsed_s": elapsed,
        "submit_s": submitted,
    }


def clients(count: int, steps: int) -> dict[str, float]:
    """``count`` clients, each in its own thread sending one chain and waiting on its own
    ``AsyncResult``; steps/s until the last one has its result, and each client's latency."""
    from bench.harness import latency_summary

    start = threading.Barrier(count)

    def one() -> float:
        start.wait()
        began = time.perf_counter()
        signature(steps).apply_async().get(timeout=300)
        return time.perf_counter() - began

    with ThreadPoolExecutor(count) as pool:
        started = time.perf_counter()
        latencies = list(pool.map(lambda _: one(), range(count)))
        elapsed = time.perf_counter() - started
    summary = latency_summary(latencies)
    return {
        "steps_per_s": count * steps / elapsed,
        "elapsed_s": elapsed,
        "p50_ms": summary["p50_ms"],
        "p99_ms": summary["p99_ms"],
    }
