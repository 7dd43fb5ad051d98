"""``modx agent run --url`` reaches the server it names, as every other command's ``--url``."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.fixtures.stack import REPO, TOKEN, running_stack


async def test_agent_run_takes_the_server_from_url(tmp_path: Path) -> None:
    async with running_stack("embedded", tmp_path, None, None) as stack:
        base = {k: v for k, v in os.environ.items() if not k.startswith("MODX_")}
        env = {
            **base,
            "PYTHONPATH": str(REPO),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),  # no state of a `modx up` to fall back on
            "MODX_API_TOKEN": TOKEN,
            "MODX_AGENT_KEY_DIR": str(tmp_path / "keys"),
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "services.cli.main",
            "agent",
            "run",
            "tests.e2e.fleet:squares",
            "--url",
            stack.url,
            cwd=tmp_path,
            env=env,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            found = await stack.wait_agent("squares")
        finally:
            if proc.returncode is None:  # an agent that refused its options has exited
                proc.send_signal(signal.SIGINT)
            _, err = await proc.communicate()
    assert [a["status"] for a in found] == ["online"], err.decode()
    assert proc.returncode == 0, err.decode()
