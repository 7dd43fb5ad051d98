"""How hard we push an agent: a capability's ``concurrency`` and ``rate_limit``, shared by every
replica, with a queue that serves higher ``priority`` first and shares it fairly across keys.

Agents declare a capability's limits on their card (``CapabilitySpec.concurrency``,
``rate_limit``); when the cards of a capability disagree, the strictest wins. Before a task of a
limited capability goes out, its step asks for a place (``Capacity.admit``). The answer is yes
(a place is held until the step's task is no longer in flight), or "wait": for a release (the
step is woken when a place frees, and checks again every ``recheck_s`` in case a wake-up was
lost) or for the bucket to refill (a timer). Places are held by ``<run>/<step>``, so asking again
(a batch written twice, a task sent again) holds nothing twice; a place whose holder never
released it ends at the task's deadline.

Waiting steps queue in order: higher ``priority`` (a run's) first; within a priority, by turns
across ``concurrency_key`` values (a key with 100 waiting tasks does not hold back a key with
one), then first come, first served. A waiter that stops asking (its run ended) leaves the
queue once it is ``stale_s`` old.

The store is Redis (``capacity_redis``) when there is one, so replicas share it; in memory in
embedded mode (``MemoryCapacity``). Both follow the same rules, tested by the same suites.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db.models import AgentRow, CapabilityRow
from services.orchestrator import refs
from services.orchestrator.context import QUEUED, RunContext
from services.orchestrator.records import Step

PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0}
MIN_PRIORITY, MAX_PRIORITY = -10, 10
TURN_SCALE = 2**20  # a queue's order: turn * TURN_SCALE + arrival (exact in a double)
LEVEL = 2**46  # one priority level of the order: 2**26 turns, 21 levels < 2**53


@dataclass(frozen=True)
class Limits:
    """What a capability allows at once (``concurrency``) and per period (``rate``)."""

    concurrency: int | None = None
    rate_count: int | None = None
    rate_period_s: float | None = None

    @property
    def any(self) -> bool:
        """Whether anything is limited."""
        return self.concurrency is not None or self.rate_count is not None

    def describe(self) -> str:
        """The limits in words, for a waiting step's reason."""
        parts = []
        if self.concurrency is not None:
            parts.append(f"{self.concurrency} at once")
        if self.rate_count is not None and self.rate_period_s is not None:
            per = next(name for name, s in PERIODS.items() if s == self.rate_period_s)
            parts.append(f"{self.rate_count} per {per}")
        return ", ".join(parts)

    @staticmethod
    def strictest(specs: list[dict[str, Any]]) -> Limits:
        """The tightest of several cards' declarations for one capability."""
        concurrency = [int(s["concurrency"]) for s in specs if s.get("concurrency")]
        rates = [
            (int(r["count"]) / PERIODS[r["per"]], int(r["count"]), PERIODS[r["per"]])
            for s in specs
            if isinstance(r := s.get("rate_limit"), dict)
        ]
        slowest = min(rates, default=None)
        return Limits(
            concurrency=min(concurrency, default=None),
            rate_count=slowest[1] if slowest else None,
            rate_period_s=slowest[2] if slowest else None,
        )


@dataclass(frozen=True)
class Ticket:
    """One step asking for a place: who holds it, until when, and its place in the queue."""

    capability: str
    holder: str  # "<run id>/<step id>"
    expires_at: float  # epoch seconds: the task's deadline
    priority: int = 0
    key: str = ""


def holder_of(run_id: str, step_id: str) -> str:
    """The name a step's place is held under."""
    return f"{run_id}/{step_id}"


def parse_holder(holder: str) -> tuple[str, str]:
    """``(run id, step id)`` of a holder name."""
    run_id, _, step_id = holder.partition("/")
    return run_id, step_id


class CapacityStore(ABC):
    """Places and queues, shared by whoever uses the same store."""

    @abstractmethod
    async def acquire(self, ticket: Ticket, limits: Limits, now: float) -> float | None:
        """None when ``ticket`` holds a place now; else seconds to wait before asking again
        (0: until a place is released)."""

    @abstractmethod
    async def release(self, capability: str, holders: list[str], now: float) -> list[str]:
        """Free ``holders``' places (and their places in the queue); returns the waiters now
        at the head of the queue, to wake."""

    async def close(self) -> None:  # noqa: B027 - most stores hold nothing to close
        """Release connections (if any)."""


@dataclass
class _Queue:
    holders: dict[str, float] = field(default_factory=dict)  # holder -> expires at
    waiting: dict[str, float] = field(default_factory=dict)  # holder -> order
    seen: dict[str, float] = field(default_factory=dict)  # holder -> last asked
    state: dict[str, float] = field(default_factory=dict)  # turns, bases, arrivals, tokens


def order(priority: int, turn: int, arrivals: int) -> float:
    """A waiter's place in the queue (lower first): priority, then turn, then arrival."""
    return float((MAX_PRIORITY - priority) * LEVEL + turn * TURN_SCALE + arrivals)


class MemoryCapacity(CapacityStore):
    """The embedded mode's store: one process, so dicts do (``capacity_redis``'s rules)."""

    def __init__(self, stale_s: float = 30.0) -> None:
        self.stale_s = stale_s
        self._queues: dict[str, _Queue] = {}

    async def acquire(self, ticket: Ticket, limits: Limits, now: float) -> float | None:
        q = self._queues.setdefault(ticket.capability, _Queue())
        holder, p, state = ticket.holder, ticket.priority, None
        q.holders = {h: t for h, t in q.holders.items() if t > now}
        for h in [h for h, t in q.seen.items() if t <= now - self.stale_s]:
            q.waiting.pop(h, None)
            q.seen.pop(h, None)
        if holder in q.holders:
            q.holders[holder] = ticket.expires_at
            return None
        state = q.state
        score = q.waiting.get(holder)
        if score is None:
            key = f"turn:{p}:{ticket.key}"
            turn = int(max(state.get(key, 0), state.get(f"base:{p}", 0))) + 1
            state[key] = turn
            state["arrivals"] = state.get("arrivals", 0) + 1
            score = order(p, turn, int(state["arrivals"]) % TURN_SCALE)
            q.waiting[holder] = score
        q.seen[holder] = now
        rank = sum(1 for other in q.waiting.values() if other < score)
        if limits.concurrency is not None and rank >= limits.concurrency - len(q.holders):
            return 0.0
        if limits.rate_count is not None and limits.rate_period_s is not None:
            count = float(limits.rate_count)
            per_s = count / limits.rate_period_s
            tokens = min(
                count, state.get("tokens", count) + (now - state.get("refilled", 0)) * per_s
            )
            state["refilled"] = now
            if rank + 1 > tokens:
                state["tokens"] = tokens
                return (rank + 1 - tokens) / per_s
            state["tokens"] = tokens - 1
        del q.waiting[holder]
        q.seen.pop(holder, None)
        turn = int((score % LEVEL) // TURN_SCALE)
        state[f"base:{p}"] = max(state.get(f"base:{p}", 0), turn)
        q.holders[holder] = ticket.expires_at
        return None

    async def release(self, capability: str, holders: list[str], now: float) -> list[str]:
        q = self._queues.get(capability)
        if q is None:
            return []
        for holder in holders:
            q.holders.pop(holder, None)
            q.waiting.pop(holder, None)
            q.seen.pop(holder, None)
        ordered = sorted(q.waiting, key=q.waiting.__getitem__)
        return ordered[: max(1, len(holders))]


class Capacity:
    """The gate the engine asks before a task of a limited capability goes out.

    Args:
        store: Where places and queues live (Redis, or memory when embedded).
        ttl_s: How long a capability's limits are cached (cards change rarely).
        recheck_s: How often a step waiting for a release asks again anyway.
    """

    def __init__(self, store: CapacityStore, ttl_s: float = 2.0, recheck_s: float = 5.0) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self.recheck_s = recheck_s
        self._limits: dict[str, tuple[float, Limits]] = {}

    async def limits(self, session: AsyncSession, capability: str) -> Limits:
        """The capability's limits, from the cards of the agents that registered it."""
        cached = self._limits.get(capability)
        if cached is not None and time.monotonic() - cached[0] < self.ttl_s:
            return cached[1]
        cards = (
            await session.execute(
                select(AgentRow.card)
                .join(CapabilityRow, CapabilityRow.agent_id == AgentRow.id)
                .where(CapabilityRow.name == capability)
            )
        ).scalars()
        specs = [
            spec
            for card in cards
            for spec in (card or {}).get("capabilities", [])
            if isinstance(spec, dict) and spec.get("name") == capability
        ]
        found = Limits.strictest(specs)
        self._limits[capability] = (time.monotonic(), found)
        return found

    def limited(self, capability: str) -> bool:
        """Whether ``capability`` had limits when last looked up (releases skip the others)."""
        cached = self._limits.get(capability)
        return cached is not None and cached[1].any

    async def acquire(self, session: AsyncSession, ticket: Ticket, now: float) -> float | None:
        """None when the step may send its task now; else seconds until it asks again."""
        limits = await self.limits(session, ticket.capability)
        if not limits.any:
            return None
        wait = await self.store.acquire(ticket, limits, now)
        if wait is None:
            return None
        return wait if wait > 0 else self.recheck_s

    async def admit(self, ctx: RunContext, row: Step, deadline: datetime) -> bool:
        """Whether ``row``'s task may go out now (with a place held until ``deadline`` at
        most); if not, the step is marked queued (``meta.queued``, one ``step.queued`` event)
        and due when it should ask again."""
        definition = ctx.definition
        key = ""
        if definition.concurrency_key is not None:
            try:
                value = refs.resolve(definition.concurrency_key, {"input": ctx.run.input})
            except refs.RefError:
                value = ""  # runs without the key share one turn
            key = value if isinstance(value, str) else orjson.dumps(value).decode()
        ticket = Ticket(
            capability=row.capability,
            holder=holder_of(ctx.run.id, row.step_id),
            expires_at=deadline.timestamp(),
            priority=definition.priority,
            key=key,
        )
        wait = await self.acquire(ctx.session, ticket, ctx.now.timestamp())
        if wait is None:
            if QUEUED in row.meta:
                row.meta = {k: v for k, v in row.meta.items() if k != QUEUED}
            return True
        if QUEUED not in row.meta:
            limits = await self.limits(ctx.session, row.capability)
            reason = f"waiting for a place of {row.capability} ({limits.describe()})"
            row.meta = {**row.meta, QUEUED: reason}
            ctx.event("step.queued", row, data={"reason": reason, "priority": ticket.priority})
        row.due_at = ctx.now + timedelta(seconds=wait)
        return False

    async def release(self, contexts: list[RunContext]) -> list[str]:
        """Free the places that the committed ``contexts`` gave up; returns the waiters to
        wake (``<run>/<step>``)."""
        by_capability: dict[str, list[str]] = {}
        for ctx in contexts:
            for step in ctx.released:
                if self.limited(step.capability):
                    holder = holder_of(ctx.run.id, step.step_id)
                    by_capability.setdefault(step.capability, []).append(holder)
            ctx.released = []
        wake: list[str] = []
        now = time.time()
        for capability, holders in by_capability.items():
            wake += await self.store.release(capability, holders, now)
        return wake
