"""What scripts rely on (docs/cli.md): with ``--json`` every failure is one line of JSON on stderr
in one shape, whatever raised it, and every list prints ``{items, next_cursor}``; people get a
header row on the tables."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

from tests.cli.test_errors import modx
from tests.e2e import fleet
from tests.fixtures.services import free_port
from tests.fixtures.stack import TOKEN, running_stack

MISSING_RUN = "01a2520b-0000-7000-8000-000000000000"
SQUARE = {
    "name": "square",
    "steps": [{"id": "s", "capability": "test.square", "input": {"value": "$.input"}}],
}


def json_error(result: subprocess.CompletedProcess[str], exit_code: int) -> dict[str, Any]:
    """The error a ``--json`` command printed: alone on stderr, nothing on stdout, with every
    field of the documented shape and the exit code it exited with."""
    assert result.returncode == exit_code, result.stderr
    assert result.stdout == "", result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    printed = json.loads(lines[0])
    assert list(printed) == ["error"]
    error: dict[str, Any] = printed["error"]
    assert set(error) == {"code", "message", "details", "hint", "exit_code"}
    assert isinstance(error["code"], str) and error["exit_code"] == exit_code
    return error


def test_local_failures_print_one_json_shape(tmp_path: Path) -> None:
    """A usage error, an unreachable server, a bad option value, a bad file: each raised in a
    different place, each printed the same way."""
    nowhere = {"MODX_URL": f"http://127.0.0.1:{free_port()}", "XDG_CONFIG_HOME": str(tmp_path)}
    bad = tmp_path / "flow.yaml"
    bad.write_text("name: flow\nsteps: [\n")

    usage = json_error(modx("run", "show", "--json", cwd=tmp_path), 2)
    assert usage["code"] == "usage" and usage["message"] == "Missing argument 'run_id'."
    assert "run show --help" in usage["hint"]

    unreachable = json_error(modx("run", "list", "--json", env=nowhere, cwd=tmp_path), 3)
    assert unreachable["code"] == "unreachable"
    assert unreachable["message"].startswith(f"cannot reach MODX at {nowhere['MODX_URL']}")
    assert "modx up" in unreachable["hint"]

    submit = ("run", "submit", "flow", "--input", "{n: 1}", "--json")
    not_json = json_error(modx(*submit, env=nowhere, cwd=tmp_path), 2)
    assert not_json["code"] == "bad_input" and not_json["message"].startswith("--input is not")
    assert "quote the JSON" in not_json["hint"]

    header = ("agent", "add-mcp", "calc", "https://calc.example", "--header", "nocolon", "--json")
    option = json_error(modx(*header, env=nowhere, cwd=tmp_path), 2)
    assert option["message"] == "--header 'nocolon': expected KEY:VALUE"

    invalid = json_error(modx("workflow", "register", str(bad), "--json", cwd=tmp_path), 2)
    assert invalid["code"] == "invalid_file" and f"{bad}:" in invalid["message"]


async def test_api_failures_carry_the_api_s_error_code(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"name": "b", "steps": [{"id": "a", "input": "$.steps.x"}]}))
    async with running_stack("embedded", tmp_path, None, None) as stack:
        env = {"MODX_URL": stack.url, "MODX_API_TOKEN": TOKEN}
        direct = (await stack.client.get(f"/v1/runs/{MISSING_RUN}")).json()["error"]
        refused_directly = (await stack.client.post("/v1/workflows", json={"name": "b"})).json()
        missing = await asyncio.to_thread(modx, "run", "show", MISSING_RUN, "--json", env=env)
        refused = await asyncio.to_thread(
            modx, "workflow", "register", str(broken), "--json", env=env
        )
    not_found = json_error(missing, 5)
    assert not_found["code"] == direct["code"]
    assert not_found["message"] == f"404 {direct['message']}"
    assert "modx run list" in not_found["hint"]
    invalid = json_error(refused, 2)
    assert invalid["code"] == refused_directly["error"]["code"]
    assert invalid["details"] and all("path" in d for d in invalid["details"])


async def test_every_list_is_items_and_a_cursor_and_tables_have_headers(tmp_path: Path) -> None:
    async with running_stack("embedded", tmp_path, None, None) as stack:
        env = {"MODX_URL": stack.url, "MODX_API_TOKEN": TOKEN}
        await stack.agent(fleet.squares)
        assert (await stack.client.post("/v1/workflows", json=SQUARE)).is_success
        first = await stack.submit("square", 2)
        await stack.wait(first)
        await stack.wait(await stack.submit("square", 3))

        async def cli(*args: str) -> subprocess.CompletedProcess[str]:
            result = await asyncio.to_thread(modx, *args, env=env)
            assert result.returncode == 0, result.stderr
            return result

        lists = {
            "agents": await cli("agent", "list", "--json"),
            "workflows": await cli("workflow", "list", "--json"),
            "runs": await cli("run", "list", "--json"),
            "events": await cli("run", "events", first, "--json"),
            "one run": await cli("run", "list", "--limit", "1", "--json"),
        }
        tables = {
            "agents": await cli("agent", "list"),
            "runs": await cli("run", "list"),
            "workflows": await cli("workflow", "list"),
            "events": await cli("run", "events", first),
        }
    pages = {name: json.loads(result.stdout) for name, result in lists.items()}
    for name, page in pages.items():
        assert list(page) == ["items", "next_cursor"], name
        assert isinstance(page["items"], list) and page["items"], name
    assert [a["name"] for a in pages["agents"]["items"]] == ["squares"]
    assert [w["name"] for w in pages["workflows"]["items"]] == ["square"]
    assert len(pages["runs"]["items"]) == 2 and pages["runs"]["next_cursor"] is None
    assert len(pages["one run"]["items"]) == 1 and pages["one run"]["next_cursor"]
    assert pages["events"]["next_cursor"] is None

    def header(name: str) -> list[str]:
        return tables[name].stdout.splitlines()[0].split()

    assert header("agents") == ["NAME", "VERSION", "STATUS", "TRANSPORT", "CAPABILITIES"]
    assert header("runs") == ["RUN", "WORKFLOW", "STATUS", "CREATED"]
    assert header("workflows") == ["NAME", "VERSION", "STEPS"]
    assert header("events") == ["TIME", "TYPE", "STEP", "CHANGE", "REASON"]
    agent_row = tables["agents"].stdout.splitlines()[1].split()
    assert agent_row[0] == "squares" and agent_row[2] == "online"
