"""The harness: repeats, statistics, progress on stderr, the machine, and the result files.

Every benchmark returns a plain dict (its ``results``); ``write_outputs`` wraps it with the
machine, the load average and the configuration, and writes ``<date>-<name>.json``, a
Markdown table (``.md``) and a matplotlib chart (``.png``) next to each other.

A measured figure is a list of per-repeat values summarized by ``summarize``: the median, the
min-max and the interquartile range, and the values themselves.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO / "bench" / "results"

_started = time.monotonic()


def log(message: str) -> None:
    """One progress line on stderr, prefixed by the seconds since the harness started."""
    print(f"[{time.monotonic() - _started:7.1f}s] {message}", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (q in [0, 1]) by linear interpolation; 0.0 for no values."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = (len(ordered) - 1) * q
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def summarize(values: Sequence[float], digits: int = 4) -> dict[str, Any]:
    """Median, min, max, quartiles and the values of one figure's repeats."""
    data = [float(v) for v in values]
    if not data:
        return {
            "median": None,
            "min": None,
            "max": None,
            "q1": None,
            "q3": None,
            "n": 0,
            "values": [],
        }
    return {
        "median": round(statistics.median(data), digits),
        "min": round(min(data), digits),
        "max": round(max(data), digits),
        "q1": round(percentile(data, 0.25), digits),
        "q3": round(percentile(data, 0.75), digits),
        "n": len(data),
        "values": [round(v, digits) for v in data],
    }


def latency_summary(samples_s: Sequence[float]) -> dict[str, float]:
    """p50, p99, mean and max of one repeat's latency samples, in milliseconds."""
    ms = [s * 1000 for s in samples_s]
    return {
        "p50_ms": percentile(ms, 0.5),
        "p99_ms": percentile(ms, 0.99),
        "mean_ms": statistics.fmean(ms) if ms else 0.0,
        "max_ms": max(ms) if ms else 0.0,
        "samples": len(ms),
    }


@dataclass
class Series:
    """Per-repeat values of several named figures, summarized at the end."""

    values: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, value: float) -> None:
        """Record one repeat's value of ``name``."""
        self.values.setdefault(name, []).append(value)

    def add_all(self, figures: dict[str, float], prefix: str = "") -> None:
        """Record one repeat of several figures at once."""
        for name, value in figures.items():
            self.add(prefix + name, value)

    def summary(self) -> dict[str, dict[str, Any]]:
        """Every figure summarized."""
        return {name: summarize(values) for name, values in self.values.items()}


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    return [round(x, 2) for x in os.getloadavg()]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def machine_info() -> dict[str, Any]:
    """What the figures were measured on."""
    from importlib import metadata

    versions: dict[str, str | None] = {}
    for package in ("redis", "sqlalchemy", "asyncpg", "celery", "uvicorn", "pydantic"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cpus": len(os.sched_getaffinity(0)),
        "cpu_model": _cpu_model(),
        "memory_gib": _memory_gib(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "packages": versions,
    }


def result_paths(out_dir: Path, name: str, day: dt.date | None = None) -> dict[str, Path]:
    """The JSON, Markdown and PNG paths of one benchmark's results."""
    stem = f"{(day or dt.date.today()).isoformat()}-{name}"
    return {ext: out_dir / f"{stem}.{ext}" for ext in ("json", "md", "png")}


def envelope(
    name: str,
    config: dict[str, Any],
    results: dict[str, Any],
    load_before: list[float],
    started: float,
    notes: list[str] | None = None,
) -> dict[str, Any]:
    """A benchmark's results with what is needed to read them later."""
    return {
        "benchmark": name,
        "date": dt.date.today().isoformat(),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - started, 1),
        "machine": machine_info(),
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "config": config,
        "notes": notes or [],
        "results": results,
    }


def write_outputs(out_dir: Path, data: dict[str, Any]) -> dict[str, Path]:
    """Write the JSON, the Markdown table and the chart of one benchmark's results."""
    from bench import report

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = result_paths(out_dir, data["benchmark"], dt.date.fromisoformat(data["date"]))
    paths["json"].write_text(json.dumps(data, indent=2, default=str) + "\n")
    paths["md"].write_text(report.markdown(data))
    report.chart(data, paths["png"])
    return paths
