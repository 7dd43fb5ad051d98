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
