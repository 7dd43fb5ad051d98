"""``modx run signal RUN NAME --data @file``: a waiting step takes it, and refusals are one line."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.cli.test_errors import modx, one_line
from tests.fixtures.services import wait_until
from tests.fixtures.stack import TOKEN, running_stack

FLOW = {
    "name": "approve",
    "steps": [
        {
            "id": "approve",
            "wait": {
                "signal": "approval",
                "schema": {"type": "object", "properties": {"ok": {"type": "boolean"}}},
            },
        }
    ],
    "output": "$.steps.approve.output",
}


async def test_a_signal_from_a_file_completes_the_wait(tmp_path: Path) -> None:
    decision = tmp_path / "decision.json"
    decision.write_text(json.dumps({"ok": True, "comment": "from the CLI"}))
    async with running_stack("embedded", tmp_path, None, None) as stack:
        env = {"MODX_URL": stack.url, "MODX_API_TOKEN": TOKEN}
        run_id = await stack.submit(FLOW)

        async def waiting() -> bool:
            run = (await stack.client.get(f"/v1/runs/{run_id}")).json()
            return bool(run["steps"][0]["status"] == "running")

        await wait_until(waiting)
        # In threads: the server under test runs on this event loop.
        shown = await asyncio.to_thread(modx, "run", "show", run_id, env=env)
        refused = await asyncio.to_thread(
            modx, "run", "signal", run_id, "approval", "--data", '{"ok": "yes"}', env=env
        )
        sent = await asyncio.to_thread(
            modx, "run", "signal", run_id, "approval", "--data", f"@{decision}", "--json", env=env
        )
        run = await stack.wait(run_id)
        again = await asyncio.to_thread(
            modx, "run", "signal", run_id, "approval", "--data", "{}", env=env
        )
    assert f"waiting for signal approval (modx run signal {run_id} approval)" in shown.stdout
    assert refused.returncode == 2 and "$.ok" in one_line(refused)
    # The hint names what `$` is here: the signal's body, not a workflow file or --input.
    assert "`$` is the --data of `run signal`" in refused.stderr, refused.stderr
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout) == {
        "run_id": run_id,
        "signal": "approval",
        "steps": ["approve"],
        "kept": [],
    }
    assert run["status"] == "succeeded" and run["output"] == {"ok": True, "comment": "from the CLI"}
    assert again.returncode != 0 and "waits for" in one_line(again)
