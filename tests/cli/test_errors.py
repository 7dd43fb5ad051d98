"""Every CLI failure a user causes is one line naming the file, setting or field, with its code."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from services.config import Settings
from services.runtime import Runtime
from tests.fixtures.services import free_port
from tests.fixtures.stack import REPO, TOKEN, running_stack


def modx(
    *args: str, env: dict[str, str] | None = None, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MODX_")}
    return subprocess.run(
        [sys.executable, "-m", "services.cli.main", *args],
        cwd=cwd,
        env={**base, "PYTHONPATH": str(REPO), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The error line; the test fails on a traceback."""
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_a_malformed_workflow_file_names_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "flow.yaml"
    bad.write_text("name: flow\nsteps: [\n  {id: a, capability: x\n")
    result = modx("workflow", "register", str(bad))
    assert result.returncode == 2
    line = one_line(result)
    assert f"{bad}:" in line and "not valid YAML" in line
    # With --debug the same mistake shows where it was raised.
    debug = modx("--debug", "workflow", "register", str(bad))
    assert debug.returncode != 0 and "Traceback" in debug.stderr + debug.stdout


def test_a_bad_setting_names_the_variable(tmp_path: Path) -> None:
    result = modx(
        "up", "--port", str(free_port()), "--data-dir", str(tmp_path / "d"), "--no-demo",
        env={"MODX_API_TOKEN": "short"},
    )  # fmt: skip
    assert result.returncode == 2
    assert "setting MODX_API_TOKEN: tokens must be at least 16 characters" in one_line(result)
    assert "hint: " in result.stderr
    served = modx("serve", "--port", str(free_port()), env={"MODX_ADMIN_TOKEN": "changeme"})
    assert served.returncode == 2
    assert "setting MODX_ADMIN_TOKEN" in one_line(served)


def test_a_visibility_timeout_too_short_for_the_agent_lease_is_refused(tmp_path: Path) -> None:
    """A visibility timeout of 1.5 times the agent lease or less (a dead agent's task could be
    claimed while its lease holds, and its taker's answers refused) stops the server before it
    starts, naming both settings; a development setting lets it run, with a warning."""
    data = str(tmp_path / "d")
    short = {"MODX_VISIBILITY_TIMEOUT_S": "22.5", "MODX_AGENT_LEASE_S": "15"}
    result = modx("up", "--port", str(free_port()), "--data-dir", data, "--no-demo", env=short)
    assert result.returncode == 2
    line = one_line(result)
    assert "MODX_VISIBILITY_TIMEOUT_S (22.5 s)" in line and "MODX_AGENT_LEASE_S (15 s)" in line
    assert "MODX_ALLOW_SHORT_VISIBILITY_TIMEOUT" in line
    served = modx("serve", "--port", str(free_port()), env={"MODX_VISIBILITY_TIMEOUT_S": "10"})
    assert served.returncode == 2 and "MODX_AGENT_LEASE_S (15 s)" in one_line(served)
    assert Settings(visibility_timeout_s=22.6, agent_lease_s=15).visibility_timeout_s == 22.6
    allowed = Settings(visibility_timeout_s=2, allow_short_visibility_timeout=True)
    assert allowed.visibility_timeout_s == 2


async def test_a_short_visibility_timeout_allowed_for_development_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        data_dir=tmp_path, visibility_timeout_s=2, allow_short_visibility_timeout=True
    )
    runtime = await Runtime.open(settings, orchestrate=False)
    await runtime.close()
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(
        "MODX_ALLOW_SHORT_VISIBILITY_TIMEOUT=1" in m and "MODX_VISIBILITY_TIMEOUT_S (2 s)" in m
        for m in warned
    ), warned


def test_a_port_in_use_says_so_before_starting(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = modx("up", "--port", str(port), "--data-dir", str(tmp_path / "d"), "--no-demo")
    assert result.returncode == 3
    assert f"port {port} on 127.0.0.1 is already in use" in one_line(result)
    assert f"--port {port + 1}" in result.stderr


def test_no_server_names_the_url_and_where_it_came_from(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = modx("run", "list", env={"MODX_URL": url, "XDG_CONFIG_HOME": str(tmp_path)})
    assert result.returncode == 3
    line = one_line(result)
    assert f"cannot reach MODX at {url} (from --url/MODX_URL): ConnectError" in line
    assert line.count("cannot reach MODX") == 1, line
    assert "modx up" in result.stderr  # the hint


async def test_what_the_server_refuses_comes_with_a_hint(tmp_path: Path) -> None:
    """A missing run or workflow names the command that lists them, a refused definition says
    what its JSON path points into, and JSON the shell mangled says how to pass it."""
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: broken\nsteps:\n  - {id: a, capability: x, input: $.steps.b.output}\n")
    async with running_stack("embedded", tmp_path, None, None) as stack:
        env = {"MODX_URL": stack.url, "MODX_API_TOKEN": TOKEN}
        run = ("run", "show", "01a2520b-0000-7000-8000-000000000000")
        submit = ("run", "submit", "nope", "--input", "{}")
        for args, code, hint in [
            (run, 5, "hint: `modx run list` shows"),
            (submit, 5, "hint: `modx workflow list` shows"),
            (("workflow", "register", str(broken)), 2, "hint: the JSON path names the field"),
            (("run", "submit", "nope", "--input", "{n: 1}"), 2, "hint: quote the JSON"),
        ]:
            result = await asyncio.to_thread(modx, *args, env=env, cwd=tmp_path)
            assert result.returncode == code, result.stderr
            one_line(result)
            assert hint in result.stderr, result.stderr


@pytest.mark.parametrize("token", ["wrong-token-0123456789abcdef", None])
async def test_a_refused_token_says_where_it_came_from(tmp_path: Path, token: str | None) -> None:
    async with running_stack("embedded", tmp_path, None, None) as stack:
        env = {"MODX_URL": stack.url, "XDG_CONFIG_HOME": str(tmp_path / "config")}
        if token:
            env["MODX_API_TOKEN"] = token
        # In a thread: the server under test runs on this event loop.
        result = await asyncio.to_thread(modx, "run", "list", env=env, cwd=tmp_path)
    assert result.returncode == 4
    assert one_line(result).startswith("error: 401")
    hint = "the token from MODX_API_TOKEN was refused" if token else "no token found"
    assert hint in result.stderr


async def test_an_agent_that_could_never_receive_a_task_fails_at_start(tmp_path: Path) -> None:
    async with running_stack("embedded", tmp_path, None, None) as stack:
        env = {"MODX_URL": stack.url, "MODX_API_TOKEN": TOKEN}
        result = await asyncio.to_thread(
            modx, "agent", "run", "tests.e2e.fleet:numbers", "--transport", "bus", env=env
        )
        agents = (await stack.client.get("/v1/agents", params={"name": "numbers"})).json()
    assert result.returncode == 2
    line = one_line(result)
    assert "the server's bus is inside the server's process (memory://)" in line
    assert "--transport gateway" in line and "serving" not in result.stderr
    assert [a["status"] for a in agents] != ["online"]  # it deregistered on its way out
