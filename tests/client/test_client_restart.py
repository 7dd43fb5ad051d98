"""The client's waits, and submissions with an idempotency key, outlast a server restart:
``modx serve`` SIGKILLed and started again while ``wait`` and ``stream`` wait on a run, which
lives on in the database. Before, both
raised ``Unreachable`` at once, and ``modx run submit --wait`` exited 3 ("cannot reach MODX")
for runs that went on to succeed (12 clients, ``modx up`` restarted: 8 of them)."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import httpx
import pytest

import modx
from tests.fixtures.serve import Restartable
from tests.fixtures.services import free_port, wait_until
from tests.fixtures.stack import TOKEN

# No agent: the run waits for its signal until the test sends it.
APPROVAL = {
    "name": "approve",
    "steps": [{"id": "approve", "wait": {"signal": "approval", "timeout_s": 3600}}],
    "output": "$.steps.approve.output",
}


@pytest.mark.parametrize("mode", ["embedded", "distributed"])
async def test_wait_and_stream_go_on_through_a_server_restart(
    mode: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    servers: list[subprocess.Popen[bytes]],
) -> None:
    server = Restartable(mode, request, tmp_path, servers)
    await server.started()
    async with modx.AsyncClient(server.url, TOKEN) as client:
        run_id = (await client.submit(APPROVAL, {})).run_id

        async def waiting() -> bool:
            return (await client.get(run_id)).steps[0].status == "running"

        await wait_until(waiting)

        async def streamed() -> list[str]:
            return [event.type async for event in client.stream(run_id, timeout=120)]

        waits = asyncio.create_task(client.wait(run_id, timeout=120))
        streams = asyncio.create_task(streamed())
        await asyncio.sleep(0.5)  # both are waiting on the server now
        server.kill()
        await asyncio.sleep(1.5)  # refused meanwhile
        await server.started()
        async with httpx.AsyncClient(
            base_url=server.url, headers={"authorization": f"Bearer {TOKEN}"}
        ) as http:
            sent = await http.post(f"/v1/runs/{run_id}/signals/approval", json={"ok": True})
            assert sent.status_code == 202, sent.text
        run = await waits
        events = await streams
        # A submission with an idempotency key is asked again (the same key, the same run)
        # until the server is back: refused at first, taken by the restarted server.
        server.kill()
        submitted = asyncio.create_task(client.submit(APPROVAL, {}, idempotency_key="k"))
        await asyncio.sleep(1.5)
        assert not submitted.done()
        server.start()
        assert (await submitted).created
        assert not (await client.submit(APPROVAL, {}, idempotency_key="k")).created
        async with modx.AsyncClient(f"http://127.0.0.1:{free_port()}", TOKEN) as nobody:
            with pytest.raises(modx.Unreachable):  # without a key, no second try
                await nobody.submit(APPROVAL, {})
    assert run.status == "succeeded" and run.output == {"ok": True}
    assert events[-1] == "run.succeeded" and events.count("run.created") == 1
