"""Registering an A2A agent (or an MCP server) again under its name, after its card or tools
changed: the 409 says to remove it first and how, and ``modx agent remove NAME`` does (with an
admin token). Before, the 409 spoke of a key and a proof such an agent does not have, and the
CLI had no way to remove an agent."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.fixtures.stack import ADMIN, Stack
from tests.interop.a2a_peer import running_peer

ROOT = str(Path(__file__).resolve().parents[2])


async def _cli(stack: Stack, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "MODX_URL": stack.url, "MODX_API_TOKEN": ADMIN, "PYTHONPATH": ROOT}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli.main",
        *args,
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_an_a2a_agent_is_removed_and_registered_again(stack: Stack) -> None:
    async with running_peer() as peer:
        code, _, err = await _cli(stack, "agent", "add-a2a", peer.card_url, "--name", "helper")
        assert code == 0, err
        code, _, err = await _cli(stack, "agent", "add-a2a", peer.card_url, "--name", "helper")
        assert code == 2
        lines = err.splitlines()
        assert lines[0].startswith("error: 409 $.name: agent name 'helper' is held"), err
        assert "remove it first: `modx agent remove helper`" in lines[0]
        assert "Traceback" not in err

        code, out, err = await _cli(stack, "agent", "remove", "helper")
        assert code == 0, err
        assert out.startswith("removing helper (")
        listed = (await stack.client.get("/v1/agents", params={"name": "helper"})).json()
        assert all(agent["status"] != "online" for agent in listed), listed

        code, _, err = await _cli(stack, "agent", "add-a2a", peer.card_url, "--name", "helper")
        assert code == 0, err
    code, _, err = await _cli(stack, "agent", "remove", "nobody")
    assert code == 5 and err.splitlines()[0] == "error: no agent named 'nobody'", err
