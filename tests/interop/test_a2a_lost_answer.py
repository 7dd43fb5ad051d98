"""The answer to MODX's message is lost after the peer made its task (MODX as an A2A client):
the JSON-RPC response of ``SendMessage``, or a ``SendStreamingMessage`` stream before its first
event, never arrives. Each attempt's message carries a context id MODX chose for it, so MODX
asks the peer (``ListTasks`` by that context) for the task the message made and follows it,
instead of sending again (which made a second remote task). A peer without ``ListTasks`` gets
the message again (the fallback). The peer is the a2a-sdk's server (tests/interop/a2a_peer.py)
whose JSON-RPC endpoint closes the connection instead of answering, both modes."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest

from bus import streams
from bus.envelope import Envelope, Kind
from services.egress import EgressPolicy
from services.orchestrator.conversation import TASK_RESUME
from services.orchestrator.remote.a2a import A2aDelivery, attempt_ids
from services.orchestrator.remote.delivery import DeliveryFailed, Reply
from tests.fixtures.services import wait_until
from tests.fixtures.stack import Stack
from tests.interop.a2a_peer import registered, running_peer

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


@pytest.mark.parametrize(
    ("streaming", "method"), [(True, "SendStreamingMessage"), (False, "SendMessage")]
)
async def test_a_lost_answer_is_found_by_its_context_and_followed(
    stack: Stack, streaming: bool, method: str
) -> None:
    async with running_peer(streaming=streaming) as peer:
        peer.release = asyncio.Event()
        peer.lose = [method]
        response = await stack.client.post("/v1/agents/a2a", json={"card_url": peer.card_url})
        assert response.status_code == 201, response.text
        run_id = await stack.submit(FLOW, {"text": "hello"})
        # (Without the look-up, the step failed and its retry made a second remote task.)
        await wait_until(lambda: bool(peer.lost) and bool(peer.tasks), timeout=300)
        await wait_until(lambda: "ListTasks" in peer.calls or len(peer.tasks) > 1, timeout=300)
        peer.release.set()
        run = await stack.wait(run_id, timeout=300)
    assert run["status"] == "succeeded", run
    assert run["output"] == {"text": "HELLO"}
    assert peer.lost == [method]
    assert len(peer.tasks) == 1, peer.calls  # one remote task, found and followed to its end
    assert peer.calls.count(method) == 1
    step = run["steps"][0]
    assert step["attempt"] == 1
    following = step["meta"]["following"]
    assert following["conversation"]["task_id"] == peer.tasks[0]


async def test_a_task_that_ended_before_it_was_looked_for_is_read_whole(stack: Stack) -> None:
    async with running_peer(streaming=True) as peer:
        peer.lose = ["SendStreamingMessage"]  # and shout completes at once
        response = await stack.client.post("/v1/agents/a2a", json={"card_url": peer.card_url})
        assert response.status_code == 201, response.text
        run_id = await stack.submit(FLOW, {"text": "hello"})
        run = await stack.wait(run_id, timeout=300)
    assert run["status"] == "succeeded", run
    assert run["output"] == {"text": "HELLO"}  # the artifact of the task found
    assert len(peer.tasks) == 1, peer.calls
    assert run["steps"][0]["attempt"] == 1


async def test_a_peer_without_list_tasks_gets_the_message_again(stack: Stack) -> None:
    # The fallback: nothing can say whether the lost message made a task, so it goes again
    # (the step's retry), and the peer makes a second task.
    async with running_peer(streaming=False) as peer:
        peer.lose = ["SendMessage"]
        peer.refuse = {"ListTasks"}
        response = await stack.client.post("/v1/agents/a2a", json={"card_url": peer.card_url})
        assert response.status_code == 201, response.text
        run_id = await stack.submit(FLOW, {"text": "hello"})
        run = await stack.wait(run_id, timeout=300)
    assert run["status"] == "succeeded", run
    assert run["output"] == {"text": "HELLO"}
    assert peer.calls.count("SendMessage") == 2
    assert len(peer.tasks) == 2


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "blocking"])
async def test_an_attempt_sent_again_with_only_its_context_follows_the_task(
    streaming: bool,
) -> None:
    """A holder sent the message and died before the peer named the task: the step knows only
    the attempt's context (recorded before the message went). The attempt sent again
    (``modx:task.resume`` with ``{"context_id"}``) finds the task there and follows it."""
    delivery = A2aDelivery(EgressPolicy(["127.0.0.1"]), secret=os.urandom(32))
    published: list[Envelope] = []

    async def publish(envelope: Envelope) -> None:
        published.append(envelope)

    async with running_peer(streaming=streaming) as running:
        _, agent = await registered(delivery, running.card_url, "a2a.helper.shout", "shout")

        def task(**fields: Any) -> Envelope:
            return Envelope(
                kind=Kind.TASK,
                topic="a2a.helper.shout",
                sender="orchestrator",
                run_id="run",
                step_id="remote",
                attempt=1,
                **fields,
            )

        first = task(payload={"text": "hello"})
        context_id, _ = attempt_ids(first, delivery.ids_key)
        # The first holder loses the answer and gives up at once (it "died").
        running.lose = ["SendStreamingMessage" if streaming else "SendMessage"]
        delivery.resume_tries = 1
        with pytest.raises(DeliveryFailed):
            await delivery.deliver(agent, first, Reply(first, agent.id, publish))
        assert len(running.tasks) == 1
        started = [e for e in published if e.topic == streams.TASK_STARTED]
        # Its context was said before the message went (the step keeps it).
        assert started[0].payload["conversation"] == {"context_id": context_id}
        delivery.resume_tries = 6
        again = task(
            schema=TASK_RESUME,
            payload={"input": {"text": "hello"}, "conversation": {"context_id": context_id}},
        )
        await delivery.deliver(agent, again, Reply(again, agent.id, publish))
    await delivery.close()
    assert published[-1].kind == Kind.RESULT, published[-1]
    assert published[-1].payload["output"] == {"text": "HELLO"}
    assert published[-1].payload["conversation"]["task_id"] == running.tasks[0]
    assert len(running.tasks) == 1, running.calls  # followed, not sent again
    assert "ListTasks" in running.calls
