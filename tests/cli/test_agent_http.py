"""``modx agent run --transport http``: the agent serves over HTTP and MODX POSTs it tasks."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.fixtures.services import free_port
from tests.fixtures.stack import REPO, TOKEN, running_stack

MODX = [sys.executable, "-m", "services.cli.main"]
HTTP = ["--transport", "http", "--port"]
DOUBLE = {
    "name": "double-it",
    "steps": [{"id": "d", "capability": "test.double", "input": {"total": "$.input"}}],
    "output": "$.steps.d.output.total",
}


async def test_an_agent_run_with_the_http_transport_gets_its_tasks_over_http(
    tmp_path: Path,
) -> None:
    # As `modx up` does: an embedded server may call agents on this machine.
    async with running_stack("embedded", tmp_path, None, None, egress_allow=["127.0.0.1"]) as stack:
        port = free_port()
        base = {k: v for k, v in os.environ.items() if not k.startswith("MODX_")}
        log = open(tmp_path / "agent.log", "wb")  # noqa: SIM115, ASYNC230 - lives with the process
        agent = subprocess.Popen(  # noqa: ASYNC220 - a process that outlives this call
            [*MODX, "agent", "run", "tests.e2e.fleet:doubler", *HTTP, str(port)],
            cwd=REPO,
            env={**base, "PYTHONPATH": str(REPO), "MODX_URL": stack.url, "MODX_API_TOKEN": TOKEN},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            [card] = await stack.wait_agent("doubler")
            assert card["transport"] == "http"
            assert card["endpoint"] == f"http://127.0.0.1:{port}/task"
            run = await stack.wait(await stack.submit(DOUBLE, 21))
        finally:
            agent.send_signal(signal.SIGINT)
            # In a thread: the server it deregisters from runs on this event loop.
            await asyncio.to_thread(agent.wait, 30)
            log.close()
    assert (run["status"], run["output"]) == ("succeeded", 42), run
    printed = (tmp_path / "agent.log").read_text()
    assert f"serving doubler over HTTP at http://127.0.0.1:{port}/task" in printed, printed
    assert agent.returncode == 0, printed
