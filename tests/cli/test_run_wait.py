"""``modx run submit --wait`` follows the run's event stream to its end."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.cli.test_errors import modx
from tests.e2e import fleet
from tests.e2e.test_run_stream import TWO_SQUARES
from tests.fixtures.stack import TOKEN, running_stack


async def test_submit_wait_follows_the_stream_and_exits_with_the_outcome(tmp_path: Path) -> None:
    flow = tmp_path / "flow.json"
    flow.write_text(json.dumps(TWO_SQUARES))
    async with running_stack("embedded", tmp_path, None, None) as stack:
        await stack.agent(fleet.squares)
        env = {"MODX_URL": stack.url, "MODX_API_TOKEN": TOKEN}
        # In a thread: the server under test runs on this event loop.
        ok = await asyncio.to_thread(
            modx, "run", "submit", str(flow), "--input", '{"n": 2}', "--wait", "--json", env=env
        )
        bad = await asyncio.to_thread(
            modx, "run", "submit", str(flow), "--input", '{"n": "x"}', "--wait", "--json", env=env
        )
    assert ok.returncode == 0, ok.stderr
    run = json.loads(ok.stdout)
    assert run["status"] == "succeeded" and run["output"] == 16
    assert [s["status"] for s in run["steps"]] == ["succeeded", "succeeded"]
    assert bad.returncode == 1, bad.stderr  # the square of "x" fails: the run failed
    assert json.loads(bad.stdout)["status"] == "failed"
