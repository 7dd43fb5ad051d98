"""What the CLI prints a newcomer: usage errors and API problems as lines, not screens; a run's
steps in the order they ran; a wait that gives up says the run goes on."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.cli.test_errors import modx, one_line
from tests.e2e import fleet
from tests.fixtures.stack import TOKEN, running_stack

FAN_OUT = {
    "name": "fan-out-squares",
    "steps": [
        {
            "id": "each",
            "capability": "test.square",
            "for_each": "$.input",
            "input": {"value": "$.item"},
        },
        {
            "id": "last",
            "capability": "test.square",
            "input": {"value": "$.steps.each.output[0].value"},
        },
    ],
    "output": "$.steps.last.output.value",
}


def test_a_usage_error_is_one_line_with_the_command_s_help_as_hint(tmp_path: Path) -> None:
    missing_argument = modx("run", "show", cwd=tmp_path)
    missing_file = modx("workflow", "register", "nowhere.yaml", cwd=tmp_path)
    unknown_option = modx("run", "list", "--colour", cwd=tmp_path)

    for result in (missing_argument, missing_file, unknown_option):
        assert result.returncode == 2, result.stderr
        assert "╭" not in result.stderr + result.stdout  # no boxed usage screen
        assert len(result.stderr.strip().splitlines()) == 2, result.stderr  # error + hint
    assert one_line(missing_argument) == "error: Missing argument 'run_id'."
    assert "run show --help` says what it takes" in missing_argument.stderr
    assert "'nowhere.yaml' does not exist" in one_line(missing_file)
    assert one_line(unknown_option).startswith("error: No such option: --colour")


async def test_api_problems_are_lines_and_runs_read_in_order(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text(
        json.dumps(
            {
                "name": "broken",
                "steps": [
                    {"id": "a", "capability": "test.square", "input": "$.steps.nope.output"},
                    {"id": "b", "capability": "test.square", "input": "$.steps.gone.output"},
                ],
            }
        )
    )
    flow = tmp_path / "flow.json"
    flow.write_text(json.dumps(FAN_OUT))
    async with running_stack("embedded", tmp_path, None, None) as stack:
        env = {"MODX_URL": stack.url, "MODX_API_TOKEN": TOKEN}
        # In a thread: the server under test runs on this event loop.
        refused = await asyncio.to_thread(modx, "workflow", "register", str(broken), env=env)
        unknown = await asyncio.to_thread(modx, "run", "submit", "no-such-flow", env=env)
        waited = await asyncio.to_thread(
            modx,
            "run",
            "submit",
            str(flow),
            "--input",
            "[2, 3]",
            "--wait",
            "--timeout",
            "1",
            env=env,
        )
        await stack.agent(fleet.squares)
        done = await asyncio.to_thread(
            modx, "run", "submit", str(flow), "--input", "[2, 3]", "--wait", env=env
        )

    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        "error: 422 $.steps[0].input: reference to unknown step 'nope'",
        "  $.steps[1].input: reference to unknown step 'gone'",
        "hint: the JSON path names the field at fault: `$` is what was sent (the file of "
        "`workflow register`; `$.input` is the --input of `run submit`)",
    ]
    assert unknown.returncode == 5
    assert unknown.stderr.splitlines() == [
        "error: 404 workflow 'no-such-flow' is not registered",
        "hint: `modx workflow list` shows those your token's tenant has",
    ]

    # No agent yet: the wait gives up, and says the run is not over.
    assert waited.returncode == 1
    assert "still running after --timeout 1 s; the run goes on" in waited.stderr
    assert "modx run cancel " in waited.stderr

    assert done.returncode == 0, done.stderr
    steps = [line.split() for line in done.stdout.splitlines()[1:-1]]
    assert [s[:2] for s in steps] == [
        ["each", "succeeded"],
        ["each[0]", "succeeded"],
        ["each[1]", "succeeded"],
        ["last", "succeeded"],
    ]
    assert steps[0][2:] == ["2/2", "items", "finished"]  # not "attempt 0/1 agent …-"
    assert steps[1][2:4] == ["attempt", "1/1"] and steps[1][4] == "agent"
