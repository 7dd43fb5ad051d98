"""A small agent used across the SDK tests (module-level, so its annotations resolve)."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel, Field

from agents.sdk import Agent, FatalError, RetryableError, TaskContext


class AddRequest(BaseModel):
    """Two numbers to add."""

    a: int
    b: int = Field(ge=0)


class AddResult(BaseModel):
    """Their sum."""

    total: int


class Gate:
    """Lets a test hold handlers inside ``slow`` and count how many run at once."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.running = 0
        self.most = 0
        self.started = 0
        self.finished = 0
        self.changed = asyncio.Condition()

    async def enter(self) -> None:
        async with self.changed:
            self.running += 1
            self.started += 1
            self.most = max(self.most, self.running)
            self.changed.notify_all()
        try:
            await self.release.wait()
        finally:
            async with self.changed:
                self.running -= 1
                self.finished += 1
                self.changed.notify_all()

    async def wait_started(self, count: int) -> None:
        async with asyncio.timeout(10), self.changed:
            await self.changed.wait_for(lambda: self.started >= count)


def build_agent(gate: Gate | None = None, **options: Any) -> Agent:
    """A fresh agent with one capability per behaviour the runtime must handle."""
    # Announce every task at once, so tests see ``task.started`` whatever the handler's speed.
    options.setdefault("announce_after_s", 0)
    agent = Agent("calculator", version="1.2.3", description="adds numbers", **options)
    gate = gate or Gate()

    @agent.capability("math.add", consumes=["math:Pair"], produces=["math:Sum"], idempotent=True)
    async def add(request: AddRequest) -> AddResult:
        """Add two numbers.

        More text that is not part of the description.
        """
        return AddResult(total=request.a + request.b)

    @agent.capability("math.metered")
    async def metered(request: AddRequest, ctx: TaskContext) -> dict[str, Any]:
        ctx.report_usage(additions=1)
        ctx.report_usage(additions=1)
        return {"total": request.a + request.b, "attempt": ctx.attempt, "run_id": ctx.run_id}

    @agent.capability("math.busy")
    async def busy(request: dict[str, Any]) -> int:
        raise RetryableError("backend busy", code="busy", details={"retry_after_s": 1})

    @agent.capability("math.refuse")
    async def refuse(request: dict[str, Any]) -> int:
        raise FatalError("cannot add these", details={"why": "policy"})

    @agent.capability("math.crash")
    async def crash(request: dict[str, Any]) -> int:
        raise ZeroDivisionError("division by zero")

    @agent.capability("math.wrong_output")
    async def wrong_output(request: dict[str, Any]) -> AddResult:
        return {"total": "not a number"}  # type: ignore[return-value]

    @agent.capability("math.slow")
    async def slow(request: dict[str, Any]) -> dict[str, Any]:
        await gate.enter()
        return {"done": request.get("n")}

    @agent.capability("math.forever")
    async def forever(request: dict[str, Any]) -> None:
        await asyncio.Event().wait()

    return agent


agent = build_agent()
"""The agent ``load_agent("tests.sdk.sample_agent:agent")`` finds."""

not_an_agent = "just a string"
