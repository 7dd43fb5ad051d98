"""``modx bench all --quick`` end to end: every benchmark runs and writes its three files.

A smoke test of the harness, not of speed: nothing here looks at a timing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.fixtures.services import POSTGRES_URL, REDIS_URL, missing, port_open

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.timeout(660)]

REPO = Path(__file__).resolve().parents[2]
BENCHMARKS = ("bus", "orchestrator", "scaling", "legal")
# Redis databases of the smoke run: apart from the tests' (15) and a full benchmark run's (7-5).
SMOKE_DBS = (4, 3, 2)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _environment() -> dict[str, str]:
    redis = urlparse(REDIS_URL)
    base = f"redis://{redis.hostname or '127.0.0.1'}:{redis.port or 6379}"
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "MODX_BENCH_POSTGRES_URL": POSTGRES_URL.replace("+asyncpg", ""),
        "MODX_BENCH_REDIS_URL": f"{base}/{SMOKE_DBS[0]}",
        "MODX_BENCH_REDIS_URL_2": f"{base}/{SMOKE_DBS[1]}",
        "MODX_BENCH_CELERY_URL": f"{base}/{SMOKE_DBS[2]}",
    }


def _need_servers() -> None:
    if not port_open(REDIS_URL, 6379):
        missing(f"Redis at {REDIS_URL}")
    if not port_open(POSTGRES_URL.replace("+asyncpg", ""), 5432):
        missing(f"PostgreSQL at {POSTGRES_URL}")


def _bench(command: list[str], tmp_path: Path) -> subprocess.CompletedProcess[bytes]:
    """``modx`` + ``command`` against the smoke test's own Redis databases, its logs kept."""
    return subprocess.run(
        [sys.executable, "-m", "services.cli.main", *command, "--logs", str(tmp_path / "logs")],
        cwd=REPO,
        env=_environment(),
        capture_output=True,
        timeout=600,  # a hang guard, not a speed check
    )


def test_bench_all_quick_writes_json_markdown_and_png(tmp_path: Path) -> None:
    _need_servers()
    if shutil.which("swipl") is None:
        missing("SWI-Prolog (swipl), for the legal benchmark")
    out = tmp_path / "results"

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "services.cli.main",
            "bench",
            "all",
            "--quick",
            "--json",
            "--out",
            str(out),
            "--logs",
            str(tmp_path / "logs"),
        ],
        cwd=REPO,
        env=_environment(),
        capture_output=True,
        timeout=600,  # a hang guard, not a speed check: the quick run takes ~2 min alone
    )

    assert done.returncode == 0, done.stderr.decode(errors="replace")[-4000:]
    printed = json.loads(done.stdout)
    assert set(printed) == set(BENCHMARKS)
    for name in BENCHMARKS:
        [json_path] = out.glob(f"????-??-??-{name}.json")
        data = json.loads(json_path.read_text())
        assert data["benchmark"] == name
        assert "error" not in data["results"], data["results"]
        assert data["results"]["figures"], name
        assert data["machine"]["cpus"] >= 1 and len(data["load_average_before"]) == 3
        markdown = json_path.with_suffix(".md").read_text()
        assert markdown.startswith("## ") and "|---|" in markdown
        png = json_path.with_suffix(".png").read_bytes()
        assert png.startswith(PNG_SIGNATURE) and len(png) > 10_000


def test_bench_replicas_quick_measures_cpu_per_step_by_replica_count(tmp_path: Path) -> None:
    _need_servers()
    out = tmp_path / "results"
    command = ["bench", "replicas", "--quick", "--json", "--out", str(out)]
    done = _bench(command, tmp_path)

    assert done.returncode == 0, done.stderr.decode(errors="replace")[-4000:]
    results = json.loads(done.stdout)["replicas"]["results"]
    figures = results["figures"]
    for count in (1, 2):
        for group in ("server", "agents", "postgres", "total"):
            assert figures[f"replicas.{count}.cpu_per_step.{group}_ms"]["median"] > 0
        assert figures[f"replicas.{count}.idle_cpu.server_ms_per_s"]["median"] > 0
        assert f"replicas.{count}.marginal_per_step.total_ms" in figures
        # What the processes did per step, counted: work (system calls, wake-ups) apart from
        # sharing the CPUs (preempted, waiting for a CPU); and the replicas' collector time.
        for group in ("server", "agents", "postgres"):
            assert figures[f"replicas.{count}.per_step.{group}_syscalls"]["median"] > 0
            assert figures[f"replicas.{count}.per_step.{group}_wakeups"]["median"] > 0
            assert f"replicas.{count}.per_step.{group}_preempted" in figures
            assert f"replicas.{count}.per_step.{group}_queued_ms" in figures
        assert f"replicas.{count}.gc_s_per_step" in figures
    # One replica owns every run: it forwards nothing. With two, agents answer to the owner's
    # partition stream (reply_to): next to nothing is passed on (about half was, before).
    assert figures["replicas.1.forwarded_per_step"]["max"] == 0
    assert figures["replicas.2.forwarded_per_step"]["median"] < 0.05
    assert results["cpu_growth"] is not None
    # Down to one again: the second replica gave its partitions back, the first owns all.
    assert figures["replicas.1.again.cpu_per_step.total_ms"]["median"] > 0
    assert figures["replicas.1.again.forwarded_per_step"]["max"] == 0
    [markdown] = out.glob("????-??-??-replicas.md")
    text = markdown.read_text()
    assert "CPU per step from 1 to 2 replicas" in text and "| 1 (again) |" in text


def test_bench_history_quick_measures_both_sizes(tmp_path: Path) -> None:
    _need_servers()
    out = tmp_path / "results"
    command = ["bench", "history", "--quick", "--json", "--out", str(out)]
    done = _bench(command, tmp_path)

    assert done.returncode == 0, done.stderr.decode(errors="replace")[-4000:]
    phases = json.loads(done.stdout)["history"]["results"]["phases"]
    # The history generated into the database: the small one, then ten times as many events.
    assert 10_000 <= phases["small"]["events"] < 20_000
    assert phases["large"]["events"] >= 100_000
    for phase in phases.values():
        for figure in phase["figures"].values():
            assert figure["samples"] >= 5 and figure["p50_ms"] > 0
    [markdown] = out.glob("????-??-??-history.md")
    assert f"{phases['large']['events']:,} events" in markdown.read_text()  # its column


def test_bench_history_measures_a_database_generated_beforehand(tmp_path: Path) -> None:
    """``python -m bench.history generate`` makes a database and keeps it; ``--reuse`` measures
    it as the large side and leaves it; ``drop`` drops it."""
    _need_servers()
    made = subprocess.run(
        [sys.executable, "-m", "bench.history", "generate", "--events", "60000"],
        cwd=REPO,
        env=_environment(),
        capture_output=True,
        timeout=600,
    )
    assert made.returncode == 0, made.stderr.decode(errors="replace")[-4000:]
    name = made.stdout.decode().strip()
    assert name.startswith("modx_bench_history_")
    try:
        out = tmp_path / "results"
        command = ["bench", "history", "--quick", "--json", "--reuse", name, "--out", str(out)]
        done = _bench(command, tmp_path)
        assert done.returncode == 0, done.stderr.decode(errors="replace")[-4000:]
        results = json.loads(done.stdout)["history"]["results"]
        assert results["phases"]["large"]["events"] == 60_000  # the generated one, as it was
        assert results["generation_s"]["large"] is None
        [markdown] = out.glob("????-??-??-history.md")
        assert f"generated beforehand (`python -m bench.history generate`: {name})" in (
            markdown.read_text()
        )
    finally:
        dropped = subprocess.run(
            [sys.executable, "-m", "bench.history", "drop", name],
            cwd=REPO,
            env=_environment(),
            capture_output=True,
            timeout=120,
        )
    assert dropped.returncode == 0, dropped.stderr.decode(errors="replace")[-4000:]
    refused = _bench(["bench", "history", "--reuse", "postgres"], tmp_path)
    assert refused.returncode == 2 and b"--reuse" in refused.stderr
