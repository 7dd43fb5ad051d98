"""The garbage collector's settings of ``modx serve``: set once the server has started."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from services import collector
from services.cli.main import app

REDIS = "redis://127.0.0.1:1/0"  # never reached: uvicorn.run is replaced below


def test_settle_freezes_what_is_alive_and_spaces_young_passes_out() -> None:
    # In a process of its own: freezing is for the whole process.
    code = (
        "import gc; from services import collector; kept = [[i] for i in range(1000)]; "
        "collector.settle(); print(gc.get_freeze_count(), *gc.get_threshold())"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    ).stdout.split()
    frozen, young, middle, old = map(int, out)
    assert frozen > 1000  # the objects alive at the call, the list above among them
    assert (young, middle, old) == (collector.YOUNG_THRESHOLD, 10, 10)


def test_serve_settles_the_collector_once_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda served_app, **_: served.append(served_app))
    env = {"MODX_REDIS_URL": REDIS, "MODX_DATA_DIR": str(tmp_path)}
    env["MODX_INSECURE_LEDGER_KEY"] = "true"
    result = CliRunner().invoke(app, ["serve", "--port", "0"], env=env)
    assert result.exit_code == 0, result.output
    (served_app,) = served
    assert collector.when_ready in served_app.state.on_ready


def test_pass_times_are_counted_by_generation() -> None:
    times = collector.PassTimes()
    times.on_pass("start", {"generation": 2})
    times.on_pass("stop", {"generation": 2, "collected": 0, "uncollectable": 0})
    (family,) = times.collect()
    seconds = {s.labels["generation"]: s.value for s in family.samples if s.name.endswith("_total")}
    assert family.name == "modx_gc_seconds"
    assert seconds["2"] > 0 and seconds["0"] == seconds["1"] == 0


def test_the_server_counts_its_collector_passes_on_metrics() -> None:
    # In a process of its own: the hook changes the collector of the whole process.
    code = (
        "import asyncio, gc; from prometheus_client import generate_latest; "
        "from services import collector; asyncio.run(collector.when_ready(None)); gc.collect(); "
        "print([l for l in generate_latest().decode().splitlines() "
        "if l.startswith('modx_gc_seconds_total{generation=\"2\"}')][0].split()[1])"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    ).stdout
    assert float(out) > 0
