"""ModelServer: batching, concurrency limit, backpressure, health, metrics (fake backend)."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry

from agents.models import (
    BackendError,
    ModelServer,
    NotReady,
    Overloaded,
    RequestTooLarge,
    ThreadedBackend,
)

MODEL = "doubler"


class Doubler:
    """Doubles ints; batches can be held at a gate to fill the queue deterministically."""

    name = MODEL

    def __init__(self, *, fail_on: int | None = None, wrong_count: bool = False) -> None:
        self.gate = asyncio.Event()
        self.gate.set()
        self.batches: list[list[int]] = []
        self.running = 0
        self.max_running = 0
        self.loaded = 0
        self.closed = False
        self.fail_on = fail_on
        self.wrong_count = wrong_count

    async def load(self) -> None:
        self.loaded += 1

    async def warmup(self) -> None:
        await self.infer([0])
        self.batches.clear()

    async def infer(self, items: list[int]) -> list[int]:
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        try:
            await self.gate.wait()
            self.batches.append(list(items))
            if self.fail_on is not None and self.fail_on in items:
                raise RuntimeError(f"cannot double {self.fail_on}")
            if self.wrong_count:
                return [2 * x for x in items][:-1]
            return [2 * x for x in items]
        finally:
            self.running -= 1

    async def close(self) -> None:
        self.closed = True


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    value = registry.get_sample_value(name, {"model": MODEL, **labels})
    return 0.0 if value is None else value


async def until(condition, what: str) -> None:
    """Yield to the loop until ``condition()`` holds (the pytest timeout bounds it)."""
    # Polling is the point: the condition is plain state of a fake, with no event to await.
    while not condition():  # noqa: ASYNC110
        await asyncio.sleep(0.001)
    assert condition(), what


async def test_64_concurrent_requests_are_served_in_batches(registry):
    backend = Doubler()
    async with ModelServer(backend, max_batch=16, max_wait_ms=20, registry=registry) as server:
        results = await asyncio.gather(*(server.predict(i) for i in range(64)))
    assert results == [2 * i for i in range(64)]
    assert all(len(batch) <= 16 for batch in backend.batches)
    assert sample(registry, "modx_model_batch_size_sum") == 64
    assert sample(registry, "modx_model_batch_size_count") < 64
    assert max(len(batch) for batch in backend.batches) > 1
    assert sample(registry, "modx_model_requests_total") == 64
    assert sample(registry, "modx_model_queue_wait_seconds_count") == 64
    assert sample(registry, "modx_model_inference_seconds_count") == len(backend.batches)


async def test_model_is_loaded_once_and_warmed_up(registry):
    backend = Doubler()
    server = ModelServer(backend, registry=registry)
    assert not server.ready
    await server.start()
    await server.start()
    assert backend.loaded == 1
    assert server.ready and server.loaded_at is not None
    assert sample(registry, "modx_model_ready") == 1
    await server.stop()
    assert backend.closed and not server.ready
    assert sample(registry, "modx_model_ready") == 0


async def test_a_partial_batch_closes_after_max_wait(registry):
    backend = Doubler()
    async with ModelServer(backend, max_batch=100, max_wait_ms=1, registry=registry) as server:
        assert await server.predict_many([1, 2, 3]) == [2, 4, 6]
    assert backend.batches == [[1, 2, 3]]


async def test_concurrency_limit_bounds_batches_in_flight(registry):
    backend = Doubler()
    server = ModelServer(
        backend, max_batch=2, max_wait_ms=0, max_concurrency=2, max_queue=100, registry=registry
    )
    async with server:
        backend.gate.clear()
        futures = [server.submit(i) for i in range(10)]
        await until(lambda: backend.running == 2, "two batches in flight")
        await asyncio.sleep(0.01)  # give the loop a chance to (wrongly) start a third
        assert backend.running == 2
        assert server.health().batches_in_flight == 2
        assert sample(registry, "modx_model_batches_in_flight") == 2
        backend.gate.set()
        assert await asyncio.gather(*futures) == [2 * i for i in range(10)]
    assert backend.max_running == 2


async def test_full_queue_raises_overloaded_and_counts_the_rejection(registry):
    backend = Doubler()
    server = ModelServer(
        backend, max_batch=2, max_wait_ms=0, max_queue=4, high_watermark=3, registry=registry
    )
    async with server:
        backend.gate.clear()
        held = [server.submit(0), server.submit(1)]
        await until(lambda: backend.running == 1, "first batch held")
        assert not server.saturated
        queued = [server.submit(i) for i in range(2, 6)]
        assert server.queue_depth == 4 and server.saturated
        with pytest.raises(Overloaded) as caught:
            server.submit(99)
        assert caught.value.retry_after_s > 0
        assert caught.value.retryable and caught.value.to_dict()["code"] == "overloaded"
        assert sample(registry, "modx_model_rejections_total", reason="overloaded") == 1
        assert server.health().saturated

        waiter = asyncio.create_task(server.wait_until_unsaturated())
        backend.gate.set()
        assert await asyncio.gather(*held, *queued) == [0, 2, 4, 6, 8, 10]
        await waiter
        assert not server.saturated


async def test_submit_many_is_all_or_nothing(registry):
    backend = Doubler()
    server = ModelServer(backend, max_batch=1, max_wait_ms=0, max_queue=3, registry=registry)
    async with server:
        backend.gate.clear()
        first = server.submit(0)
        await until(lambda: backend.running == 1, "first batch held")
        server.submit_many([1, 2])
        with pytest.raises(Overloaded):
            server.submit_many([3, 4])
        assert server.queue_depth == 2
        assert sample(registry, "modx_model_rejections_total", reason="overloaded") == 2
        backend.gate.set()
        assert await first == 0


async def test_more_items_than_the_queue_can_hold_are_too_large(registry):
    async with ModelServer(Doubler(), max_queue=3, registry=registry) as server:
        with pytest.raises(RequestTooLarge) as caught:
            await server.predict_many([1, 2, 3, 4])
        assert not caught.value.retryable
        assert await server.predict_many([1, 2, 3]) == [2, 4, 6]
    assert sample(registry, "modx_model_rejections_total", reason="too_large") == 4


async def test_stop_wakes_consumers_waiting_for_capacity(registry):
    backend = Doubler()
    server = ModelServer(backend, max_batch=1, max_wait_ms=0, max_queue=2, registry=registry)
    await server.start()
    backend.gate.clear()
    server.submit(1)
    await until(lambda: backend.running == 1, "first batch held")
    server.submit_many([2, 3])
    assert server.saturated
    waiter = asyncio.create_task(server.wait_until_unsaturated())
    await server.stop(drain_timeout_s=0.01)
    await waiter
    assert not server.saturated


async def test_requests_before_start_and_after_stop_are_not_ready(registry):
    server = ModelServer(Doubler(), registry=registry)
    with pytest.raises(NotReady):
        server.submit(1)
    async with server:
        assert await server.predict(1) == 2
    with pytest.raises(NotReady):
        await server.predict(1)
    assert sample(registry, "modx_model_rejections_total", reason="not_ready") == 2


async def test_backend_error_fails_its_batch_and_is_reported(registry):
    backend = Doubler(fail_on=13)
    async with ModelServer(backend, max_wait_ms=0, registry=registry) as server:
        with pytest.raises(RuntimeError, match="cannot double 13"):
            await server.predict(13)
        health = server.health()
        assert health.ready
        assert health.last_error == "RuntimeError: cannot double 13"
        assert health.last_error_at is not None
        assert sample(registry, "modx_model_batch_errors_total") == 1
        assert await server.predict(4) == 8


async def test_wrong_number_of_outputs_is_a_backend_error(registry):
    async with ModelServer(Doubler(wrong_count=True), registry=registry) as server:
        with pytest.raises(BackendError):
            await server.predict_many([1, 2])


async def test_failed_load_is_raised_and_recorded(registry):
    class Broken(Doubler):
        async def load(self) -> None:
            raise OSError("weights not found")

    server = ModelServer(Broken(), registry=registry)
    with pytest.raises(OSError, match="weights not found"):
        await server.start()
    assert not server.ready
    assert server.health().last_error == "OSError: weights not found"


async def test_cancelled_requests_are_skipped(registry):
    backend = Doubler()
    async with ModelServer(backend, max_batch=8, max_wait_ms=0, registry=registry) as server:
        backend.gate.clear()
        first = server.submit(0)
        await until(lambda: backend.running == 1, "first batch held")
        gone, kept = server.submit(1), server.submit(2)
        gone.cancel()
        backend.gate.set()
        assert await first == 0 and await kept == 4
    assert [2] in backend.batches


async def test_stop_drains_queued_requests(registry):
    backend = Doubler()
    server = ModelServer(backend, max_batch=2, max_wait_ms=0, registry=registry)
    await server.start()
    backend.gate.clear()
    futures = [server.submit(i) for i in range(6)]
    stopping = asyncio.create_task(server.stop())
    await until(lambda: not server.ready, "stop began")
    backend.gate.set()
    await stopping
    assert [f.result() for f in futures] == [0, 2, 4, 6, 8, 10]


async def test_stop_fails_what_it_cannot_drain(registry):
    backend = Doubler()
    server = ModelServer(backend, max_batch=1, max_wait_ms=0, registry=registry)
    await server.start()
    backend.gate.clear()
    futures = [server.submit(i) for i in range(3)]
    await until(lambda: backend.running == 1, "first batch held")
    await server.stop(drain_timeout_s=0.01)
    for future in futures:
        with pytest.raises(NotReady):
            future.result()


async def test_invalid_limits_are_refused():
    with pytest.raises(ValueError):
        ModelServer(Doubler(), max_batch=0, registry=CollectorRegistry())
    with pytest.raises(ValueError):
        ModelServer(Doubler(), max_queue=4, high_watermark=5, registry=CollectorRegistry())


async def test_servers_share_a_registry_through_the_model_label():
    registry = CollectorRegistry()

    class Other(Doubler):
        name = "other"

    async with (
        ModelServer(Doubler(), registry=registry) as one,
        ModelServer(Other(), registry=registry) as two,
    ):
        await one.predict(1)
        await two.predict_many([1, 2])
    assert registry.get_sample_value("modx_model_requests_total", {"model": MODEL}) == 1
    assert registry.get_sample_value("modx_model_requests_total", {"model": "other"}) == 2


class Squarer(ThreadedBackend[int, int]):
    """A blocking backend run in the thread executor."""

    def __init__(self) -> None:
        super().__init__("squarer")
        self.loaded = False

    def load_sync(self) -> None:
        self.loaded = True

    def warmup_items(self) -> list[int]:
        return [1]

    def infer_sync(self, items: list[int]) -> list[int]:
        return [x * x for x in items]


async def test_threaded_backend_runs_blocking_work_in_an_executor(registry):
    backend = Squarer()
    server = ModelServer(backend, registry=registry)
    async with server:
        assert backend.loaded
        assert await asyncio.gather(*(server.predict(i) for i in range(5))) == [0, 1, 4, 9, 16]
    async with server:  # a stopped server can be started again
        assert await server.predict(3) == 9
