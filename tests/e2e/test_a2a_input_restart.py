"""A question of an A2A agent outlives the orchestrator: ``modx serve`` killed (SIGKILL) while a
step waits for the answer, and started again; the answer, sent to the new process, reaches the
same remote task, which completes. On SQLite with the in-process bus and on PostgreSQL with
Redis, with a real A2A agent (tests/interop/a2a_peer.py) in the test process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.ledger.keys import create_key_file
from tests.fixtures.services import free_port, wait_until
from tests.fixtures.stack import ADMIN, REPO, TOKEN
from tests.interop.a2a_peer import QUESTIONS, running_peer

ASK = {
    "name": "ask-once",
    "steps": [{"id": "remote", "capability": "a2a.Tax-Helper.ask", "input": {"rounds": 1}}],
    "output": "$.steps.remote.output",
}


def _serve(port: int, tmp: Path, urls: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODX_")}
    create_key_file(tmp / "ledger.key")
    env |= {
        "MODX_API_TOKEN": TOKEN,
        "MODX_ADMIN_TOKEN": ADMIN,
        "MODX_LEDGER_KEY_FILE": str(tmp / "ledger.key"),
        "MODX_DATA_DIR": str(tmp / ".modx"),
        "MODX_EGRESS_ALLOW": "127.0.0.1",  # the peer listens on loopback
        "PYTHONPATH": str(REPO),
        **urls,
    }
    out = open(tmp / f"server-{len(list(tmp.glob('server-*')))}.log", "wb")  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli.main", "serve", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )


@pytest.fixture
def servers() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


async def _healthy(url: str) -> None:
    async def ok() -> bool:
        try:
            async with httpx.AsyncClient() as client:
                return (await client.get(f"{url}/readyz")).status_code == 200
        except httpx.HTTPError:
            return False

    await wait_until(ok, timeout=90)


@pytest.mark.parametrize("mode", ["embedded", "distributed"])
async def test_a_restart_while_a_step_waits_for_its_answer_keeps_the_conversation(
    mode: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    servers: list[subprocess.Popen[bytes]],
) -> None:
    urls = {}
    if mode == "distributed":
        urls = {
            "MODX_DATABASE_URL": request.getfixturevalue("postgres_url"),
            "MODX_REDIS_URL": request.getfixturevalue("redis_url"),
        }
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    servers.append(_serve(port, tmp_path, urls))
    await _healthy(url)
    headers = {"authorization": f"Bearer {TOKEN}"}
    async with running_peer() as peer:
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
            added = await client.post("/v1/agents/a2a", json={"card_url": peer.card_url})
            assert added.status_code == 201, added.text
            response = await client.post("/v1/runs", json={"workflow": ASK, "input": {}})
            assert response.status_code == 202, response.text
            run_id = response.json()["run_id"]
            run: dict[str, Any] = {}

            async def asked() -> bool:
                run.update((await client.get(f"/v1/runs/{run_id}")).json())
                return "question" in run["steps"][0]["meta"]

            await wait_until(asked, timeout=60)
            remote = run["steps"][0]["meta"]["conversation"]

        servers[0].kill()  # SIGKILL, while the step waits for its answer
        servers[0].wait()
        servers.append(_serve(port, tmp_path, urls))
        await _healthy(url)

        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
            waiting = (await client.get(f"/v1/runs/{run_id}")).json()
            assert waiting["status"] == "running"
            assert waiting["steps"][0]["meta"]["question"]["text"] == QUESTIONS[0]
            sent = await client.post(f"/v1/runs/{run_id}/signals/remote", json={"text": "2025"})
            assert sent.status_code == 202, sent.text
            for _ in range(60):
                wait = await client.get(f"/v1/runs/{run_id}/wait", params={"timeout_s": 5})
                run = wait.json()
                if run["status"] != "running":
                    break
            assert run["status"] == "succeeded", run
            assert run["output"] == {"answers": [{"text": "2025"}], "task_id": remote["task_id"]}
            assert [(a.task_id, a.context_id) for a in peer.answers] == [
                (remote["task_id"], remote["context_id"])
            ]
            assert peer.served.count("ask") == 2  # one remote task: the question, the answer
            assert (await client.get("/v1/ledger/verify")).json()["ok"]
