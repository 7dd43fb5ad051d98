"""``Agent.run()`` against a fake MODX registry: register, heartbeat, serve, drain, deregister."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from agents.sdk import Agent, AgentSettings, RequestRejected, SetupError
from bus import streams, tasks
from bus.envelope import Envelope, Kind
from bus.errors import UnsupportedTransportError
from bus.factory import create_transport
from bus.memory import MemoryTransport
from tests.fixtures.services import require_import
from tests.sdk.fake_registry import CLIENT_TOKEN, FakeRegistry, background, free_port, proven, serve
from tests.sdk.sample_agent import Gate, build_agent


def task(capability: str, payload: Any) -> Envelope:
    return Envelope(
        kind=Kind.TASK,
        topic=capability,
        sender="orchestrator",
        run_id="run-1",
        step_id="s1",
        correlation_id="run-1",
        payload=payload,
    )


class Results:
    """Collects what agents publish on modx.results."""

    def __init__(self) -> None:
        self.seen: list[Envelope] = []
        self.changed = asyncio.Condition()

    async def __call__(self, envelope: Envelope) -> None:
        async with self.changed:
            self.seen.append(envelope)
            self.changed.notify_all()

    async def answer(self, task_id: str) -> Envelope:
        def found() -> Envelope | None:
            return next(
                (e for e in self.seen if e.causation_id == task_id and e.kind != Kind.EVENT),
                None,
            )

        async with asyncio.timeout(10), self.changed:
            await self.changed.wait_for(lambda: found() is not None)
        answer = found()
        assert answer is not None
        return answer


@pytest.fixture
async def registry() -> AsyncIterator[tuple[FakeRegistry, AgentSettings]]:
    fake = FakeRegistry()
    async with serve(fake.app(), free_port()) as url:
        yield fake, AgentSettings(url=url, api_token=CLIENT_TOKEN, retry_initial_s=0.01)


async def listen(transport: MemoryTransport) -> Results:
    results = Results()
    await transport.subscribe(streams.RESULTS, "test", "test", results)
    return results


def test_run_sync_runs_on_uvloop_when_it_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    uvloop = require_import("uvloop", "uvloop (uvicorn[standard])")
    agent = build_agent()
    loops: list[type[asyncio.AbstractEventLoop]] = []

    async def run(**_: Any) -> None:
        loops.append(type(asyncio.get_running_loop()))

    monkeypatch.setattr(agent, "run", run)
    agent.run_sync()
    assert loops == [uvloop.Loop]


async def test_run_registers_heartbeats_serves_and_drains_before_deregistering(
    registry: tuple[FakeRegistry, AgentSettings],
) -> None:
    fake, settings = registry
    gate = Gate()
    agent = build_agent(gate)
    transport = MemoryTransport()
    results = await listen(transport)
    seen_at_deregistration: dict[str, int] = {}

    async def on_deregister(agent_id: str) -> None:
        seen_at_deregistration["running"] = gate.running
        seen_at_deregistration["results"] = await transport.stream_length(streams.RESULTS)

    fake.on_deregister = on_deregister
    stop = asyncio.Event()
    async with background(
        agent.run(transport=transport, settings=settings, stop=stop, handle_signals=False)
    ) as running:
        await fake.wait_for(lambda: bool(fake.agents))
        agent_id, agent_token = next(iter(fake.agents.items()))

        sent = task("math.slow", {"n": 1})
        await transport.publish(streams.tasks("math.slow"), sent)
        await gate.wait_started(1)
        await fake.wait_for(
            lambda: any(c.body == {"in_flight": 1} for c in fake.of("POST", "/heartbeat"))
        )
        beats = len(fake.of("POST", "/heartbeat"))
        stop.set()
        # Draining: heartbeats go on (the lease must hold), and no deregistration yet.
        await fake.wait_for(lambda: len(fake.of("POST", "/heartbeat")) >= beats + 2)
        assert not fake.of("DELETE")  # still draining the task in flight

        gate.release.set()
        await running

        [registration] = fake.of("POST", "/v1/agents")
        assert proven(registration.body) == proven(agent.card(transport="bus"))
        assert registration.token == CLIENT_TOKEN
        heartbeats = fake.of("POST", f"/v1/agents/{agent_id}/heartbeat")
        assert heartbeats and all(c.token == agent_token for c in heartbeats)
        [deregistration] = fake.of("DELETE")
        assert (deregistration.path, deregistration.token) == (
            f"/v1/agents/{agent_id}",
            agent_token,
        )
        # Deregistration came after the handler finished and its answer was on the bus.
        assert seen_at_deregistration == {"running": 0, "results": 2}
        answer = await results.answer(sent.id)
        assert (answer.kind, answer.sender, answer.payload) == (
            Kind.RESULT,
            agent_id,
            {"output": {"done": 1}},
        )
        assert not transport.closed  # the caller's transport stays open
        await transport.close()


async def test_registration_is_retried_until_the_server_answers() -> None:
    fake = FakeRegistry(fail_registrations=2)
    port = free_port()
    settings = AgentSettings(
        url=f"http://127.0.0.1:{port}", api_token=CLIENT_TOKEN, retry_initial_s=0.01
    )
    transport = MemoryTransport()
    stop = asyncio.Event()
    async with background(
        build_agent().run(transport=transport, settings=settings, stop=stop, handle_signals=False)
    ) as running:
        await asyncio.sleep(0.1)  # connection refused meanwhile: nothing listens yet
        assert not running.done()

        async with serve(fake.app(), port):
            await fake.wait_for(lambda: bool(fake.agents))
            stop.set()
            await running

        assert len(fake.of("POST", "/v1/agents")) == 3  # two 503s, then 201
        assert len(fake.of("DELETE")) == 1
        await transport.close()


async def test_refused_registration_raises(registry: tuple[FakeRegistry, AgentSettings]) -> None:
    _, settings = registry
    bad = settings.model_copy(update={"api_token": "wrong-token-0123456789"})

    with pytest.raises(RequestRejected, match="401") as caught:
        await build_agent().run(transport=MemoryTransport(), settings=bad, handle_signals=False)
    assert caught.value.status == 401


async def test_agent_without_capabilities_does_not_register(
    registry: tuple[FakeRegistry, AgentSettings],
) -> None:
    fake, settings = registry

    with pytest.raises(SetupError, match="no capabilities"):
        await Agent("empty").run(settings=settings, handle_signals=False)
    assert fake.calls == []


async def test_forgotten_agent_registers_again_and_moves_its_inbox(
    registry: tuple[FakeRegistry, AgentSettings],
) -> None:
    fake, settings = registry
    transport = MemoryTransport()
    results = await listen(transport)
    stop = asyncio.Event()
    async with background(
        build_agent().run(transport=transport, settings=settings, stop=stop, handle_signals=False)
    ) as running:
        await fake.wait_for(lambda: bool(fake.agents))
        first = next(iter(fake.agents))
        fake.forget(first)
        await fake.wait_for(lambda: bool(fake.agents))
        second = next(iter(fake.agents))

        pinned = task("math.add", {"a": 1, "b": 2})
        await transport.publish(streams.inbox(second), pinned)
        answer = await results.answer(pinned.id)
        stop.set()
        await running

        assert second != first
        assert answer.sender == second
        assert answer.payload == {"output": {"total": 3}}
        assert [c.path for c in fake.of("DELETE")] == [f"/v1/agents/{second}"]
        await transport.close()


async def test_a_forgotten_agents_token_is_not_sent_again_while_registering_fails(
    registry: tuple[FakeRegistry, AgentSettings],
) -> None:
    """Once the server refused the registration's token, the agent only registers again. Before,
    each retry sent a heartbeat with the dead token first: on MODX a failed token check, and
    ten locked every client of the agent's address out for the throttle's window."""
    fake, settings = registry
    stop = asyncio.Event()
    async with background(
        build_agent().run(
            transport=MemoryTransport(), settings=settings, stop=stop, handle_signals=False
        )
    ) as running:
        await fake.wait_for(lambda: bool(fake.agents))
        first = next(iter(fake.agents))
        fake.refuse_registrations = 4
        fake.forget(first)
        await fake.wait_for(lambda: len(fake.of("POST", "/v1/agents")) == 6)  # 1 + 4 + 1
        second = next(iter(fake.agents))
        await fake.wait_for(lambda: len(fake.of("POST", f"/v1/agents/{second}/heartbeat")) > 0)
        stop.set()
        await running

    registering = [n for n, call in enumerate(fake.calls) if call.path == "/v1/agents"]
    after = fake.calls[registering[1] :]  # from the first try to register again on
    assert [c for c in after if c.path == f"/v1/agents/{first}/heartbeat"] == []
    assert second != first


async def test_bus_comes_from_the_registration_or_modx_bus_url(
    registry: tuple[FakeRegistry, AgentSettings],
) -> None:
    fake, settings = registry
    fake.bus_url = f"memory://sdk-{uuid.uuid4().hex}"
    bus = create_transport(fake.bus_url)
    results = Results()
    await bus.subscribe(streams.RESULTS, "test", "test", results)
    stop = asyncio.Event()
    async with background(
        build_agent().run(settings=settings, stop=stop, handle_signals=False)
    ) as running:
        await fake.wait_for(lambda: bool(fake.agents))
        sent = task("math.add", {"a": 2, "b": 2})
        await bus.publish(streams.tasks("math.add"), sent)
        answer = await results.answer(sent.id)
        stop.set()
        await running

        assert answer.payload == {"output": {"total": 4}}
        assert await bus.ping()  # a shared in-process bus is not the agent's to close
        await bus.close()


async def test_sigterm_drains_and_deregisters(
    registry: tuple[FakeRegistry, AgentSettings],
) -> None:
    fake, settings = registry
    gate = Gate()
    transport = MemoryTransport()
    results = await listen(transport)
    async with background(build_agent(gate).run(transport=transport, settings=settings)) as running:
        await fake.wait_for(lambda: bool(fake.agents))
        assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL  # or the kill below is fatal
        sent = task("math.slow", {"n": 7})
        await transport.publish(streams.tasks("math.slow"), sent)
        await gate.wait_started(1)

        beats = len(fake.of("POST", "/heartbeat"))
        os.kill(os.getpid(), signal.SIGTERM)
        await fake.wait_for(lambda: len(fake.of("POST", "/heartbeat")) >= beats + 2)
        assert not running.done() and not fake.of("DELETE")  # draining the task in flight
        gate.release.set()
        await running

        assert (await results.answer(sent.id)).payload == {"output": {"done": 7}}
        assert len(fake.of("DELETE")) == 1
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers removed
        await transport.close()


async def test_an_unusable_bus_url_still_deregisters(
    registry: tuple[FakeRegistry, AgentSettings],
) -> None:
    fake, settings = registry
    bogus = settings.model_copy(update={"bus_url": "carrier-pigeon://loft"})

    with pytest.raises(UnsupportedTransportError):
        await build_agent().run(settings=bogus, handle_signals=False)
    assert len(fake.of("DELETE")) == 1


@pytest.mark.parametrize(
    ("bus_url", "problem"),
    [
        ("memory://the-servers-own", "inside the server's process (memory://the-servers-own)"),
        ("redis://:hunter2@127.0.0.1:1/0", "the bus at redis://:***@127.0.0.1:1/0 does not answer"),
    ],
)
async def test_an_agent_that_cannot_receive_tasks_says_so_and_never_serves(
    registry: tuple[FakeRegistry, AgentSettings], bus_url: str, problem: str
) -> None:
    fake, settings = registry
    fake.bus_url = bus_url
    bus_only = settings.model_copy(update={"transport": "bus"})

    with pytest.raises(SetupError) as failed:
        await build_agent().run(settings=bus_only, handle_signals=False)
    message = str(failed.value)
    assert problem in message and "hunter2" not in message
    assert "MODX_AGENT_TRANSPORT=gateway" in message and "--transport gateway" in message
    assert len(fake.of("POST", "/v1/agents")) == 1 and len(fake.of("DELETE")) == 1


@pytest.mark.redis
async def test_serves_tasks_from_redis_streams(
    registry: tuple[FakeRegistry, AgentSettings], redis_url: str
) -> None:
    fake, settings = registry
    fake.bus_url = redis_url
    orchestrator_side = create_transport(redis_url)
    results = Results()
    await orchestrator_side.subscribe(streams.RESULTS, "test", "test", results)
    stop = asyncio.Event()
    async with background(
        build_agent().run(settings=settings, stop=stop, handle_signals=False)
    ) as running:
        await fake.wait_for(lambda: bool(fake.agents))
        sent = task("math.add", {"a": 20, "b": 22})
        await orchestrator_side.publish(streams.tasks("math.add"), sent)
        answer = await results.answer(sent.id)
        stop.set()
        await running
        await orchestrator_side.close()

        assert answer.payload == {"output": {"total": 42}}
        assert len(fake.of("DELETE")) == 1


async def test_a_missing_client_token_is_named(
    registry: tuple[FakeRegistry, AgentSettings],
) -> None:
    _, settings = registry
    anonymous = settings.model_copy(update={"api_token": None})

    with pytest.raises(RequestRejected, match="MODX_API_TOKEN is not set"):
        await build_agent().run(
            transport=MemoryTransport(), settings=anonymous, handle_signals=False
        )


async def test_a_deregistration_the_server_never_answers_ends_at_the_stops_deadline(
    registry: tuple[FakeRegistry, AgentSettings],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A server whose Redis is frozen answers a DELETE late or never (it answered 503 after
    about 8 s, three times: an agent stopped 25 s after its bus's clean-up). The stop gives
    deregistration the stop's deadline and says so; the lease runs out instead."""
    fake, settings = registry
    monkeypatch.setattr(tasks, "STOP_TIMEOUT_S", 0.5)
    never = asyncio.Event()

    async def hangs(agent_id: str) -> None:
        await never.wait()

    fake.on_deregister = hangs
    patient = settings.model_copy(update={"http_timeout_s": 3600.0})
    stop = asyncio.Event()
    transport = MemoryTransport()
    with caplog.at_level(logging.WARNING, logger="agents.sdk"):
        async with background(
            build_agent().run(
                transport=transport, settings=patient, stop=stop, handle_signals=False
            )
        ) as running:
            await fake.wait_for(lambda: bool(fake.agents))
            stop.set()
            await running
    never.set()
    await transport.close()
    [agent_id] = fake.agents
    assert (
        f"deregistration failed: no answer within 0.5 s (the stop's deadline); the lease of "
        f"{agent_id} runs out instead"
    ) in caplog.messages
