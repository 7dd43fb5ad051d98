"""The capacity stores' rules, the same for both: places, the queue's order (priority, turns
across keys, arrival), the token bucket, and what expires. Memory (embedded) and Redis
(distributed, one Lua script per call) run the same cases, on a clock the test sets."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.orchestrator.capacity import CapacityStore, Limits, MemoryCapacity, Ticket
from services.orchestrator.capacity_redis import RedisCapacity

T0 = 1_800_000_000.0
TWO = Limits(concurrency=2)
ONE = Limits(concurrency=1)


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[CapacityStore]:
    if request.param == "memory":
        yield MemoryCapacity(stale_s=30.0)
        return
    found = RedisCapacity(request.getfixturevalue("redis_url"), stale_s=30.0)
    yield found
    await found.close()


def ticket(holder: str, priority: int = 0, key: str = "", until: float = T0 + 600) -> Ticket:
    return Ticket("cap.x", holder, until, priority, key)


async def test_no_more_places_than_the_concurrency_and_asking_again_is_free(
    store: CapacityStore,
) -> None:
    assert await store.acquire(ticket("r/a"), TWO, T0) is None
    assert await store.acquire(ticket("r/b"), TWO, T0) is None
    assert await store.acquire(ticket("r/c"), TWO, T0) == 0.0  # waits for a release
    assert await store.acquire(ticket("r/a"), TWO, T0) is None  # holds it already
    woken = await store.release("cap.x", ["r/a"], T0)
    assert woken == ["r/c"]
    assert await store.acquire(ticket("r/c"), TWO, T0) is None


async def test_the_queue_goes_by_priority_then_arrival(store: CapacityStore) -> None:
    assert await store.acquire(ticket("r/held"), ONE, T0) is None
    for holder, priority in (("r/low1", 0), ("r/low2", 0), ("r/high", 5), ("r/low3", 0)):
        assert await store.acquire(ticket(holder, priority), ONE, T0) == 0.0
    order = []
    holder = "r/held"
    for _ in range(4):
        woken = await store.release("cap.x", [holder], T0)
        holder = woken[0]
        assert await store.acquire(ticket(holder), ONE, T0) is None
        order.append(holder)
    assert order == ["r/high", "r/low1", "r/low2", "r/low3"]


async def test_keys_take_turns(store: CapacityStore) -> None:
    assert await store.acquire(ticket("r/held", key="big"), ONE, T0) is None
    for n in range(3):
        assert await store.acquire(ticket(f"r/big{n}", key="big"), ONE, T0) == 0.0
    assert await store.acquire(ticket("r/small", key="small"), ONE, T0) == 0.0
    order = []
    holder = "r/held"
    for _ in range(4):
        holder = (await store.release("cap.x", [holder], T0))[0]
        assert await store.acquire(ticket(holder), ONE, T0) is None
        order.append(holder)
    assert order == ["r/big0", "r/small", "r/big1", "r/big2"]


async def test_a_token_bucket_spaces_starts_out(store: CapacityStore) -> None:
    four = Limits(rate_count=4, rate_period_s=1.0)  # a token every 0.25 s (exact in binary)
    for n in range(4):  # a full bucket: a burst of four
        assert await store.acquire(ticket(f"r/{n}"), four, T0) is None
    assert await store.acquire(ticket("r/4"), four, T0) == 0.25
    assert await store.acquire(ticket("r/5"), four, T0) == 0.5  # behind r/4 in the queue
    assert await store.acquire(ticket("r/5"), four, T0 + 0.25) == 0.25  # r/4's token, not its
    assert await store.acquire(ticket("r/4"), four, T0 + 0.25) is None
    assert await store.acquire(ticket("r/5"), four, T0 + 0.5) is None


async def test_places_end_at_their_deadline_and_silent_waiters_leave(
    store: CapacityStore,
) -> None:
    assert await store.acquire(ticket("r/crashed", until=T0 + 5), ONE, T0) is None
    assert await store.acquire(ticket("r/gone"), ONE, T0) == 0.0  # then its run ended
    assert await store.acquire(ticket("r/next"), ONE, T0 + 1) == 0.0
    # The place's holder never released it: it ends at its deadline. The waiter ahead stopped
    # asking: after ``stale_s`` it no longer holds the queue's head.
    assert await store.acquire(ticket("r/next"), ONE, T0 + 6) == 0.0
    assert await store.acquire(ticket("r/next"), ONE, T0 + 31) is None
