"""Attacks on the results path, in both modes: forged, misbound, stale and replayed answers are
dead-lettered with their reason, counted, and change nothing.

The attacker writes to ``modx.results`` as an agent holding its own credentials (its key and,
on Redis, the bus URL the registry gave it) and as a raw client holding the server's own bus.
The honest agent is played by the test: it registered with its key and answers by hand, so
the step's task stays out for as long as the attacks take.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx

from bus import streams
from bus.envelope import Envelope, Kind, utcnow
from bus.factory import create_transport
from bus.ids import new_id
from bus.signing import Ed25519PrivateKey, generate_keypair, sign
from bus.transport import Transport
from tests.e2e import fleet
from tests.fixtures.identity import keyed
from tests.fixtures.services import wait_until
from tests.fixtures.stack import ADMIN, Stack

HOLD = {"name": "hold", "steps": [{"id": "h", "capability": "test.hold", "input": {"n": 1}}]}


async def _register(
    stack: Stack, name: str, capability: str
) -> tuple[dict[str, Any], Ed25519PrivateKey]:
    key = generate_keypair()[0]
    card = keyed({"name": name, "capabilities": [{"name": capability}]}, key)
    response = await stack.client.post("/v1/agents", json=card)
    assert response.status_code == 201, response.text
    return response.json(), key


def _answer(
    step: dict[str, Any], run_id: str, sender: str, key: Ed25519PrivateKey | None, **change: Any
) -> Envelope:
    envelope = Envelope(
        kind=Kind.RESULT,
        topic="test.hold",
        sender=sender,
        run_id=run_id,
        step_id="h",
        attempt=1,
        correlation_id=run_id,
        causation_id=step["task_id"],
        payload={"output": {"forged": True}},
    ).model_copy(update=change)
    return envelope if key is None else sign(envelope, key)


async def _step(stack: Stack, run_id: str) -> dict[str, Any]:
    async def dispatched() -> bool:
        run = (await stack.client.get(f"/v1/runs/{run_id}")).json()
        return bool(run["steps"] and run["steps"][0]["task_id"])

    await wait_until(dispatched)
    step: dict[str, Any] = (await stack.client.get(f"/v1/runs/{run_id}")).json()["steps"][0]
    return step


async def _rejected(client: httpx.AsyncClient) -> dict[str, float]:
    text = (await client.get("/metrics", headers={"authorization": f"Bearer {ADMIN}"})).text
    found = re.findall(r'^modx_rejected_messages_total\{reason="(\w+)"\} (\S+)$', text, re.M)
    return {reason: float(value) for reason, value in found}


async def _dead(transport: Transport, ids: set[str]) -> dict[str, str]:
    letters = await transport.dead_letters(streams.RESULTS, limit=1000)
    return {d.envelope.id: d.reason for d in letters if d.envelope and d.envelope.id in ids}


async def test_forged_answers_change_nothing(stack: Stack) -> None:
    honest, honest_key = await _register(stack, "honest", "test.hold")
    other, other_key = await _register(stack, "other", "test.other")
    rival, rival_key = await _register(stack, "rival", "test.hold")
    await _forge(stack, honest, honest_key, other, other_key, rival, rival_key)


async def _forge(
    stack: Stack,
    honest: dict[str, Any],
    honest_key: Ed25519PrivateKey,
    other: dict[str, Any],
    other_key: Ed25519PrivateKey,
    rival: dict[str, Any],
    rival_key: Ed25519PrivateKey,
) -> None:
    run_id = await stack.submit(HOLD)
    step = await _step(stack, run_id)
    before = await _rejected(stack.client)
    events_before = len(await stack.events(run_id))

    honest_id, other_id, rival_id = honest["agent_id"], other["agent_id"], rival["agent_id"]
    started = sign(
        Envelope(
            kind=Kind.EVENT,
            topic=streams.TASK_STARTED,
            sender=honest_id,
            run_id=run_id,
            step_id="h",
            causation_id=step["task_id"],
            payload={"started_at": utcnow().isoformat()},
        ),
        honest_key,
    )
    attacks = {
        "unsigned": (_answer(step, run_id, honest_id, None), "bad_signature"),
        "other agent's key": (_answer(step, run_id, honest_id, other_key), "bad_signature"),
        "does not serve it": (_answer(step, run_id, other_id, other_key), "wrong_agent"),
        "no such agent": (_answer(step, run_id, "agent-x", other_key), "unknown_sender"),
        "orchestrator, unsigned": (_answer(step, run_id, "orchestrator", None), "forged"),
        "orchestrator, agent's key": (
            _answer(step, run_id, "orchestrator", honest_key),
            "forged",
        ),
        "wrong causation": (
            _answer(step, run_id, honest_id, honest_key, causation_id=new_id()),
            "unbound",
        ),
        "no causation": (
            _answer(step, run_id, honest_id, honest_key, causation_id=None),
            "unbound",
        ),
        "wrong attempt": (_answer(step, run_id, honest_id, honest_key, attempt=2), "unbound"),
        "wrong step": (_answer(step, run_id, honest_id, honest_key, step_id="x"), "unbound"),
        "stale": (
            _answer(step, run_id, honest_id, honest_key, created_at=utcnow() - timedelta(hours=1)),
            "stale",
        ),
        "from the future": (
            _answer(step, run_id, honest_id, honest_key, created_at=utcnow() + timedelta(hours=1)),
            "stale",
        ),
        "claimed by another": (_answer(step, run_id, rival_id, rival_key), "wrong_agent"),
    }
    # A raw client with the server's bus; and, on Redis, the agent with the bus URL it was given.
    raw = stack.runtime.transport
    own: Transport = raw
    if stack.mode == "distributed":
        assert other["bus_url"] != stack.settings.redis_url
        own = create_transport(other["bus_url"], trim_interval_s=0)
    try:
        await raw.publish(streams.RESULTS, started)  # the honest agent claims the task first
        await wait_until(lambda: _status(stack, run_id, "running"))
        for index, (envelope, _) in enumerate(attacks.values()):
            await (own if index % 2 else raw).publish(streams.RESULTS, envelope)
        ids = {envelope.id for envelope, _ in attacks.values()}
        await wait_until(lambda: _count(raw, ids, len(ids)))
        reasons = await _dead(raw, ids)
    finally:
        if own is not raw:
            await own.close()

    for name, (envelope, code) in attacks.items():
        assert reasons[envelope.id].startswith(f"rejected: {code}: "), (name, reasons[envelope.id])
    after = await _rejected(stack.client)
    for code in {code for _, code in attacks.values()}:
        expected = sum(1 for _, c in attacks.values() if c == code)
        assert after.get(code, 0) - before.get(code, 0) == expected, code
    run = (await stack.client.get(f"/v1/runs/{run_id}")).json()
    assert run["status"] == "running" and run["steps"][0]["status"] == "running"
    assert run["steps"][0]["agent_id"] == honest_id and run["steps"][0]["duplicates"] == 0
    events = await stack.events(run_id)
    assert len(events) == events_before + 2  # the honest start: message.received, step.running
    assert all(e.get("envelope_id") not in ids for e in events)

    # The honest answer is recorded; the ledger holds it and still verifies.
    honest_answer = _answer(step, run_id, honest_id, honest_key, payload={"output": {"n": 1}})
    await raw.publish(streams.RESULTS, honest_answer)
    done = await stack.wait(run_id)
    assert done["status"] == "succeeded" and done["output"] == {"h": {"n": 1}}
    verify = await stack.client.get(
        "/v1/ledger/verify", headers={"authorization": f"Bearer {ADMIN}"}
    )
    assert verify.json()["ok"]


async def test_replaying_a_finished_run_changes_nothing(stack: Stack) -> None:
    await _register(stack, "holder", "test.hold")
    await _replay(stack)


async def _replay(stack: Stack) -> None:
    tap: list[Envelope] = []

    async def record(envelope: Envelope) -> None:
        tap.append(envelope)

    # Answers go to their run's partition stream (a task's reply_to), or to RESULTS.
    partitions = stack.runtime.settings.result_partitions
    listeners = [
        await stack.runtime.transport.subscribe(stream, "tap", "t", record)
        for stream in [streams.RESULTS, *map(streams.result_partition, range(partitions))]
    ]
    await stack.agent(fleet.numbers)
    await stack.agent(fleet.squares)
    workflow = {
        "name": "replayed",
        "steps": [
            {"id": "r", "capability": "test.range", "input": {"n": 3}},
            {
                "id": "sq",
                "capability": "test.square",
                "for_each": "$.steps.r.output.items",
                "input": {"value": "$.item"},
            },
        ],
    }
    first = await stack.wait(await stack.submit(workflow))
    second = await stack.wait(await stack.submit(workflow))
    assert first["status"] == second["status"] == "succeeded"
    held = await stack.submit(HOLD)  # a run still waiting for its answer
    await _step(stack, held)
    accepted = [e for e in tap if e.run_id == first["run_id"]]
    assert {e.kind for e in accepted} >= {Kind.RESULT}
    for listener in listeners:
        await listener.stop()
    snapshot = {r: await _state(stack, r) for r in (first["run_id"], second["run_id"], held)}

    replays: list[Envelope] = []
    for envelope in accepted:
        replays.append(envelope)  # as it was
        for target in (second["run_id"], held):
            moved = envelope.model_copy(update={"run_id": target, "correlation_id": target})
            replays.append(moved.model_copy(update={"id": new_id()}))  # signature broken
            agent = fleet.numbers if envelope.topic == "test.range" else fleet.squares
            replays.append(agent.sign(moved.model_copy(update={"id": new_id()})))  # re-signed
            held_answer = moved.model_copy(update={"id": new_id(), "step_id": "h"})
            replays.append(agent.sign(held_answer))
    for envelope in replays:
        await stack.runtime.transport.publish(streams.RESULTS, envelope)
    ids = {e.id for e in replays}
    await wait_until(lambda: _count(stack.runtime.transport, ids, len(ids)))
    reasons = await _dead(stack.runtime.transport, ids)
    assert all(reasons[e.id].startswith("rejected: replay: ") for e in accepted)
    assert {r.split(":")[1].strip() for r in reasons.values()} <= {
        "replay",
        "bad_signature",
        "unbound",
    }
    for run_id, state in snapshot.items():
        assert await _state(stack, run_id) == state


async def _state(stack: Stack, run_id: str) -> tuple[Any, ...]:
    run = (await stack.client.get(f"/v1/runs/{run_id}")).json()
    events = await stack.events(run_id)
    return run["status"], run["output"], run["steps"], len(events)


async def _status(stack: Stack, run_id: str, status: str) -> bool:
    run = (await stack.client.get(f"/v1/runs/{run_id}")).json()
    return bool(run["steps"][0]["status"] == status)


async def _count(transport: Transport, ids: set[str], count: int) -> bool:
    return len(await _dead(transport, ids)) >= count
