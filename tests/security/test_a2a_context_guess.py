"""MODX as an A2A client names the context of each attempt's remote task itself (so that a lost
answer can be found by it). A context named from the run, step and attempt alone (a UUIDv5 in a
namespace written in MODX's source) could be computed by anyone who learns the run id: the
tenant's other agents, whoever it is shared with. Another client of the same peer could then
list that context and read the step's task (its input and artifacts), or add its own task to
it, which a lost answer would make MODX follow. The peer is the a2a-sdk's server
(tests/interop/a2a_peer.py), which, like many, shows every unauthenticated client the same
tasks. The delivery code is the same in both modes."""

from __future__ import annotations

import os
import uuid
from typing import Any

from a2a.types import ListTasksRequest

from bus.envelope import Envelope, Kind
from services.egress import EgressPolicy
from services.orchestrator.remote.a2a import A2aDelivery
from services.orchestrator.remote.delivery import Reply
from tests.interop.a2a_peer import registered, running_peer

# The namespace the first version derived attempt contexts in (public, in its source).
PUBLISHED = uuid.UUID("5b0f3f2e-6d1c-4f7a-9a53-0c2a2a1e8d41")
RUN_ID = "019b0a6e-2f4c-7d2a-9c1e-5a3b2c1d0e9f"  # what the attacker learned


async def test_another_client_cannot_name_the_context_of_a_step() -> None:
    delivery = A2aDelivery(EgressPolicy(["127.0.0.1"]), secret=os.urandom(32))
    attacker = A2aDelivery(EgressPolicy(["127.0.0.1"]), secret=os.urandom(32))
    published: list[Envelope] = []

    async def publish(envelope: Envelope) -> None:
        published.append(envelope)

    async with running_peer(streaming=True) as running:
        card, agent = await registered(delivery, running.card_url, "a2a.helper.shout", "shout")
        fields: dict[str, Any] = {"run_id": RUN_ID, "step_id": "remote", "attempt": 1}
        task = Envelope(
            kind=Kind.TASK,
            topic="a2a.helper.shout",
            sender="orchestrator",
            payload={"text": "tenant secret"},
            **fields,
        )
        await delivery.deliver(agent, task, Reply(task, agent.id, publish))
        assert published[-1].payload["output"] == {"text": "TENANT SECRET"}
        context_id = published[-1].payload["conversation"]["context_id"]

        guess = str(uuid.uuid5(PUBLISHED, f"context:{RUN_ID}/remote/1"))
        request = ListTasksRequest(context_id=guess, include_artifacts=True, history_length=10)
        listed = await attacker.client(card).list_tasks(request)
        # The peer shows its tasks to every client: what stands between is the context's name.
        everything = await attacker.client(card).list_tasks(ListTasksRequest())
    await delivery.close()
    await attacker.close()
    assert [t.context_id for t in everything.tasks] == [context_id]
    assert "TENANT SECRET" not in str(listed), listed
    assert list(listed.tasks) == []
    assert guess != context_id
