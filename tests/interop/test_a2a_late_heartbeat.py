"""A follower of a remote A2A task that is alive but whose heartbeats come late (a bus outage, a
writer backlog): the task sent again follows the same remote task, and the superseded delivery
stops without ``CancelTask`` (before, it cancelled the very task its successor then found
``cancelled``, and the run failed). A real cancel (the run's) still reaches the peer. The peer
is the a2a-sdk's server (tests/interop/a2a_peer.py); ``MODX_A2A_HEARTBEAT_TIMEOUT_S=1`` and the
delivery's heartbeats patched far apart, both modes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from services.orchestrator.remote import a2a
from tests.fixtures.services import wait_until
from tests.fixtures.stack import Stack, running_stack
from tests.interop.a2a_peer import Peer, running_peer

AGENT = "Tax-Helper"


def flow(skill: str) -> dict[str, Any]:
    """One A2A step, one attempt: any error of the remote task fails the run."""
    step = {
        "id": "remote",
        "capability": f"a2a.{AGENT}.{skill}",
        "input": {"text": "$.input.text"},
        "retry": {"max_attempts": 1},
    }
    return {"name": f"late-{skill}", "steps": [step], "output": "$.steps.remote.output"}


@pytest.fixture(params=["embedded", "distributed"])
async def stack(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Stack]:
    """MODX whose A2A steps lose their heartbeats after 1 s, while deliveries beat every 60 s."""
    monkeypatch.setattr(a2a, "HEARTBEAT_S", 60.0)
    database_url = redis = None
    if request.param == "distributed":
        database_url = request.getfixturevalue("postgres_migrated_url")
        redis = request.getfixturevalue("redis_url")
    async with running_stack(
        request.param,
        tmp_path,
        database_url,
        redis,
        a2a_heartbeat_timeout_s=1.0,
        egress_allow=["127.0.0.1"],
    ) as running:
        yield running


@pytest.fixture
async def peer(stack: Stack) -> AsyncIterator[Peer]:
    """A streaming peer whose ``shout`` works until the test releases it, registered."""
    async with running_peer(streaming=True) as running:
        running.release = asyncio.Event()
        response = await stack.client.post("/v1/agents/a2a", json={"card_url": running.card_url})
        assert response.status_code == 201, response.text
        yield running


async def _lost_twice(stack: Stack, run_id: str) -> bool:
    """Whether the step's heartbeats were lost twice (its task sent again twice), or it ended."""
    run = (await stack.client.get(f"/v1/runs/{run_id}")).json()
    if run["status"] != "running":
        return True
    events = (await stack.client.get(f"/v1/runs/{run_id}/events")).json()
    lost = sum(1 for e in events if e["type"] == "step.heartbeat_lost")
    return lost >= 2


async def test_late_heartbeats_hand_the_remote_task_over_without_cancelling_it(
    stack: Stack, peer: Peer
) -> None:
    run_id = await stack.submit(flow("shout"), {"text": "hello"})
    await wait_until(lambda: _lost_twice(stack, run_id), timeout=300, interval=0.2)
    assert peer.release is not None
    peer.release.set()
    run = await stack.wait(run_id, timeout=300)
    assert peer.cancelled == []  # the superseded followers stopped on MODX's side only
    assert run["status"] == "succeeded", run
    assert run["output"] == {"text": "HELLO"}
    assert run["steps"][0]["attempt"] == 1
    assert len(peer.tasks) == 1  # one remote task, followed by each task sent again
    assert peer.calls.count("SendStreamingMessage") == 1
    assert peer.calls.count("SubscribeToTask") >= 2


async def test_cancelling_the_run_after_a_handover_still_cancels_the_remote_task(
    stack: Stack, peer: Peer
) -> None:
    run_id = await stack.submit(flow("hold"), {"text": "x"})
    await wait_until(lambda: _lost_twice(stack, run_id), timeout=300, interval=0.2)
    assert peer.cancelled == []
    assert (await stack.client.post(f"/v1/runs/{run_id}/cancel")).status_code == 202
    await wait_until(lambda: bool(peer.cancelled), timeout=300)
    assert peer.cancelled == peer.tasks  # the one remote task, cancelled
    assert (await stack.wait(run_id))["status"] == "cancelled"


async def test_a_task_redelivered_to_follow_its_remote_task_stops_the_old_delivery_quietly(
    stack: Stack, peer: Peer
) -> None:
    # No cancel event here (the bus lost the task, as after a Redis flush): the dispatcher's
    # watch finds the old delivery superseded, and its remote task resumed by the new one.
    step = {**flow("shout")["steps"][0], "heartbeat_timeout_s": 600}
    run_id = await stack.submit({**flow("shout"), "steps": [step]}, {"text": "hello"})
    await wait_until(lambda: _following(stack, run_id, peer), timeout=300, interval=0.2)
    orchestrator = stack.runtime.orchestrator
    sent = await orchestrator.in_run(
        run_id, lambda ctx: orchestrator.engine.redeliver(ctx, lambda row: True, "lost")
    )
    assert sent == 1
    remote = stack.runtime.remote
    await wait_until(lambda: remote.cancelled >= 1 and "SubscribeToTask" in peer.calls)
    await wait_until(lambda: remote.in_flight == 1)  # the old delivery stopped
    assert peer.release is not None
    peer.release.set()
    run = await stack.wait(run_id, timeout=300)
    assert peer.cancelled == []
    assert run["status"] == "succeeded", run
    assert run["output"] == {"text": "HELLO"}
    assert len(peer.tasks) == 1


async def _following(stack: Stack, run_id: str, peer: Peer) -> bool:
    """Whether the step records the peer's one remote task as the one it follows."""
    run = (await stack.client.get(f"/v1/runs/{run_id}")).json()
    following = run["steps"][0]["meta"].get("following", {})
    return bool(peer.tasks) and following.get("conversation", {}).get("task_id") == peer.tasks[0]
