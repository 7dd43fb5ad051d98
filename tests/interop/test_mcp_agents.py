"""MCP servers as MODX agents: a real MCP SDK server (tests/interop/mcp_peer.py), over stdio
and streamable HTTP, registered with ``POST /v1/agents/mcp``; its tools serve steps, on
PostgreSQL + Redis and embedded."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.dashboard import auth
from services.egress import EgressPolicy
from services.interop.mcp_client import McpConnection, next_request_id
from services.orchestrator.remote.mcp import McpDelivery
from services.registry.schemas import McpServer
from tests.e2e.fleet import squares
from tests.fixtures.services import free_port, wait_until
from tests.fixtures.stack import ADMIN, Stack

PEER = [sys.executable, "-m", "tests.interop.mcp_peer"]
ROOT = str(Path(__file__).resolve().parents[2])


def stdio(*flags: str) -> dict[str, Any]:
    """A registration body for the peer over stdio."""
    return {"command": [*PEER, "stdio", *flags], "env": {"PYTHONPATH": ROOT}, "cwd": ROOT}


@pytest.fixture
def http_peer() -> Iterator[str]:
    """The peer over streamable HTTP, in a process of its own; its URL."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": ROOT}
    proc = subprocess.Popen([*PEER, "http", str(port)], env=env, cwd=ROOT)
    try:
        asyncio.run(_wait_listening(port))
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(10)


async def _wait_listening(port: int) -> None:
    async def up() -> bool:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return False
        writer.close()
        return True

    await wait_until(up, timeout=60)


def admin(stack: Stack) -> dict[str, str]:
    return {"authorization": f"Bearer {ADMIN}"}


async def register(
    stack: Stack, name: str, body: dict[str, Any], admin_token: bool = True
) -> httpx.Response:
    headers = admin(stack) if admin_token else None
    return await stack.client.post("/v1/agents/mcp", json={"name": name, **body}, headers=headers)


@pytest.fixture
async def peers(stack: Stack, http_peer: str) -> AsyncIterator[Stack]:
    """The stack with the peer registered twice: ``calc`` over stdio, ``web`` over HTTP."""
    for name, body in (("calc", stdio()), ("web", {"url": http_peer})):
        response = await register(stack, name, body)
        assert response.status_code == 201, response.text
    yield stack


async def test_each_tool_becomes_a_capability_with_its_schemas(peers: Stack) -> None:
    response = await peers.client.get("/v1/capabilities", params={"q": "sum of two integers"})
    caps = {c["name"]: c for c in response.json()["items"]}
    assert {"mcp.calc.add", "mcp.web.add", "mcp.calc.shout", "mcp.web.hold"} <= set(caps)
    add = caps["mcp.calc.add"]
    assert add["description"] == "Add two integers and return their sum."
    assert add["input_schema"]["required"] == ["a", "b"]
    assert add["output_schema"]["properties"] == {"sum": {"type": "integer"}}
    agents = {a["name"]: a for a in (await peers.client.get("/v1/agents")).json()}
    assert agents["calc"]["transport"] == "mcp" and agents["web"]["transport"] == "mcp"
    assert agents["calc"]["protocol"] == agents["web"]["protocol"] == "MCP"
    assert agents["calc"]["location"].startswith("stdio: ")
    assert "PYTHONPATH" not in json.dumps(agents["calc"])  # env may hold secrets: never shown
    assert agents["web"]["location"].endswith("/mcp")


@pytest.mark.parametrize("server", ["calc", "web"])
async def test_steps_call_tools_in_both_modes(peers: Stack, server: str) -> None:
    await peers.agent(squares)  # a native bus agent in the same workflow
    workflow = {
        "name": f"mixed-{server}",
        "steps": [
            {"id": "square", "capability": "test.square", "input": {"value": "$.input.a"}},
            {
                "id": "add",
                "capability": f"mcp.{server}.add",
                "input": {"a": "$.steps.square.output.value", "b": 2},
            },
            {"id": "shout", "capability": f"mcp.{server}.shout", "input": {"text": "fine"}},
            {"id": "link", "capability": f"mcp.{server}.link", "input": {}},
        ],
        "output": {
            "sum": "$.steps.add.output.sum",
            "text": "$.steps.shout.output.text",
            "files": "$.steps.link.output.files",
        },
    }
    run = await peers.wait(await peers.submit(workflow, {"a": 6}))
    assert run["status"] == "succeeded", run
    assert run["output"] == {
        "sum": 38,
        "text": "FINE",
        "files": [
            {
                "uri": "https://files.example/report.pdf",
                "name": "report.pdf",
                "mime_type": "application/pdf",
            }
        ],
    }


@pytest.mark.parametrize("server", ["calc", "web"])
async def test_progress_notifications_are_the_steps_progress(
    peers: Stack, server: str, tmp_path: Path
) -> None:
    release = tmp_path / "release"
    workflow = {
        "name": f"progress-{server}",
        "steps": [
            {
                "id": "work",
                "capability": f"mcp.{server}.steps",
                "input": {"count": 3, "release": str(release)},
            }
        ],
        "output": "$.steps.work.output",
    }
    run_id = await peers.submit(workflow, {})

    async def progress() -> list[dict[str, Any]]:
        events = await peers.events(run_id)
        return [e for e in events if e["type"] == "step.progress"]

    # While the tool works (it answers once released), its progress is the step's. Reports
    # are recorded in the order they were made; one overtaken by a later one (answers are
    # handled concurrently) is dropped, so the last one recorded is the latest.
    async def latest() -> bool:
        shown = await progress()
        return bool(shown) and shown[-1]["data"]["message"] == "step 3 of 3"

    await wait_until(latest, timeout=60)
    shown = await progress()
    done = [e["data"]["data"]["progress"] for e in shown]
    assert done == sorted(set(done)) and done[-1] == 3, done
    assert shown[-1]["data"] == {"message": "step 3 of 3", "data": {"progress": 3, "total": 3}}
    assert {e["step_id"] for e in shown} == {"work"}
    cookie = {"cookie": f"{auth.COOKIE}={auth.issue(ADMIN)}"}
    page = await peers.client.get(f"/dashboard/runs/{run_id}", headers=cookie)
    assert page.status_code == 200 and "step 3 of 3" in page.text  # shown while it runs
    release.touch()
    run = await peers.wait(run_id)
    assert run["status"] == "succeeded", run
    assert run["output"]["progress_token"] is not None  # MODX asked for progress


async def test_the_request_id_modx_reads_is_the_one_the_server_sees() -> None:
    """``next_request_id`` reads the SDK's counter (no public API says which id a call gets):
    this fails when the SDK numbers its requests another way, and cancels would name the
    wrong call."""
    body = {"command": [*PEER, "stdio"], "env": {"PYTHONPATH": ROOT}, "cwd": ROOT}
    connection = McpConnection(McpServer.model_validate(body), EgressPolicy())
    await connection.start()
    try:
        session = connection.session
        assert session is not None
        for _ in range(3):
            predicted = next_request_id(session)
            result = await session.call_tool("steps", {"count": 0})
            assert result.structuredContent is not None
            assert result.structuredContent["request_id"] == predicted
    finally:
        await connection.close()


async def test_a_tool_error_is_a_structured_step_error(peers: Stack) -> None:
    workflow = {"name": "f", "steps": [{"id": "f", "capability": "mcp.calc.fail", "input": {}}]}
    run = await peers.wait(await peers.submit(workflow))
    assert run["status"] == "failed"
    error = run["steps"][0]["error"]
    assert (error["code"], error["message"]) == ("tool_error", "the peer refuses")


async def test_a_killed_stdio_server_is_restarted_and_the_step_retried(
    peers: Stack, tmp_path: Path
) -> None:
    marker = tmp_path / "hold"
    workflow = {
        "name": "hold",
        "steps": [
            {
                "id": "hold",
                "capability": "mcp.calc.hold",
                "input": {"marker": str(marker)},
                "retry": {"max_attempts": 3, "backoff_s": 0.1},
            }
        ],
        "output": "$.steps.hold.output",
    }
    run_id = await peers.submit(workflow)
    await wait_until(lambda: marker.exists() and marker.read_text().isdigit(), timeout=60)
    first = int(marker.read_text())
    os.kill(first, signal.SIGKILL)
    run = await peers.wait(run_id)
    assert run["status"] == "succeeded", run
    assert run["steps"][0]["attempt"] == 2
    assert run["output"]["pid"] != first  # a new process answered
    delivery = peers.runtime.remote.deliveries["mcp"]
    assert isinstance(delivery, McpDelivery) and delivery.restarts >= 1


@pytest.mark.parametrize("server", ["calc", "web"])
async def test_cancelling_a_run_cancels_the_tool_call(
    peers: Stack, tmp_path: Path, server: str
) -> None:
    marker = tmp_path / "held"
    workflow = {
        "name": "held",
        "steps": [
            {"id": "h", "capability": f"mcp.{server}.hold", "input": {"marker": str(marker)}}
        ],
    }
    run_id = await peers.submit(workflow)
    await wait_until(marker.exists, timeout=60)
    response = await peers.client.post(f"/v1/runs/{run_id}/cancel")
    assert response.status_code == 202
    log = Path(f"{marker}.log")
    await wait_until(lambda: log.exists() and "cancelled" in log.read_text(), timeout=60)


async def test_bad_servers_get_a_clear_4xx(stack: Stack, tmp_path: Path) -> None:
    crashed = await register(stack, "crash", stdio("--crash"))
    assert crashed.status_code == 422, crashed.text
    message = crashed.json()["error"]["message"]
    assert message.startswith("$.command: the MCP server could not be used")
    assert "peer: cannot open its database" in message  # the tail of its stderr

    broken = await register(stack, "broken", stdio("--only-bad"))
    assert broken.status_code == 422, broken.text
    assert broken.json()["error"]["message"].startswith(
        "$.tools.broken.inputSchema.properties: tool 'broken'"
    )

    # Beside usable tools, a broken one is left out and reported; the others are registered.
    mixed = await register(stack, "mixed", stdio("--bad-schema"))
    assert mixed.status_code == 201, mixed.text
    (rejected,) = mixed.json()["rejected_tools"]
    assert rejected["name"] == "broken"
    assert rejected["reason"].startswith("$.tools.broken.inputSchema.properties: 5 is not")
    assert "mcp.mixed.add" in mixed.json()["capabilities"]
    assert "mcp.mixed.broken" not in mixed.json()["capabilities"]
    found = await stack.client.get("/v1/capabilities", params={"q": "broken"})
    assert "mcp.mixed.broken" not in {c["name"] for c in found.json()["items"]}

    silent = await register(stack, "silent", {"url": f"http://127.0.0.1:{free_port()}/mcp"})
    assert silent.status_code == 422, silent.text
    assert silent.json()["error"]["details"][0]["path"] == "$.url"

    outside = await register(stack, "meta", {"url": "http://169.254.169.254/mcp"})
    assert outside.status_code == 422 and "no allowed address" in outside.text

    missing = await register(stack, "nothing", {"command": [str(tmp_path / "no-such-program")]})
    assert missing.status_code == 422 and "could not be started" in missing.text

    both = await register(stack, "both", {"command": ["x"], "url": "http://127.0.0.1/"})
    assert both.status_code == 422

    # Nothing of the refused ones stays registered, and the stack still serves.
    agents = (await stack.client.get("/v1/agents")).json()
    assert [a["name"] for a in agents if a["transport"] == "mcp"] == ["mixed"]  # only it
    assert (await stack.client.get("/readyz")).status_code == 200


async def test_only_a_system_admin_registers_a_command(stack: Stack) -> None:
    response = await register(stack, "calc", stdio(), admin_token=False)  # an operator's token
    assert response.status_code == 403
    assert "system admin" in response.json()["error"]["message"]
    card = {
        "name": "sneaky",
        "transport": "mcp",
        "mcp": {"command": ["sh", "-c", "id"]},
        "capabilities": [{"name": "x.y"}],
    }
    direct = await stack.client.post("/v1/agents", json=card)
    assert direct.status_code == 422
    assert "POST /v1/agents/mcp" in direct.json()["error"]["message"]


async def test_the_cli_registers_a_stdio_server(stack: Stack) -> None:
    env = {**os.environ, "MODX_URL": stack.url, "MODX_API_TOKEN": ADMIN, "PYTHONPATH": ROOT}
    command = [sys.executable, "-m", "services.cli.main", "agent", "add-mcp", "calc"]
    args = [*command, "--env", f"PYTHONPATH={ROOT}", "--json", "--", *PEER, "stdio"]
    proc = await asyncio.create_subprocess_exec(
        *args, env=env, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    row = json.loads(out)
    assert row["location"].startswith("stdio: ") and "mcp.calc.add" in row["capabilities"]

    # Without --json: the capabilities, and the tools left out with why.
    mixed = ["agent", "add-mcp", "mixed", "--env", f"PYTHONPATH={ROOT}", "--", *PEER, "stdio"]
    shown = await asyncio.create_subprocess_exec(
        *command[:3], *mixed, "--bad-schema", env=env, cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    text = (await shown.communicate())[0].decode()
    assert shown.returncode == 0 and "  mcp.mixed.add" in text
    assert "  rejected broken: $.tools.broken.inputSchema.properties: " in text

    bad = await asyncio.create_subprocess_exec(
        *command, "--env", "NOVALUE", "--", "true", env=env, stderr=asyncio.subprocess.PIPE
    )
    _, err = await bad.communicate()
    assert bad.returncode == 2 and "--env 'NOVALUE': expected KEY=VALUE" in err.decode()


async def test_a_deregistered_stdio_server_is_stopped(peers: Stack, tmp_path: Path) -> None:
    marker = tmp_path / "pid"
    marker.write_text("")  # exists: hold answers at once with the process id
    workflow = {
        "name": "pid",
        "steps": [{"id": "p", "capability": "mcp.calc.hold", "input": {"marker": str(marker)}}],
        "output": "$.steps.p.output",
    }
    run = await peers.wait(await peers.submit(workflow))
    pid = run["output"]["pid"]
    agents = (await peers.client.get("/v1/agents")).json()
    (calc,) = [a for a in agents if a["name"] == "calc"]
    gone = await peers.client.delete(f"/v1/agents/{calc['agent_id']}", headers=admin(peers))
    assert gone.status_code == 202, gone.text

    def stopped() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False

    await wait_until(stopped, timeout=60)


@pytest.mark.parametrize(
    "headers",
    [{"Bad Name": "x"}, {"X-Token": "a\r\nInjected: 1"}, {"Transfer-Encoding": "chunked"}],
)
def test_an_mcp_servers_headers_are_checked_like_an_a2a_agents(headers: dict[str, str]) -> None:
    """One check for the headers MODX sends a peer (services.registry.schemas.check_headers)."""
    with pytest.raises(ValueError, match="header"):
        McpServer.model_validate({"url": "https://mcp.example/mcp", "headers": headers})
    McpServer.model_validate({"url": "https://mcp.example/mcp", "headers": {"X-Token": "ok"}})
