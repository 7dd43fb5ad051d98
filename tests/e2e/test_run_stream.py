"""Waiting on a run: ``/wait`` and the event stream wake on the run's notices, in both modes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import update

from services.db.models import EventRow, RunRow, utcnow
from services.orchestrator import runs
from tests.e2e import fleet
from tests.fixtures.errors import assert_error
from tests.fixtures.services import wait_until
from tests.fixtures.stack import ADMIN, Stack

TWO_SQUARES = {
    "name": "two-squares",
    "steps": [
        {"id": "a", "capability": "test.square", "input": {"value": "$.input.n"}},
        {"id": "b", "capability": "test.square", "input": {"value": "$.steps.a.output.value"}},
    ],
    "output": "$.steps.b.output.value",
}


HOLD = {
    "name": "hold",
    "steps": [{"id": "hold", "wait": {"signal": "never", "timeout_s": 3600}}],
}


async def _sse(
    stack: Stack,
    run_id: str,
    seen: asyncio.Queue[str] | None = None,
    headers: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Every event the stream sends until it closes, with its SSE id and name; each event's
    type also goes to ``seen`` as it comes."""
    events: list[dict[str, Any]] = []
    async with stack.client.stream(
        "GET", f"/v1/runs/{run_id}/stream", headers=headers, timeout=60
    ) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        fields: dict[str, str] = {}
        async for line in response.aiter_lines():
            if line == "":
                if "data" in fields:
                    events.append(
                        {
                            "id": int(fields["id"]),
                            "event": fields["event"],
                            **json.loads(fields["data"]),
                        }
                    )
                    if seen is not None:
                        seen.put_nowait(fields["event"])
                fields = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields[name] = value
    return events


async def test_stream_and_wait_follow_a_run_to_its_end(stack: Stack) -> None:
    run_id = await stack.submit(TWO_SQUARES, {"n": 3})
    # Both wait before any agent can run a step: only the run's notices can wake them.
    streamed = asyncio.create_task(_sse(stack, run_id))
    waited = asyncio.create_task(
        stack.client.get(f"/v1/runs/{run_id}/wait", params={"timeout_s": 60})
    )
    await stack.agent(fleet.squares)
    run = (await waited).json()
    assert run["status"] == "succeeded" and run["output"] == 81
    events = await streamed
    history = await stack.events(run_id)
    assert [e["id"] for e in events] == [e["id"] for e in history]
    assert [e["event"] for e in events] == [e["type"] for e in history]
    assert events[-1]["to_state"] == "succeeded"
    # Resuming after an event sends only the later ones, then closes (the run is over).
    middle = events[len(events) // 2]["id"]
    resumed = await _sse(stack, run_id, headers={"Last-Event-ID": str(middle)})
    assert [e["id"] for e in resumed] == [e["id"] for e in events if e["id"] > middle]
    # Resuming after the final event sends nothing and closes at once.
    assert await _sse(stack, run_id, headers={"Last-Event-ID": str(events[-1]["id"])}) == []


async def test_a_revoked_tokens_stream_sends_nothing_more(stack: Stack) -> None:
    """A stream outlives the request that opened it (up to ``timeout_s``, an hour): revoking
    its token must stop what it sends, as it stops the token's next request. Before, it went
    on sending the run's events (signal payloads, step outputs) until the run or the hour
    ended."""
    admin = {"authorization": f"Bearer {ADMIN}"}
    issued = await stack.client.post(
        "/v1/tokens", json={"tenant": "default", "role": "viewer"}, headers=admin
    )
    assert issued.status_code == 201, issued.text
    viewer = {"authorization": f"Bearer {issued.json()['token']}"}
    run_id = await stack.submit(TWO_SIGNALS)
    seen: asyncio.Queue[str] = asyncio.Queue()
    streamed = asyncio.create_task(_sse(stack, run_id, seen, headers=viewer))
    try:
        await _revoke_while_streaming(stack, run_id, issued.json()["id"], viewer, seen, streamed)
    finally:
        streamed.cancel()  # on failure, a stream left open would hold the server's shutdown


async def _revoke_while_streaming(
    stack: Stack,
    run_id: str,
    token_id: int,
    viewer: dict[str, str],
    seen: asyncio.Queue[str],
    streamed: asyncio.Task[list[dict[str, Any]]],
) -> None:
    admin = {"authorization": f"Bearer {ADMIN}"}
    while await seen.get() != "step.running":
        pass
    revoked = await stack.client.delete(f"/v1/tokens/{token_id}", headers=admin)
    assert revoked.status_code == 200
    assert (await stack.client.get(f"/v1/runs/{run_id}", headers=viewer)).status_code == 401
    signal = await stack.client.post(f"/v1/runs/{run_id}/signals/first", json={"secret": 1})
    assert signal.status_code == 202, signal.text
    await wait_until(lambda: streamed.done() or "signal.received" in _types(seen))
    assert "signal.received" not in _types(seen)
    events = await streamed  # closed
    assert all(event["event"] != "signal.received" for event in events)
    # The run went on; a valid token's stream sees it.
    later = await stack.client.get(f"/v1/runs/{run_id}/events")
    assert "signal.received" in [event["type"] for event in later.json()]


TWO_SIGNALS = {
    "name": "two-signals",
    "steps": [
        {"id": "first", "wait": {"signal": "first", "timeout_s": 3600}},
        {"id": "second", "wait": {"signal": "second", "timeout_s": 3600}, "after": ["first"]},
    ],
}


def _types(queue: asyncio.Queue[str]) -> list[str]:
    return list(queue._queue)  # type: ignore[attr-defined]  # what came, without taking it


async def test_a_bad_last_event_id_is_a_422_naming_it(stack: Stack) -> None:
    run_id = await stack.submit(TWO_SQUARES, {"n": 1})
    response = await stack.client.get(f"/v1/runs/{run_id}/stream", headers={"Last-Event-ID": "x1"})
    assert "Last-Event-ID" in assert_error(response, 422, "invalid_request")["message"]


async def test_a_stream_sends_this_replicas_commits_without_reading_them(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = 0
    read = runs.history_at_version

    async def counted(*args: Any, **kwargs: Any) -> runs.History | None:
        nonlocal reads
        reads += 1
        return await read(*args, **kwargs)

    monkeypatch.setattr(runs, "history_at_version", counted)
    chain = {
        "name": "five-squares",
        "steps": [
            {"id": "s0", "capability": "test.square", "input": {"value": "$.input.n"}},
            *(
                {
                    "id": f"s{i}",
                    "capability": "test.square",
                    "input": {"value": f"$.steps.s{i - 1}.output.value"},
                }
                for i in range(1, 5)
            ),
        ],
    }
    run_id = await stack.submit(chain, {"n": 1})
    streamed = asyncio.create_task(_sse(stack, run_id))
    await stack.agent(fleet.squares)
    events = await streamed
    history = await stack.events(run_id)
    assert [e["id"] for e in events] == [e["id"] for e in history]
    assert events == [{"event": e["type"], **e} for e in history]  # the same bodies as read
    assert events[-1]["to_state"] == "succeeded"
    # The read when it opened (and, with Redis, one more once its notice channel is
    # confirmed): the run's commits (one or more per step) came from this writer, in memory.
    assert len({e["step_id"] for e in events}) == 6  # the run's own and its 5 steps'
    assert 1 <= reads <= 2


async def _write_elsewhere(stack: Stack, run_id: str, n: int) -> None:
    """What another replica's writer does to the run: a new version with an event."""
    async with stack.runtime.sessions() as session, session.begin():
        await session.execute(
            update(RunRow).where(RunRow.id == run_id).values(version=RunRow.version + 1)
        )
        session.add(
            EventRow(run_id=run_id, type="test.elsewhere", data={"n": n}, created_at=utcnow())
        )


async def _next(seen: asyncio.Queue[str], wanted: str) -> None:
    while await asyncio.wait_for(seen.get(), 60) != wanted:
        pass


async def test_a_stream_reads_what_another_replica_wrote(stack: Stack) -> None:
    run_id = await stack.submit(HOLD)
    seen: asyncio.Queue[str] = asyncio.Queue()
    streamed = asyncio.create_task(_sse(stack, run_id, seen))
    await _next(seen, "step.running")  # read when it opened; now it sleeps on the run
    # Another replica wrote the run and its notice came: the stream reads.
    await _write_elsewhere(stack, run_id, 1)
    await stack.runtime.orchestrator.watch.wake([run_id])
    await _next(seen, "test.elsewhere")
    # Another replica wrote the run, its notice is late or lost, and then this replica
    # commits the next version: the stream sees a version skipped and reads before it sends.
    await _write_elsewhere(stack, run_id, 2)
    assert (await stack.client.post(f"/v1/runs/{run_id}/cancel")).status_code == 202
    events = await streamed
    history = await stack.events(run_id)
    assert [e["id"] for e in events] == [e["id"] for e in history]
    assert [e["data"].get("n") for e in events if e["event"] == "test.elsewhere"] == [1, 2]
    assert events[-1]["to_state"] == "cancelled"


async def test_streams_of_runs_written_in_the_same_batches_get_their_own_events(
    stack: Stack,
) -> None:
    # Runs started together share the writer's batches: each event's id, given by the batch's
    # statement, must land on that event (a mix-up shows as a stream unlike the history).
    run_ids = await asyncio.gather(*(stack.submit(TWO_SQUARES, {"n": n}) for n in range(20)))
    streams = [asyncio.create_task(_sse(stack, run_id)) for run_id in run_ids]
    await stack.agent(fleet.squares)
    for run_id, streamed in zip(run_ids, streams, strict=True):
        events = await streamed
        assert events == [{"event": e["type"], **e} for e in await stack.events(run_id)]
        assert events[-1]["to_state"] == "succeeded"
