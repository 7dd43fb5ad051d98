"""A2A agents that ask for input: the step waits, the run shows the question, a signal answers,
and the answer goes to the same remote task and context (A2A multi-turn), for as many rounds as
the agent asks. With a real A2A agent (tests/interop/a2a_peer.py), streaming and not, on
PostgreSQL + Redis and embedded. Also: cancelling or timing out while waiting cancels the remote
task, and the credentials an agent is registered with reach it and are never shown."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bus import streams
from bus.envelope import Envelope, Kind
from services.egress import EgressPolicy
from services.orchestrator.conversation import TASK_INPUT
from services.orchestrator.remote.a2a import A2aDelivery
from services.orchestrator.remote.delivery import Reply
from tests.fixtures.services import wait_until
from tests.fixtures.stack import ADMIN, REPO, Stack
from tests.interop.a2a_peer import CHOICES, QUESTIONS, Peer, registered, running_peer

AGENT = "Tax-Helper"
SECRET = "Bearer peer-secret-0123456789"


def asking(**options: Any) -> dict[str, Any]:
    return {
        "name": "asking",
        "steps": [
            {
                "id": "remote",
                "capability": f"a2a.{AGENT}.ask",
                "input": {"rounds": "$.input.rounds"},
                **options,
            }
        ],
        "output": "$.steps.remote.output",
    }


@pytest.fixture(params=["streaming", "blocking"])
async def peer(request: pytest.FixtureRequest, stack: Stack) -> AsyncIterator[Peer]:
    """The peer, registered with the stack by its card URL and with its credentials."""
    async with running_peer(streaming=request.param == "streaming", token=SECRET) as running:
        response = await stack.client.post(
            "/v1/agents/a2a",
            json={"card_url": running.card_url, "headers": {"Authorization": SECRET}},
        )
        assert response.status_code == 201, response.text
        assert SECRET not in response.text
        yield running


async def cli(stack: Stack, *args: str) -> str:
    """``modx ARGS`` against the stack; its standard output."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli.main",
        *args,
        env=stack.env,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def question(stack: Stack, run_id: str, round_: int) -> dict[str, Any]:
    """The run once its step waits for the answer to question ``round_``."""
    found: dict[str, Any] = {}

    async def asked() -> bool:
        found.update((await stack.client.get(f"/v1/runs/{run_id}")).json())
        meta = found["steps"][0]["meta"]
        return "question" in meta and meta.get("rounds") == round_

    await wait_until(asked, timeout=60)
    return found


async def test_the_step_waits_and_the_answers_reach_the_same_remote_task(
    stack: Stack, peer: Peer
) -> None:
    run_id = await stack.submit(asking(), {"rounds": 2})
    run = await question(stack, run_id, 1)
    step = run["steps"][0]
    assert run["status"] == "running" and step["status"] == "running"
    meta = step["meta"]
    assert meta["question"] == {"text": QUESTIONS[0], "data": [CHOICES]}
    assert meta["signal"] == "remote"
    remote_task, remote_context = (
        meta["conversation"]["task_id"],
        meta["conversation"]["context_id"],
    )
    assert remote_task and remote_context
    events = await stack.events(run_id)
    shown = [e for e in events if e["type"] == "step.input_required"]
    assert shown[0]["data"]["question"]["text"] == QUESTIONS[0]
    assert shown[0]["data"]["conversation"]["task_id"] == remote_task

    # A body that is no answer is refused, naming the field; nothing moves.
    refused = await stack.client.post(f"/v1/runs/{run_id}/signals/remote", json={"text": 2025})
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["message"].startswith("$.text: ")
    extra = await stack.client.post(f"/v1/runs/{run_id}/signals/remote", json={"year": 2025})
    assert extra.status_code == 422 and "year" in extra.json()["error"]["message"]
    assert not peer.answers

    sent = await stack.client.post(f"/v1/runs/{run_id}/signals/remote", json={"text": "2025"})
    assert sent.status_code == 202, sent.text
    assert sent.json()["steps"] == ["remote"]
    again = await question(stack, run_id, 2)
    assert again["steps"][0]["meta"]["question"]["text"] == QUESTIONS[1]
    assert again["steps"][0]["meta"]["conversation"]["task_id"] == remote_task
    sent = await stack.client.post(
        f"/v1/runs/{run_id}/signals/remote", json={"data": {"status": "single"}}
    )
    assert sent.status_code == 202, sent.text

    done = await stack.wait(run_id)
    assert done["status"] == "succeeded", done
    assert done["output"] == {
        "answers": [{"text": "2025"}, {"status": "single"}],
        "task_id": remote_task,
    }
    assert [(a.task_id, a.context_id) for a in peer.answers] == [(remote_task, remote_context)] * 2
    # Each answer named the task and context it continues (A2A multi-turn).
    assert all(
        (a.message_task_id, a.message_context_id) == (a.task_id, a.context_id) for a in peer.answers
    )
    kept = done["steps"][0]["meta"]
    assert kept["conversation"]["context_id"] == remote_context and "question" not in kept
    assert peer.served.count("ask") == 3  # the question and the two answers, one remote task
    late = await stack.client.post(f"/v1/runs/{run_id}/signals/remote", json={"text": "x"})
    assert late.status_code == 409


async def test_cancelling_a_waiting_run_cancels_the_remote_task(stack: Stack, peer: Peer) -> None:
    run_id = await stack.submit(asking(), {"rounds": 1})
    run = await question(stack, run_id, 1)
    remote_task = run["steps"][0]["meta"]["conversation"]["task_id"]
    assert (await stack.client.post(f"/v1/runs/{run_id}/cancel")).status_code == 202
    await wait_until(lambda: remote_task in peer.cancelled, timeout=60)
    assert (await stack.wait(run_id))["status"] == "cancelled"


async def test_a_timeout_while_waiting_times_the_step_out_and_cancels_the_remote_task(
    stack: Stack, peer: Peer
) -> None:
    run_id = await stack.submit(asking(timeout_s=4), {"rounds": 1})
    done = await stack.wait(run_id)
    assert done["status"] == "failed" and done["error"]["code"] == "step_timed_out", done
    assert done["steps"][0]["status"] == "timed_out"
    assert done["steps"][0]["error"]["code"] == "timeout"
    assert "question" not in done["steps"][0]["meta"]
    events = await stack.events(run_id)
    [asked] = [e for e in events if e["type"] == "step.input_required"]
    remote_task = asked["data"]["conversation"]["task_id"]
    await wait_until(lambda: remote_task in peer.cancelled, timeout=60)
    late = await stack.client.post(f"/v1/runs/{run_id}/signals/remote", json={"text": "x"})
    assert late.status_code == 409


async def test_the_agents_credentials_reach_it_and_are_never_shown(
    stack: Stack, peer: Peer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    run_id = await stack.submit(asking(), {"rounds": 1})
    await question(stack, run_id, 1)
    # The CLI shows the question and answers it, as it does any signal.
    shown = await cli(stack, "run", "show", run_id)
    assert f"waiting for signal remote (modx run signal {run_id} remote)" in shown
    assert f"the agent asks: {QUESTIONS[0]}" in shown and json.dumps(CHOICES) in shown
    sent = await cli(stack, "run", "signal", run_id, "remote", "--data", '{"text": "2025"}')
    assert "taken by remote" in sent
    done = await stack.wait(run_id)
    assert done["status"] == "succeeded" and done["output"]["answers"] == [{"text": "2025"}]
    paths = {path for path, seen in peer.authorizations if seen == SECRET}
    assert {"/.well-known/agent-card.json", "/rpc"} <= paths
    assert all(seen == SECRET for _, seen in peer.authorizations)
    admin = {"authorization": f"Bearer {ADMIN}"}
    agents = (await stack.client.get("/v1/agents", params={"name": AGENT})).json()
    pages = [
        json.dumps(agents),
        (await stack.client.get(f"/v1/agents/{agents[0]['agent_id']}")).text,
        (await stack.client.get(f"/v1/runs/{run_id}/events")).text,
        (await stack.client.get(f"/v1/runs/{run_id}", headers=admin)).text,
    ]
    assert not [text for text in pages if "peer-secret" in text]
    # Nor in the log, at any level (the peer's own server, in this process, logs what it got).
    logged = [r.getMessage() for r in caplog.records if not r.name.startswith("a2a.server")]
    assert not [line for line in logged if "peer-secret" in line]


async def test_an_agent_that_refuses_the_credentials_fails_the_step_at_once(
    stack: Stack,
) -> None:
    async with running_peer(token=SECRET) as running:
        for name, headers in (("none", {}), ("wrong", {"Authorization": "Bearer wrong"})):
            body = {"card_url": running.card_url, "headers": headers, "name": name}
            added = await stack.client.post("/v1/agents/a2a", json=body)
            assert added.status_code == 201, added.text
            step = {"id": "s", "capability": f"a2a.{name}.shout", "input": {"text": "x"}}
            retried = {**step, "retry": {"max_attempts": 3, "backoff_s": 0.1}}
            run = await stack.wait(await stack.submit({"name": "locked", "steps": [retried]}))
            assert run["status"] == "failed", run
            error = run["steps"][0]["error"]
            assert error["code"] == "unauthorized" and not error["retryable"], error
            assert "HTTP 401" in error["message"] and run["steps"][0]["attempt"] == 1


async def test_bad_headers_are_a_422_naming_the_field(stack: Stack) -> None:
    async with running_peer() as running:
        for headers, message in (
            ({"Bad Name": "x"}, "not a header name"),
            ({"Authorization": "Bearer a\r\nX-Evil: 1"}, "control character"),
            ({"Host": "elsewhere"}, "HTTP's own"),
        ):
            response = await stack.client.post(
                "/v1/agents/a2a", json={"card_url": running.card_url, "headers": headers}
            )
            assert response.status_code == 422, response.text
            error = response.json()["error"]
            assert "$.headers" in error["message"] and message in error["message"], error
        assert not running.authorizations  # refused before anything was sent


async def test_each_item_of_a_fan_out_is_answered_by_its_own_signal(
    stack: Stack, peer: Peer
) -> None:
    fan_out = {
        "name": "ask-each",
        "steps": [
            {
                "id": "remote",
                "capability": f"a2a.{AGENT}.ask",
                "for_each": "$.input.rounds",
                "input": {"rounds": "$.item"},
            }
        ],
        "output": "$.steps.remote.output",
    }
    run_id = await stack.submit(fan_out, {"rounds": [1, 1]})

    async def both_asked() -> bool:
        events = await stack.events(run_id)
        return len([e for e in events if e["type"] == "step.input_required"]) == 2

    await wait_until(both_asked, timeout=60)
    events = await stack.events(run_id)
    signals = sorted(e["data"]["signal"] for e in events if e["type"] == "step.input_required")
    assert signals == ["remote.0", "remote.1"]
    for index in (1, 0):
        sent = await stack.client.post(
            f"/v1/runs/{run_id}/signals/remote.{index}", json={"text": f"item {index}"}
        )
        assert sent.status_code == 202, sent.text
        assert sent.json()["steps"] == ["remote"]  # the fan-out's step took it for its item
    done = await stack.wait(run_id)
    assert done["status"] == "succeeded", done
    assert [item["answers"] for item in done["output"]] == [
        [{"text": "item 0"}],
        [{"text": "item 1"}],
    ]


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "blocking"])
async def test_an_answer_sent_again_is_not_given_twice(streaming: bool) -> None:
    """After a crash the outbox may send the answer again: the remote task, read first, has
    it already, so it is followed to its end and not answered a second time."""
    delivery = A2aDelivery(EgressPolicy(["127.0.0.1"]), secret=os.urandom(32))
    published: list[Envelope] = []

    async def publish(envelope: Envelope) -> None:
        published.append(envelope)

    async with running_peer(streaming=streaming) as running:
        _, agent = await registered(delivery, running.card_url, "a2a.helper.ask", "ask")

        def task(**fields: Any) -> Envelope:
            return Envelope(
                kind=Kind.TASK,
                topic="a2a.helper.ask",
                sender="orchestrator",
                run_id="run",
                step_id="remote",
                **fields,
            )

        asking = task(payload={"rounds": 1})
        await delivery.deliver(agent, asking, Reply(asking, agent.id, publish))
        [*_, asked] = published
        assert asked.topic == streams.TASK_INPUT_REQUIRED
        conversation = asked.payload["conversation"]
        answer = task(
            schema=TASK_INPUT,
            payload={"answer": {"text": "2025"}, "conversation": conversation},
        )
        outputs = []
        for _ in range(2):  # the answer, then the same answer sent again
            await delivery.deliver(agent, answer, Reply(answer, agent.id, publish))
            assert published[-1].kind == Kind.RESULT, published[-1]
            outputs.append(published[-1].payload["output"])
    await delivery.close()
    expected = {"answers": [{"text": "2025"}], "task_id": conversation["task_id"]}
    assert outputs == [expected, expected]
    assert len(running.answers) == 1
