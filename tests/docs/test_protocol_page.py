"""docs/protocol.md's agents written without the SDK, run as written: each ``python file=…``
block is saved and started as a program of its own (it imports nothing of MODX), and a run
through it must end as the page says. The bus agent needs Redis (an embedded server's bus is
in its process), so it runs against the distributed stack; the HTTP agent runs in both modes.

These pages are what someone who did not write MODX has to go on: an answer signed over fewer
fields than the envelope has, or with ``isoformat()``'s ``+00:00``, is dead-lettered
``bad_signature`` and the run never ends, which is what a newcomer met before the page said so.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bus.envelope import Envelope
from tests.docs.test_tutorial import parse
from tests.fixtures.stack import REPO, Stack, running_stack

PAGE = REPO / "docs" / "protocol.md"


def page_file(name: str) -> str:
    files, _ = parse(PAGE.read_text())
    return files[name]


@contextlib.asynccontextmanager
async def program(stack: Stack, directory: Path, name: str, agent: str) -> AsyncIterator[None]:
    """The page's program ``name`` running until the block ends (Ctrl-C, as a reader would)."""
    (directory / name).write_text(page_file(name))
    log = directory / f"{name}.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, name, cwd=directory, env=stack.env, stdout=out, stderr=out
        )
        try:
            await stack.wait_agent(agent)
            yield
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGINT)
                try:
                    await asyncio.wait_for(process.wait(), 20)
                except TimeoutError:
                    process.kill()
                    await process.wait()
    assert "Traceback" not in log.read_text(), log.read_text()


def one_step(capability: str) -> dict[str, Any]:
    return {
        "name": capability.replace(".", "-"),
        "steps": [{"id": "s", "capability": capability, "input": "$.input"}],
        "output": "$.steps.s.output.text",
    }


async def test_the_bus_agent_without_the_sdk_serves_runs(
    postgres_migrated_url: str, redis_url: str, tmp_path: Path
) -> None:
    async with (
        running_stack("distributed", tmp_path, postgres_migrated_url, redis_url) as stack,
        program(stack, tmp_path, "plain_bus_agent.py", "plain-upper"),
    ):
        run = await stack.wait(await stack.submit(one_step("plain.upper"), {"text": "hi"}))
        assert (run["status"], run["output"]) == ("succeeded", "HI"), run

        run = await stack.wait(await stack.submit(one_step("plain.upper"), {"text": 3}))
        assert run["status"] == "failed", run
        assert run["error"]["cause"]["code"] == "invalid_input", run["error"]
        assert run["steps"][0]["attempt"] == 1  # not retried: the agent said so


async def test_the_http_agent_without_the_sdk_serves_runs(stack: Stack, tmp_path: Path) -> None:
    async with program(stack, tmp_path, "plain_http_agent.py", "plain-reverse"):
        run = await stack.wait(await stack.submit(one_step("plain.reverse"), {"text": "abc"}))
        assert (run["status"], run["output"]) == ("succeeded", "cba"), run


def test_the_page_writes_times_as_the_signature_has_them() -> None:
    """The page's rule for times (``Z``, six digits, none when zero) is the envelope's form."""
    for moment, written in [
        (datetime(2026, 12, 7, 19, 45, 27, 898441, tzinfo=UTC), "2026-12-07T19:45:27.898441Z"),
        (datetime(2026, 12, 7, 19, 45, 27, 120, tzinfo=UTC), "2026-12-07T19:45:27.000120Z"),
        (datetime(2026, 12, 7, 19, 45, 27, tzinfo=UTC), "2026-12-07T19:45:27Z"),
    ]:
        envelope = Envelope(kind="result", topic="t", sender="a", created_at=moment)
        assert json.loads(envelope.to_json())["created_at"] == written
        assert f"`{written}`" in PAGE.read_text() or written.endswith("0120Z")
