"""``from modx import Client``: the Python client against a real MODX, in both modes.

The blocking client runs in a thread (the server under test runs on this event loop); the
asyncio client runs on the loop itself.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import modx
from tests.e2e import fleet
from tests.e2e.test_run_stream import TWO_SQUARES
from tests.fixtures.services import free_port
from tests.fixtures.stack import TOKEN, Stack

NOBODY = {"name": "nobody", "steps": [{"id": "a", "capability": "test.nobody.serves"}]}
FATAL = {"name": "fatal", "steps": [{"id": "a", "capability": "test.fatal", "input": "$.input"}]}


def _blocking_tour(url: str) -> dict[str, Any]:
    """Everything a script does with the blocking client, recorded for the test to check."""
    seen: dict[str, Any] = {}
    with modx.Client(url, TOKEN) as client:
        first = client.submit(TWO_SQUARES, {"n": 3}, idempotency_key="tour-1")
        again = client.submit(TWO_SQUARES, {"n": 3}, idempotency_key="tour-1")
        seen["created"] = (first.created, again.created, again.run_id == first.run_id)
        seen["events"] = list(client.stream(first.run_id, timeout=60))
        seen["run"] = client.wait(first.run_id, timeout=60)
        seen["history"] = client.events(first.run_id)
        later = seen["events"][1].id
        seen["resumed"] = list(client.stream(first.run_id, after=later, timeout=60))
        seen["listed"] = [r.run_id for r in client.runs(workflow="two-squares", page_size=1)]

        waiting = client.submit(NOBODY)
        seen["partial"] = client.wait(waiting.run_id, timeout=0.2)
        seen["cancel"] = client.cancel(waiting.run_id)
        with pytest.raises(modx.Conflict) as again_cancel:
            client.cancel(waiting.run_id)
        seen["conflict"] = again_cancel.value

        failed = client.run(FATAL, {"value": 2}, timeout=60)
        seen["failed"] = failed
        seen["retry"] = client.retry(failed.run_id)
        with pytest.raises(modx.NotFound) as missing:
            client.get("no-such-run")
        seen["missing"] = missing.value
        with pytest.raises(modx.InvalidRequest) as invalid:
            client.submit(TWO_SQUARES, {"n": 1}, deadline_s=-1)
        seen["invalid"] = invalid.value
    with modx.Client(url, "not-a-token") as stranger, pytest.raises(modx.Unauthorized):
        stranger.get(first.run_id)
    with modx.Client(f"http://127.0.0.1:{free_port()}", TOKEN) as nowhere:
        with pytest.raises(modx.Unreachable) as unreachable:
            nowhere.get(first.run_id)
        seen["unreachable"] = unreachable.value
    return seen


async def test_the_blocking_client_submits_waits_streams_cancels_and_retries(
    stack: Stack,
) -> None:
    await stack.agent(fleet.squares)
    seen = await asyncio.to_thread(_blocking_tour, stack.url)

    assert seen["created"] == (True, False, True)
    run = seen["run"]
    assert isinstance(run, modx.Run) and run.finished
    assert (run.status, run.output) == ("succeeded", 81)
    assert [s.status for s in run.steps] == ["succeeded", "succeeded"]
    assert [s.output for s in run.steps] == [{"value": 9}, {"value": 81}]

    # The stream is the run's history, in order, and ends with the run's final event.
    events = seen["events"]
    assert [e.id for e in events] == [e.id for e in seen["history"]]
    assert events[-1].final and events[-1].to_state == "succeeded"
    assert [e.id for e in seen["resumed"]] == [e.id for e in events[2:]]
    assert run.run_id in seen["listed"]  # found through the cursor, one run per page

    assert not seen["partial"].finished  # wait gave up at its timeout
    assert seen["cancel"].status == "cancelled"
    assert seen["conflict"].status == 409 and "cancelled" in seen["conflict"].message

    assert seen["failed"].status == "failed"
    assert seen["failed"].steps[0].error["code"] == "refused"
    assert seen["retry"].run_id != seen["failed"].run_id and seen["retry"].created

    assert seen["missing"].status == 404
    assert [d["path"] for d in seen["invalid"].details] == ["$.deadline_s"]
    assert seen["unreachable"].status == 0


async def test_the_asyncio_client_does_the_same(stack: Stack) -> None:
    await stack.agent(fleet.squares)
    async with modx.AsyncClient(stack.url, TOKEN) as client:
        run = await client.run(TWO_SQUARES, {"n": 2}, timeout=60)
        assert (run.status, run.output) == ("succeeded", 16)
        events = [e async for e in client.stream(run.run_id, timeout=60)]
        assert events[-1].final
        assert [e.id for e in events] == [e.id for e in await client.events(run.run_id)]
        assert run.run_id in [r.run_id async for r in client.runs(status="succeeded")]

        waiting = await client.submit(NOBODY)
        streamed: list[modx.Event] = []

        async def follow() -> None:
            async for event in client.stream(waiting.run_id, timeout=60):
                streamed.append(event)

        # A stream opened before the cancel ends with the cancel, not at its timeout.
        following = asyncio.create_task(follow())
        assert (await client.cancel(waiting.run_id)).status == "cancelled"
        await asyncio.wait_for(following, 60)
        assert streamed[-1].final and streamed[-1].to_state == "cancelled"
        with pytest.raises(modx.Conflict):
            await client.cancel(waiting.run_id)
        with pytest.raises(modx.NotFound):
            await client.retry("no-such-run")
