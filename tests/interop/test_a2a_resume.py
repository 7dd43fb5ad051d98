"""An A2A peer whose answer stream breaks mid-way (MODX as the client): MODX picks the same
remote task up again instead of failing the step (which a retry answered with a second remote
task). It subscribes to the task again (``SubscribeToTask``); a peer without that method is
polled (``GetTask``), and a poll that fails (HTTP 503) is tried again; a peer that forgot the
task (restarted) gives an error naming it. The peer
is the a2a-sdk's server (tests/interop/a2a_peer.py) whose JSON-RPC endpoint closes the
connection after a stream's first event, both modes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.orchestrator.remote.a2a import A2aDelivery
from tests.fixtures.services import wait_until
from tests.fixtures.stack import Stack
from tests.interop.a2a_peer import Peer, running_peer

AGENT = "Tax-Helper"
FLOW: dict[str, Any] = {
    "name": "via-shout",
    "steps": [
        {
            "id": "remote",
            "capability": f"a2a.{AGENT}.shout",
            "input": {"text": "$.input.text"},
            "retry": {"max_attempts": 3, "backoff_s": 0.05},
        }
    ],
    "output": "$.steps.remote.output",
}


@pytest.fixture
async def peer(stack: Stack) -> AsyncIterator[Peer]:
    """A streaming peer whose ``shout`` works until the test releases it, registered."""
    async with running_peer(streaming=True) as running:
        running.release = asyncio.Event()
        response = await stack.client.post("/v1/agents/a2a", json={"card_url": running.card_url})
        assert response.status_code == 201, response.text
        yield running


async def test_a_broken_stream_is_picked_up_again_on_the_same_task(
    stack: Stack, peer: Peer
) -> None:
    # The message's stream breaks after the task, then the first resubscription's as well.
    peer.cut = ["SendStreamingMessage", "SubscribeToTask"]
    run_id = await stack.submit(FLOW, {"text": "hello"})
    # (Without resuming, the step fails and its retry makes a second remote task.)
    await wait_until(lambda: len(peer.cuts) == 2 or len(peer.tasks) > 1, timeout=300)
    assert peer.release is not None
    peer.release.set()
    run = await stack.wait(run_id, timeout=300)
    assert run["status"] == "succeeded", run
    assert run["output"] == {"text": "HELLO"}
    assert run["steps"][0]["attempt"] == 1
    assert len(peer.tasks) == 1  # one remote task, followed to its end
    assert peer.calls.count("SendStreamingMessage") == 1
    assert peer.calls.count("SubscribeToTask") >= 1


async def test_a_peer_that_cannot_resubscribe_is_polled(stack: Stack, peer: Peer) -> None:
    peer.cut = ["SendStreamingMessage"]
    peer.refuse = {"SubscribeToTask"}
    run_id = await stack.submit(FLOW, {"text": "hello"})
    await wait_until(lambda: "GetTask" in peer.calls or len(peer.tasks) > 1, timeout=300)
    assert peer.release is not None
    peer.release.set()
    run = await stack.wait(run_id, timeout=300)
    assert run["status"] == "succeeded", run
    assert run["output"] == {"text": "HELLO"}
    assert len(peer.tasks) == 1
    assert peer.calls.count("SendStreamingMessage") == 1


async def test_a_poll_that_fails_is_tried_again_on_the_same_task(stack: Stack) -> None:
    # A peer without streaming: its task is polled (GetTask), and two polls answer 503.
    async with running_peer(streaming=False) as peer:
        peer.release = asyncio.Event()
        peer.unavailable = ["GetTask", "GetTask"]
        response = await stack.client.post("/v1/agents/a2a", json={"card_url": peer.card_url})
        assert response.status_code == 201, response.text
        run_id = await stack.submit(FLOW, {"text": "hello"})
        await wait_until(lambda: not peer.unavailable or len(peer.tasks) > 1, timeout=300)
        peer.release.set()
        run = await stack.wait(run_id, timeout=300)
    assert run["status"] == "succeeded", run
    assert run["output"] == {"text": "HELLO"}
    assert run["steps"][0]["attempt"] == 1
    assert len(peer.tasks) == 1
    # The task SendMessage returned at once was recorded on the step (to be followed again).
    following = run["steps"][0]["meta"]["following"]
    assert following["attempt"] == 1
    assert following["conversation"]["task_id"] == peer.tasks[0]


async def test_a_subscription_without_the_task_first_is_not_a2a(stack: Stack, peer: Peer) -> None:
    # A2A: a subscription starts with the task as it is now (MODX replaces what it holds).
    peer.cut = ["SendStreamingMessage"]
    peer.headless = {"SubscribeToTask"}
    flow = {**FLOW, "steps": [{**FLOW["steps"][0], "retry": {"max_attempts": 1}}]}
    run_id = await stack.submit(flow, {"text": "hello"})
    await wait_until(lambda: bool(peer.dropped) or _ended(stack, run_id), timeout=300)
    assert peer.release is not None
    peer.release.set()  # the subscription's next event is the artifact
    run = await stack.wait(run_id, timeout=300)
    assert run["status"] == "failed", run
    error = run["steps"][0]["error"]
    assert error["code"] == "bad_answer", error
    assert "does not start with the task" in error["message"], error


async def _ended(stack: Stack, run_id: str) -> bool:
    run = (await stack.client.get(f"/v1/runs/{run_id}")).json()
    return run["status"] in ("succeeded", "failed")


async def test_a_task_the_peer_forgot_is_a_clear_error(stack: Stack) -> None:
    delivery = stack.runtime.remote.deliveries["a2a"]
    assert isinstance(delivery, A2aDelivery)
    delivery.resume_tries = 1000  # however slow the restart below, MODX keeps trying
    flow = {**FLOW, "steps": [{**FLOW["steps"][0], "retry": {"max_attempts": 1}}]}
    async with running_peer(streaming=True) as peer:
        peer.release = asyncio.Event()
        peer.cut = ["SendStreamingMessage"]
        peer.down_after_cut = True  # it answers 503 from the cut on, until it restarts
        response = await stack.client.post("/v1/agents/a2a", json={"card_url": peer.card_url})
        assert response.status_code == 201, response.text
        run_id = await stack.submit(flow, {"text": "hello"})
        await wait_until(
            lambda: "SubscribeToTask" in peer.calls or _ended(stack, run_id), timeout=300
        )
        task_id = peer.tasks[0]
        peer.release.set()  # its executor ends with the server
    # The peer restarts on the same port with an empty task store: it forgot the task.
    async with running_peer(streaming=True, port=peer.port) as again:
        run = await stack.wait(run_id, timeout=300)
    assert run["status"] == "failed", run
    error = run["steps"][0]["error"]
    assert error["code"] == "remote_task_lost", error
    assert task_id in error["message"], error
    assert again.tasks == []  # no second remote task
