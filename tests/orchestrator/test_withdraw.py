"""Taking tasks sent on back from an agent's inbox (``Transport.withdraw`` after the commit,
``Orchestrator.committed``), through the real writer, in both modes: embedded (SQLite, the
in-memory bus) and distributed (PostgreSQL, Redis). The orchestrator's loops are not running."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bus import streams
from bus.envelope import Envelope
from services.config import Settings
from services.ledger.keys import create_key_file
from services.orchestrator.context import RunContext
from services.registry import store
from services.registry.schemas import AgentCard
from services.runtime import Runtime
from tests.orchestrator.test_engine import at, one_step, set_status, start, step_row


@pytest.fixture(params=["embedded", "distributed"])
async def runtime(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Runtime]:
    """MODX without its loops, and one live bus agent serving ``t.work``."""
    if request.param == "embedded":
        settings = Settings(data_dir=tmp_path)
    else:
        create_key_file(tmp_path / "ledger.key")
        settings = Settings(
            database_url=request.getfixturevalue("postgres_migrated_url"),
            redis_url=request.getfixturevalue("redis_url"),
            data_dir=tmp_path,
            ledger_key_file=tmp_path / "ledger.key",
        )
    rt = await Runtime.open(settings, orchestrate=False)
    card = AgentCard(name="worker", capabilities=[{"name": "t.work"}])
    async with rt.sessions() as session, session.begin():
        await store.register_agent(session, card, lease_s=600)
    try:
        yield rt
    finally:
        await rt.close()


async def worker_inbox(rt: Runtime) -> tuple[str, str]:
    """The worker's agent id and inbox, read once by a consumer that stopped (so its group
    exists, as an agent that read on and then paused leaves it)."""
    async with rt.readers() as session:
        [worker] = await store.list_agents(session, name="worker")
    inbox = streams.inbox(worker.id)

    async def never(envelope: Envelope) -> None:
        raise AssertionError(f"read {envelope.id} before the test asked")

    await (await rt.transport.subscribe(inbox, worker.id, "worker-1", never)).stop()
    return worker.id, inbox


async def leaves(rt: Runtime, agent_id: str) -> None:
    """The worker deregisters (draining), and a second registration of its name, to send
    its tasks on to, is there."""
    card = AgentCard(name="worker", capabilities=[{"name": "t.work"}])
    async with rt.sessions() as session, session.begin():
        await store.register_agent(session, card, lease_s=600)
    await set_status(rt, agent_id, "draining")


async def read_inbox(rt: Runtime, agent_id: str, inbox: str) -> list[str]:
    """The task ids the agent, reading on, gets from its inbox."""
    seen: list[str] = []

    async def records(envelope: Envelope) -> None:
        seen.append(envelope.id)

    reads_on = await rt.transport.subscribe(inbox, agent_id, "worker-1", records)
    await asyncio.sleep(0.5)  # what it would read, it reads at once
    await reads_on.stop()
    return seen


async def test_sending_on_one_runs_task_leaves_another_runs_unread_task_in_the_inbox(
    runtime: Runtime,
) -> None:
    """The agent leaves with the task of run 1 unread in its inbox; the task of run 2 reached
    the inbox after the sweep read which runs to look at (another replica's router still
    had the agent). Sending run 1's task on takes back that task only: run 2's stays for the
    agent, which gets it reading on. (Before, every unread entry was taken: run 2's step
    stayed running with no task anywhere until its deadline.)"""
    agent_id, inbox = await worker_inbox(runtime)
    first = await start(runtime, one_step(agent="worker"))
    second = await start(runtime, one_step(agent="worker"))
    first_task = (await step_row(runtime, first)).task_id
    second_task = (await step_row(runtime, second)).task_id
    await leaves(runtime, agent_id)
    engine = runtime.orchestrator.engine
    await at(runtime, first, 1, lambda c: engine.redispatch(c, {agent_id}, "deregistered"))
    assert (await step_row(runtime, first)).task_id != first_task
    assert (await step_row(runtime, second)).task_id == second_task
    assert await read_inbox(runtime, agent_id, inbox) == [second_task]


async def test_a_send_on_whose_transaction_fails_leaves_the_task_in_the_inbox(
    runtime: Runtime,
) -> None:
    """The transaction that sends a task on fails after deciding it (a database error, a
    crash): nothing it did counts, so the task must still be where the step says it is, in
    its agent's inbox. It is taken back only once the new dispatch is committed. (Before, it
    was taken back while deciding: the step stayed with the agent, its task gone.)"""
    agent_id, inbox = await worker_inbox(runtime)
    run = await start(runtime, one_step(agent="worker"))
    task = (await step_row(runtime, run)).task_id
    await leaves(runtime, agent_id)
    engine = runtime.orchestrator.engine

    async def sends_on_then_fails(ctx: RunContext) -> None:
        await engine.redispatch(ctx, {agent_id}, "deregistered")
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError, match="went away"):
        await at(runtime, run, 1, sends_on_then_fails)
    row = await step_row(runtime, run)
    assert row.task_id == task and row.agent_id == agent_id
    assert await read_inbox(runtime, agent_id, inbox) == [task]
