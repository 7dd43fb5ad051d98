"""A result's acknowledgement goes out in the write that publishes what its commit queued (the
next task), not in a round trip of its own; when that publish fails, the results' subscription
acknowledges it as before. Both modes: embedded (SQLite, in-memory bus) and distributed
(PostgreSQL, Redis)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from bus import streams
from bus.envelope import Envelope
from bus.errors import PublishError
from bus.transport import Ack
from tests.e2e import fleet
from tests.fixtures.services import wait_until
from tests.fixtures.stack import Stack

STEPS = 4
CHAIN = {
    "name": "acked",
    "steps": [
        {"id": "s0", "capability": "test.noop", "input": {}},
        *(
            {
                "id": f"s{i}",
                "capability": "test.noop",
                "input": {"prev": f"$.steps.s{i - 1}.output"},
            }
            for i in range(1, STEPS)
        ),
    ],
}


class Taps:
    """Records the acknowledgements handed to the transport's ``publish_unique``; fails the
    first ``failures`` publishes that carry some, as a Redis that refuses the write would."""

    def __init__(self, stack: Stack, monkeypatch: pytest.MonkeyPatch, failures: int = 0) -> None:
        self.carried: list[Ack] = []
        self.failed: list[Ack] = []
        self.failures = failures
        transport = stack.runtime.transport
        publish = transport.publish_unique

        async def tapped(
            items: Sequence[tuple[str, Envelope]],
            within_s: float,
            *,
            notices: Sequence[tuple[str, str]] = (),
            acks: Sequence[Ack] = (),
        ) -> list[str | None]:
            if acks and self.failures > 0:
                self.failures -= 1
                self.failed.extend(acks)
                raise PublishError("refused by the test")
            self.carried.extend(acks)
            return await publish(items, within_s, notices=notices, acks=acks)

        monkeypatch.setattr(transport, "publish_unique", tapped)


async def _nothing_pending(stack: Stack) -> bool:
    transport = stack.runtime.transport
    partitions = stack.runtime.settings.result_partitions
    for stream in [streams.RESULTS, *map(streams.result_partition, range(partitions))]:
        if await transport.pending(stream, streams.ORCHESTRATOR_GROUP):
            return False
    return True


async def _run(stack: Stack) -> dict[str, Any]:
    await stack.agent(fleet.numbers)
    run = await stack.wait(await stack.submit(CHAIN))
    assert run["status"] == "succeeded"
    # Each result counted once: none came back after a visibility timeout (a redelivery would
    # be recorded as a duplicate).
    assert [step["duplicates"] for step in run["steps"]] == [0] * STEPS
    return run


async def test_a_result_is_acknowledged_with_the_task_its_commit_publishes(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    taps = Taps(stack, monkeypatch)
    run = await _run(stack)
    # Every result but the last queued the next step's task: its entry went out with it.
    ours = [ack for ack in taps.carried if ack.envelope.run_id == run["run_id"]]
    answered = {ack.envelope.step_id for ack in ours if ack.envelope.kind.value == "result"}
    assert answered == {f"s{i}" for i in range(STEPS - 1)}
    assert all(ack.sent for ack in ours)
    assert {ack.group for ack in ours} == {streams.ORCHESTRATOR_GROUP}
    await wait_until(lambda: _nothing_pending(stack))


async def test_a_failed_publish_leaves_the_acknowledgement_to_the_subscription(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer's publish after the commit fails once: the task goes out later (the relay
    publishes its outbox row), and the result's entry is acknowledged by its subscription when
    the handler returns, not redelivered."""
    taps = Taps(stack, monkeypatch, failures=1)
    run = await _run(stack)
    assert [ack.envelope.run_id for ack in taps.failed] == [run["run_id"]]
    assert not any(ack.sent for ack in taps.failed)
    await wait_until(lambda: _nothing_pending(stack))
    # Acknowledged, not redelivered: a redelivery would be on file as a duplicate by now.
    again = (await stack.client.get(f"/v1/runs/{run['run_id']}")).json()
    assert [step["duplicates"] for step in again["steps"]] == [0] * STEPS
