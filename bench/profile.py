"""A py-spy profile of a running process, reduced to what a reader needs.

``Sampler`` attaches ``py-spy record --nonblocking`` to a process (sampling, so the process
barely notices) and writes py-spy's collapsed stacks. ``summarize`` turns them into:

- the share of CPU samples per layer, by the file of the innermost frame (SQLAlchemy, asyncpg,
  redis-py, pydantic, the HTTP stack, the event loop, MODX's own modules...);
- the share per activity, by the outermost MODX function on the stack (result handling,
  outbox relay, run submission, long-polls, sweeps...);
- the top functions by self time and by total (inclusive) time.

Samples only count while a thread runs Python (py-spy skips idle threads), so the shares are
shares of the process's CPU time, not of wall time.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^():]+)(?::(?P<line>\d+))?\)$")

LAYERS: list[tuple[str, str]] = [
    ("sqlalchemy/", "SQLAlchemy"),
    ("asyncpg/", "asyncpg"),
    ("redis/", "redis-py"),
    ("pydantic", "pydantic"),
    ("json/", "json"),
    ("uvicorn/", "HTTP stack (uvicorn, Starlette, FastAPI)"),
    ("starlette/", "HTTP stack (uvicorn, Starlette, FastAPI)"),
    ("fastapi/", "HTTP stack (uvicorn, Starlette, FastAPI)"),
    ("h11/", "HTTP stack (uvicorn, Starlette, FastAPI)"),
    ("httptools", "HTTP stack (uvicorn, Starlette, FastAPI)"),
    ("prometheus_client/", "metrics"),
    ("services/orchestrator/", "MODX orchestrator"),
    ("services/", "MODX services (API, outbox, registry)"),
    ("bus/", "MODX bus"),
    ("asyncio/", "event loop"),
    ("uvloop", "event loop"),
    ("greenlet", "SQLAlchemy"),
    ("logging/", "logging"),
    ("hashlib", "hashing"),
]

ACTIVITIES: list[tuple[str, str]] = [
    ("on_result", "results in (Orchestrator.on_result)"),
    # The loop only: the writer publishes each commit through ``OutboxRelay.publish_committed``.
    ("OutboxRelay.run", "outbox relay (housekeeping)"),
    ("start_run", "POST /v1/runs (create + dispatch first step)"),
    ("wait_run", "GET /v1/runs/{id}/wait"),
    ("list_runs", "GET /v1/runs"),
    ("Orchestrator.sweep", "scheduler sweep"),
    ("sweep_agents", "lease sweep"),
    ("heartbeat", "agent heartbeats"),
    ("RequestMetrics", "HTTP middleware"),
    ("_write_loop", "orchestrator writer (batches of changes)"),
    ("RedisSubscription", "bus consumer loop"),
    ("_jsonb_decoder", "JSONB decoding in asyncpg (caller not on the stack)"),
    ("greenlet_spawn", "SQLAlchemy in a greenlet (caller not on the stack)"),
    ("sqlalchemy/", "SQLAlchemy in a greenlet (caller not on the stack)"),
    ("asyncpg/", "asyncpg protocol callbacks"),
    ("redis/", "redis-py (caller not on the stack)"),
    ("Runner.run", "event loop internals (uvloop, C)"),
]

FOCUS: list[tuple[str, tuple[str, ...]]] = [
    ("Engine.on_message (engine logic)", ("Engine.on_message",)),
    ("the write (persist: one statement per batch)", ("save_if_current", "persist.py")),
    ("runs created through the writer", ("create_run.<locals>.start",)),
    ("publish after commit", ("publish_committed",)),
    ("definition lookup and parsing", ("WorkflowDefinition.model_validate", "_definition (")),
    ("message summaries for the trace", ("message_summary",)),
    ("envelope JSON (to_json)", ("to_json",)),
    ("ledger hashing and signing", ("RunContext.ledger", "chain_hash", "sign_entry")),
    ("JSONB decoding of loaded rows", ("_jsonb_decoder",)),
    ("pool pre-ping on checkout", ("do_ping",)),
    ("new connections (overflow beyond pool_size)", ("connect_utils", "setup_asyncpg_json")),
]
"""Named items on the hot path: the share of samples whose stack has one of the frames."""

IDLE_LEAVES = (
    "Condition.wait",
    "Queue.get",
    "_wait_for_tstate_lock",
    "select (selectors",
    "Event.wait (threading",
)
"""Leaf frames of threads that wait (thread pools): not CPU, left out."""


def py_spy() -> str | None:
    """The py-spy executable, next to this Python or on PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


class Sampler:
    """py-spy attached to one process until ``stop``."""

    def __init__(self, pid: int, output: Path, rate: int = 250) -> None:
        self.output = output
        executable = py_spy()
        if executable is None:
            raise FileNotFoundError("py-spy is not installed (pip install py-spy)")
        self.proc = subprocess.Popen(
            [
                executable,
                "record",
                "--pid",
                str(pid),
                "--rate",
                str(rate),
                "--format",
                "raw",
                "--nonblocking",
                "--output",
                str(output),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def stop(self) -> Path:
        """Stop sampling; returns the collapsed stacks' path."""
        self.proc.send_signal(signal.SIGINT)
        try:
            _, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        if not self.output.exists():
            raise RuntimeError(f"py-spy wrote nothing: {err.decode(errors='replace')[-500:]}")
        return self.output


def _frame(text: str) -> tuple[str, str]:
    match = FRAME.match(text)
    if match is None:
        return text, ""
    return match["func"], match["file"]


def _layer(path: str) -> str:
    for needle, name in LAYERS:
        if needle in path:
            return name
    return "other"


def read_stacks(
    path: Path, skip: tuple[str, ...] = ("_find_and_load", "alembic")
) -> Counter[tuple[str, ...]]:
    """Collapsed stacks and their sample counts; stacks of start-up work are left out."""
    stacks: Counter[tuple[str, ...]] = Counter()
    for line in path.read_text().splitlines():
        body, _, count = line.rpartition(" ")
        if not body or not count.isdigit():
            continue
        if any(word in body for word in skip) or body.split(";")[-1].startswith(IDLE_LEAVES):
            continue
        stacks[tuple(body.split(";"))] += int(count)
    return stacks


def summarize(stacks: Counter[tuple[str, ...]], top: int = 20) -> dict[str, Any]:
    """Layers, activities and top functions (shares in percent of all samples)."""
    total = sum(stacks.values())
    if not total:
        return {
            "samples": 0,
            "layers": {},
            "activities": {},
            "focus": {},
            "top_self": [],
            "top_total": [],
        }
    layers: Counter[str] = Counter()
    activities: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    total_time: Counter[str] = Counter()
    for stack, count in stacks.items():
        frames = [_frame(f) for f in stack]
        func, file = frames[-1]
        layers[_layer(file)] += count
        self_time[f"{func} ({file})"] += count
        for key in {f"{fn} ({fl})" for fn, fl in frames}:
            total_time[key] += count
        activities[_activity(stack)] += count

    def shares(counter: Counter[str]) -> dict[str, float]:
        return {k: round(100 * v / total, 1) for k, v in counter.most_common()}

    def ranked(counter: Counter[str]) -> list[dict[str, Any]]:
        return [
            {"function": k, "percent": round(100 * v / total, 1)}
            for k, v in counter.most_common(top)
        ]

    interesting = Counter({k: v for k, v in total_time.items() if not _boring(k)})
    focus = {
        label: round(
            100
            * sum(c for st, c in stacks.items() if any(n in f for f in st for n in needles))
            / total,
            1,
        )
        for label, needles in FOCUS
    }
    return {
        "samples": total,
        "layers": shares(layers),
        "activities": shares(activities),
        "focus": focus,
        "top_self": ranked(self_time),
        "top_total": ranked(interesting),
    }


def _activity(stack: tuple[str, ...]) -> str:
    """The first activity whose needle is in the stack (needles in order of priority)."""
    for needle, name in ACTIVITIES:
        if any(needle in frame for frame in stack):
            return name
    return "other"


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (0.0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def children(pid: int) -> list[int]:
    """The direct children of a process (from /proc: a prefork worker's pool)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            found.append(int(entry.name))
    return found


CpuSnapshot = dict[str, dict[int, float]]


def cpu_snapshot(groups: dict[str, list[int]]) -> CpuSnapshot:
    """CPU seconds so far of every process, by group."""
    return {name: {pid: cpu_seconds(pid) for pid in pids} for name, pids in groups.items()}


def cpu_delta(before: CpuSnapshot, after: CpuSnapshot) -> dict[str, float]:
    """CPU seconds each group used between two snapshots.

    A process that exited in between is lost (so a group's figure is a lower bound); one that
    appeared in between counts from its start.
    """
    return {
        name: sum(cpu - before.get(name, {}).get(pid, 0.0) for pid, cpu in pids.items())
        for name, pids in after.items()
    }


ACTIVITY = ("syscalls", "wakeups", "preempted", "queued_ms")
"""What a process did, counted rather than timed: read and write system calls
(``/proc/PID/io``), voluntary context switches (it blocked, then was woken), involuntary ones
(the scheduler took the CPU from it), and the milliseconds it was runnable but waited for a CPU
(``/proc/PID/schedstat``). The first three do not grow when processes merely share CPUs, the
last does: beside CPU time they tell more work from the same work run slower."""

Activity = tuple[float, ...]
NO_ACTIVITY: Activity = (0.0,) * len(ACTIVITY)


def activity(pid: int) -> Activity:
    """A process's ``ACTIVITY`` so far (zeros when it is gone or unreadable)."""
    try:
        io = Path(f"/proc/{pid}/io").read_text().split()
        status = Path(f"/proc/{pid}/status").read_text().split()
        queued_ns = int(Path(f"/proc/{pid}/schedstat").read_text().split()[1])
    except OSError:
        return NO_ACTIVITY
    return (
        float(int(io[io.index("syscr:") + 1]) + int(io[io.index("syscw:") + 1])),
        float(status[status.index("voluntary_ctxt_switches:") + 1]),
        float(status[status.index("nonvoluntary_ctxt_switches:") + 1]),
        queued_ns / 1e6,
    )


ActivitySnapshot = dict[str, dict[int, Activity]]


def activity_snapshot(groups: dict[str, list[int]]) -> ActivitySnapshot:
    """``activity`` of every process so far, by group."""
    return {name: {pid: activity(pid) for pid in pids} for name, pids in groups.items()}


def activity_delta(before: ActivitySnapshot, after: ActivitySnapshot) -> dict[str, Activity]:
    """Each group's ``ACTIVITY`` between two snapshots (counted as ``cpu_delta`` counts)."""
    delta: dict[str, Activity] = {}
    for name, pids in after.items():
        sums = [0.0] * len(ACTIVITY)
        for pid, counts in pids.items():
            start = before.get(name, {}).get(pid, NO_ACTIVITY)
            for i, (now, then) in enumerate(zip(counts, start, strict=True)):
                sums[i] += now - then
        delta[name] = tuple(sums)
    return delta


def _boring(key: str) -> bool:
    """Frames every stack has (the event loop, uvicorn's entry points): no information."""
    return any(
        word in key
        for word in (
            "<module>",
            "run_forever",
            "_run_once",
            "Handle._run",
            "asyncio/runners.py",
            "uvicorn/main.py",
            "uvicorn/server.py",
            "typer/",
            "click/",
            "services/cli/main.py",
            "runpy",
            "uvicorn/_compat.py",
            "deprecations.py",
            "<sqlalchemy generated",
            "state_changes.py",
            "engine/util.py",
        )
    )
