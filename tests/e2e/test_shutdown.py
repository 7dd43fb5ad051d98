"""Ctrl-C stops ``modx serve`` and ``modx up`` even while clients hold connections open (a
long poll here; live views alike): they are not waited for, the process exits."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from services.ledger.keys import create_key_file
from tests.fixtures.services import free_port, wait_until
from tests.fixtures.stack import ADMIN, REPO, TOKEN, Stack

WAITING = {"name": "waits", "steps": [{"id": "a", "capability": "test.nobody", "input": {}}]}


def launch(
    command: list[str], env: dict[str, str], port: int, tmp: Path
) -> subprocess.Popen[bytes]:
    """``modx COMMAND --port PORT`` as its own process, its output in ``tmp/server.log``."""
    log = open(tmp / "server.log", "ab")  # noqa: SIM115 - lives with the process
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli.main", *command, "--port", str(port)],
        cwd=REPO,
        env={**env, "PYTHONPATH": str(REPO)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )


async def interrupt_during_a_long_poll(
    command: list[str], env: dict[str, str], token: str, tmp: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = launch(command, env, port, tmp)
    try:
        headers = {"authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=400) as client:

            async def ready() -> bool:
                try:
                    return (await client.get("/readyz")).status_code == 200
                except httpx.HTTPError:
                    return False

            await wait_until(ready, timeout=120)
            response = await client.post("/v1/runs", json={"workflow": WAITING})
            run_id = response.json()["run_id"]
            # Nobody serves the step: this request would hold the connection for 300 s.
            poll = asyncio.create_task(client.get(f"/v1/runs/{run_id}/wait?timeout_s=300"))
            await asyncio.sleep(0)
            proc.send_signal(signal.SIGINT)
            await wait_until(lambda: proc.poll() is not None, timeout=60)
            poll.cancel()
            await asyncio.gather(poll, return_exceptions=True)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert proc.returncode is not None


@pytest.mark.redis
@pytest.mark.postgres
async def test_ctrl_c_stops_modx_serve_with_a_long_poll_open(
    postgres_migrated_url: str, redis_url: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "MODX_DATABASE_URL": postgres_migrated_url,
        "MODX_REDIS_URL": redis_url,
        "MODX_API_TOKEN": TOKEN,
        "MODX_ADMIN_TOKEN": ADMIN,
        "MODX_LEDGER_KEY_FILE": str(tmp_path / "ledger.key"),
        "MODX_DATA_DIR": str(tmp_path / ".modx"),  # its ledger checkpoints stay the test's own
    }
    create_key_file(tmp_path / "ledger.key")
    await interrupt_during_a_long_poll(["serve", "--host", "127.0.0.1"], env, TOKEN, tmp_path)


@pytest.mark.prolog
async def test_ctrl_c_stops_modx_up_with_a_long_poll_open(tmp_path: Path, swipl: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODX_")}
    data = tmp_path / ".modx"
    data.mkdir()
    (data / "token").write_text(ADMIN + "\n")  # ``modx up`` uses the token it finds there
    (data / "token").chmod(0o600)
    await interrupt_during_a_long_poll(
        ["up", "--no-demo", "--data-dir", str(data)], env, ADMIN, tmp_path
    )


async def test_an_agent_process_stopped_with_the_stack_deregisters_and_exits(
    stack: Stack,
) -> None:
    """``Stack.close`` sends SIGTERM and waits while its server, in this process, still
    answers: the agent says goodbye and exits 0 (it was killed after 10 s while the wait
    blocked the server's event loop)."""
    agent = stack.process("bus", "squares")
    await stack.wait_agent("squares")
    await stack.close()
    assert agent.returncode == 0
    online = await stack.client.get("/v1/agents", params={"name": "squares", "status": "online"})
    assert online.json() == []
