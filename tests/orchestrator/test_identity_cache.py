"""The sender's identity under a burst, in both modes: results arriving together from one agent
whose cached identity ran out read the registry once, not once each; and an agent that
registers again while a read is under way is read afresh."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event

from bus.signing import generate_keypair
from tests.fixtures.identity import keyed
from tests.fixtures.stack import Stack


def _count_agent_reads(stack: Stack) -> list[str]:
    reads: list[str] = []

    def seen(*args: Any) -> None:
        statement = str(args[2])
        if "FROM agents" in statement:
            reads.append(statement)

    authenticator = stack.runtime.orchestrator.authenticator
    engine = authenticator.sessions.kw["bind"].sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    return reads


async def test_a_burst_of_answers_reads_the_sender_once(stack: Stack) -> None:
    key = generate_keypair()[0]
    card = keyed({"name": "burst", "capabilities": [{"name": "burst.work"}]}, key)
    response = await stack.client.post("/v1/agents", json=card)
    assert response.status_code == 201, response.text
    agent_id = response.json()["agent_id"]
    authenticator = stack.runtime.orchestrator.authenticator
    authenticator.forget(agent_id)
    reads = _count_agent_reads(stack)

    found = await asyncio.gather(*(authenticator.identity(agent_id) for _ in range(50)))

    assert len(reads) == 1, reads
    assert all(f is found[0] for f in found)
    assert found[0] is not None and found[0].agent_id == agent_id
    assert found[0].capabilities == frozenset({"burst.work"})
    # Cached now: more answers read nothing.
    await authenticator.identity(agent_id)
    assert len(reads) == 1


async def test_a_read_under_way_when_the_agent_changes_is_not_kept(stack: Stack) -> None:
    first = generate_keypair()[0]
    card = keyed({"name": "rekey", "capabilities": [{"name": "rekey.work"}]}, first)
    response = await stack.client.post("/v1/agents", json=card)
    assert response.status_code == 201, response.text
    agent_id = response.json()["agent_id"]
    authenticator = stack.runtime.orchestrator.authenticator
    authenticator.forget(agent_id)

    under_way = asyncio.ensure_future(authenticator.identity(agent_id))
    await asyncio.sleep(0)  # the read has begun
    authenticator.forget(agent_id)  # the agent registered again meanwhile
    old = await under_way
    assert old is not None
    fresh = await authenticator.identity(agent_id)

    assert fresh is not old  # read again, not the read that began before the change
    assert fresh is not None and fresh.agent_id == agent_id
