"""Agents the end-to-end tests run, in this process or as separate OS processes.

Every execution is appended to the file named by ``MODX_TEST_LOG`` (one JSON line per call,
written with O_APPEND so concurrent processes do not interleave), so tests can count how many
times each step really ran, and where.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from agents.sdk import Agent, FatalError, RetryableError, TaskContext
from bus.envelope import Envelope
from bus.transport import ConsumerOptions


def record(ctx: TaskContext, **extra: Any) -> None:
    """Append one execution to the shared log."""
    path = os.environ.get("MODX_TEST_LOG")
    if not path:
        return
    line = (
        json.dumps(
            {
                "run": ctx.run_id,
                "step": ctx.step_id,
                "attempt": ctx.attempt,
                "task": ctx.task_id,
                "pid": os.getpid(),
                "agent": ctx.agent_id,
                "capability": ctx.capability,
                **extra,
            }
        )
        + "\n"
    )
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


async def held() -> None:
    """Until the file ``MODX_TEST_GATE`` names exists (when set): a test holds tasks in their
    handlers, so they are still running when it kills or freezes their agent, then opens the
    gate for the agents that take them over."""
    gate = os.environ.get("MODX_TEST_GATE")
    while gate and not os.path.exists(gate):  # noqa: ASYNC110 - another process opens it
        await asyncio.sleep(0.02)


def executions(path: Path) -> list[dict[str, Any]]:
    """Every execution recorded so far."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class Count(BaseModel):
    n: int


class Items(BaseModel):
    items: list[int]


class Value(BaseModel):
    value: int


class Values(BaseModel):
    values: list[Value]


class Total(BaseModel):
    total: int


class Flaky(BaseModel):
    value: int
    failures: int = 2


def _consumer_options() -> ConsumerOptions | None:
    """``MODX_TEST_VISIBILITY_S`` sets the bus agents' visibility timeout: a test that sets it
    far past the lease shows that a lost task comes back through the lease, not the bus."""
    seconds = os.environ.get("MODX_TEST_VISIBILITY_S")
    return ConsumerOptions(visibility_timeout_s=float(seconds)) if seconds else None


numbers = Agent(
    "numbers",
    version="1.0.0",
    description="Makes lists and adds numbers.",
    consumer_options=_consumer_options(),
)


@numbers.capability("test.range", description="The list 0..n-1.")
async def make_range(request: Count, ctx: TaskContext) -> Items:
    record(ctx)
    return Items(items=list(range(request.n)))


@numbers.capability("test.sum", description="Adds values.")
async def add(request: Values, ctx: TaskContext) -> Total:
    record(ctx)
    return Total(total=sum(v.value for v in request.values))


@numbers.capability("test.noop", description="Does nothing.")
async def noop(request: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    record(ctx)
    await held()
    delay = float(os.environ.get("MODX_TEST_NOOP_DELAY_S", "0"))
    if delay:
        await asyncio.sleep(delay)
    return {"ok": True}


squares = Agent(
    "squares",
    version="1.0.0",
    description="Squares numbers, fails on request, hangs on request.",
    consumer_options=_consumer_options(),
)


@squares.capability("test.square", description="value squared.")
async def square(request: Value, ctx: TaskContext) -> Value:
    record(ctx)
    await held()
    delay = float(os.environ.get("MODX_TEST_SQUARE_DELAY_S", "0"))
    if delay:
        await asyncio.sleep(delay)
    return Value(value=request.value * request.value)


@squares.capability("test.flaky", description="Fails the first `failures` attempts, then succeeds.")
async def flaky(request: Flaky, ctx: TaskContext) -> Value:
    record(ctx)
    if ctx.attempt <= request.failures:
        raise RetryableError(f"flaky failure on attempt {ctx.attempt}", code="flaky")
    return Value(value=request.value)


@squares.capability("test.fatal", description="Always fails, not retryable.")
async def fatal(request: Value, ctx: TaskContext) -> Value:
    record(ctx)
    raise FatalError(
        f"refusing value {request.value}", code="refused", details={"value": request.value}
    )


@squares.capability("test.hang", description="Never answers.")
async def hang(request: Value, ctx: TaskContext) -> Value:
    record(ctx)
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


doubler = Agent("doubler", version="1.0.0", description="Doubles a number, over HTTP.")


@doubler.capability("test.double", description="value times two.")
async def double(request: Total, ctx: TaskContext) -> Total:
    record(ctx)
    return Total(total=request.total * 2)


def _old_sdk() -> Agent:
    """``test.square`` served as by an agent of an SDK from before ``reply_to``: its card lists
    no ``features``, and its envelope model refuses a field it does not know (a task carrying
    ``reply_to`` is dead-lettered unread, as that SDK's pydantic model did). Made only in the
    agent's own process: it changes how that process decodes envelopes."""
    from bus import codec
    from bus.errors import CodecError

    decode = codec.decode

    def strict(data: bytes | None) -> Envelope:
        envelope = decode(data)
        if envelope.reply_to is not None:
            raise CodecError("reply_to: Extra inputs are not permitted")
        return envelope

    codec.decode = strict

    class OldAgent(Agent):
        def card(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
            card = super().card(*args, **kwargs)
            del card["features"]
            return card

    old = OldAgent("old-squares", version="0.9.0", description="Squares, on an old SDK.")
    old.capability("test.square", description="value squared.")(square)
    return old


def __getattr__(name: str) -> Any:
    if name == "old_squares":
        return _old_sdk()
    # ``python -m tests.e2e.launch bus legal`` runs the real legal agent as a process.
    if name == "legal":
        from agents.legal.agent import agent

        return agent
    # ``... bus embedder`` runs the real embedding agent (model.embed) as a process.
    if name == "embedder":
        from agents.models.embed_agent import agent as embedder

        return embedder
    raise AttributeError(name)
