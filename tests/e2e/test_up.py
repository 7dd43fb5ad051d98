"""``modx up``, the README's main command: embedded MODX, built-in agents, and the demo."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.services import free_port
from tests.fixtures.stack import REPO

pytestmark = pytest.mark.prolog


def test_modx_up_serves_the_demo_and_exits_cleanly(tmp_path: Path, swipl: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODX_")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")  # where `modx up` records itself
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "services.cli.main",
            "up",
            "--port",
            str(free_port()),
            "--data-dir",
            str(tmp_path / ".modx"),
            "--exit-after-demo",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "MODX is running (embedded)" in out and "/dashboard" in out
    assert "Answer: $13543" in out  # the demo case's answer, worked out by hand from the statutes
    question = "  How much tax does Maria have to pay in 2018?\n"
    assert question in out and "13543" not in out[: out.index("Answer:")]  # no spoiler
    assert "(worked out by hand from the statutes: $13543)" in out
    assert "§63(c)" in out  # ...with an explanation that cites what it used
    token = (tmp_path / ".modx" / "token").read_text().strip()
    assert len(token) >= 16 and oct((tmp_path / ".modx" / "token").stat().st_mode)[-3:] == "600"
    assert (tmp_path / ".modx" / "modx.db").exists()
