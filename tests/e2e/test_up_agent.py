"""The README's first experiment: ``modx up``, then ``modx agent run`` in another shell."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.fixtures.services import free_port, wait_until
from tests.fixtures.stack import REPO

WORKFLOW = {
    "name": "count-up",
    "steps": [
        {"id": "range", "capability": "test.range", "input": {"n": "$.input.n"}},
        {"id": "echo", "capability": "test.noop", "input": {"seen": "$.steps.range.output"}},
    ],
    "output": "$.steps.range.output.items",
}


def _modx(*args: str, env: dict[str, str], log: Path, cwd: Path = REPO) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli.main", *args],
        cwd=cwd,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


async def test_an_sdk_agent_started_by_modx_agent_run_serves_modx_up(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODX_")}
    env["PYTHONPATH"] = str(REPO)
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    port, data = free_port(), tmp_path / ".modx"
    url = f"http://127.0.0.1:{port}"
    server = _modx(
        "up", "--port", str(port), "--data-dir", str(data), "--no-demo",
        env=env, log=tmp_path / "up.log",
    )  # fmt: skip
    agent = None
    try:
        recorded = tmp_path / "config" / "modx" / "state.json"
        await wait_until(lambda: _started(server, url, data) and recorded.exists(), timeout=120)
        token = (data / "token").read_text().strip()
        # `modx up` recorded where it is; `modx agent run` elsewhere, with no MODX_* set, finds it.
        state = json.loads(recorded.read_text())
        assert state["url"] == url and state["token"] == token
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        agent = _modx(
            "agent", "run", "tests.e2e.fleet:numbers",
            env=env, log=tmp_path / "agent.log", cwd=elsewhere,
        )  # fmt: skip
        headers = {"authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:

            async def on_gateway() -> bool:
                found = (await client.get("/v1/agents", params={"name": "numbers"})).json()
                return any(a["status"] == "online" and a["transport"] == "gateway" for a in found)

            await wait_until(on_gateway, timeout=60)
            body = {"workflow": WORKFLOW, "input": {"n": 3}}
            run_id = (await client.post("/v1/runs", json=body)).json()["run_id"]
            run = (await client.get(f"/v1/runs/{run_id}/wait", params={"timeout_s": 60})).json()
        assert run["status"] == "succeeded", run
        assert run["output"] == [0, 1, 2]
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(30) == 0
        log = (tmp_path / "agent.log").read_text()
        assert "taking tasks through the server's gateway" in log
        # what the agent says, not a line per HTTP request (its registration, each heartbeat)
        assert "HTTP Request:" not in log, log
        banner = (tmp_path / "up.log").read_text()
        assert f"export MODX_URL={url}" in banner and "export MODX_API_TOKEN=$(cat " in banner
    finally:
        for proc in (agent, server):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()


def _started(server: subprocess.Popen[bytes], url: str, data: Path) -> bool:
    assert server.poll() is None, "modx up exited; see up.log"
    return (data / "token").exists() and _answers(url)


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
