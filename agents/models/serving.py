"""Serve a model behind a bounded queue with dynamic micro-batching.

A :class:`ModelServer` owns one :class:`Backend`: it loads the model once, warms it up, then
groups single requests into batches. A batch closes when it holds ``max_batch`` items or when
its oldest item has waited ``max_wait_ms``, whichever comes first, and starts as soon as one of
``max_concurrency`` batch slots is free (while every slot is busy, items keep accumulating, so
batches grow under load). The queue is bounded: :meth:`ModelServer.submit` raises
:class:`~agents.models.errors.Overloaded` when it is full, and :attr:`ModelServer.saturated`
tells a bus consumer to stop pulling before that happens.

Backends are defined in :mod:`agents.models.backends`.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from prometheus_client import CollectorRegistry
from pydantic import BaseModel

from agents.models.backends import Backend
from agents.models.errors import BackendError, NotReady, Overloaded, RequestTooLarge
from agents.models.metrics import ServingMetrics

InT = TypeVar("InT")
OutT = TypeVar("OutT")


class ServerHealth(BaseModel):
    """A model server's health, as served by the HTTP helper and read by the agent SDK."""

    model: str
    ready: bool
    loaded_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    queue_depth: int
    batches_in_flight: int
    saturated: bool


@dataclass(slots=True)
class _Pending(Generic[InT, OutT]):
    item: InT
    future: asyncio.Future[OutT]
    enqueued_at: float


class ModelServer(Generic[InT, OutT]):
    """Micro-batching server over one backend, with a bounded queue and metrics.

    Use it as an async context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        backend: Backend[InT, OutT],
        *,
        max_batch: int = 32,
        max_wait_ms: float = 5.0,
        max_concurrency: int = 1,
        max_queue: int = 1024,
        high_watermark: int | None = None,
        min_retry_after_s: float = 0.05,
        registry: CollectorRegistry | None = None,
    ) -> None:
        """Configure the server; nothing is loaded until :meth:`start`.

        Args:
            backend: The model.
            max_batch: Largest batch handed to the backend.
            max_wait_ms: Longest time the oldest queued item waits for its batch to fill.
            max_concurrency: Batches that may run at once.
            max_queue: Items that may wait; past that, :meth:`submit` raises ``Overloaded``.
            high_watermark: Queue depth from which :attr:`saturated` is true; by default
                80% of ``max_queue``, so a bus consumer pauses before requests are refused.
            min_retry_after_s: Floor of the ``retry_after_s`` that ``Overloaded`` carries.
            registry: Prometheus registry for the metrics (the global one when None).

        Raises:
            ValueError: A limit is not positive, or ``high_watermark`` exceeds ``max_queue``.
        """
        if max_batch < 1 or max_concurrency < 1 or max_queue < 1 or max_wait_ms < 0:
            raise ValueError("max_batch, max_concurrency, max_queue must be >= 1; max_wait_ms >= 0")
        watermark = max(1, int(max_queue * 0.8)) if high_watermark is None else high_watermark
        if not 1 <= watermark <= max_queue:
            raise ValueError("high_watermark must be between 1 and max_queue")
        self.backend = backend
        self.name = backend.name
        self.max_batch = max_batch
        self.max_wait_s = max_wait_ms / 1000.0
        self.max_concurrency = max_concurrency
        self.max_queue = max_queue
        self.high_watermark = watermark
        self.min_retry_after_s = min_retry_after_s
        self.metrics = ServingMetrics.for_registry(registry)
        self.loaded_at: datetime | None = None
        self.last_error: str | None = None
        self.last_error_at: datetime | None = None

        self._queue: deque[_Pending[InT, OutT]] = deque()
        self._arrived = asyncio.Event()
        self._dequeued = asyncio.Event()
        self._slots = asyncio.Semaphore(max_concurrency)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._accepting = False
        # Seconds per batch, smoothed; seeds the Retry-After estimate before any batch ran.
        self._batch_seconds = 0.05

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Load and warm up the model, then start batching.

        Raises:
            Exception: Whatever the backend raised while loading or warming up; it is also
                recorded as :attr:`last_error`.
        """
        if self._loop_task is not None:
            return
        try:
            await self.backend.load()
            await self.backend.warmup()
        except Exception as exc:
            self._record_error(exc)
            raise
        self.loaded_at = datetime.now(UTC)
        self._accepting = True
        self._loop_task = asyncio.create_task(self._batch_loop(), name=f"model-server:{self.name}")
        self.metrics.ready.labels(self.name).set(1)

    async def stop(self, *, drain_timeout_s: float = 10.0) -> None:
        """Stop accepting, let queued and running batches finish, then close the backend.

        Args:
            drain_timeout_s: How long to wait for the queue to drain; items still queued
                after that fail with ``NotReady``.
        """
        self._accepting = False
        self.metrics.ready.labels(self.name).set(0)
        if self._loop_task is None:
            return
        try:
            async with asyncio.timeout(drain_timeout_s):
                while self._queue:
                    self._dequeued.clear()
                    await self._dequeued.wait()
                if self._in_flight:
                    await asyncio.wait(set(self._in_flight))
        except TimeoutError:
            pass
        self._loop_task.cancel()
        await asyncio.gather(self._loop_task, return_exceptions=True)
        self._loop_task = None
        stopped = NotReady(f"model server {self.name!r} stopped")
        while self._queue:
            pending = self._queue.popleft()
            if not pending.future.done():
                pending.future.set_exception(stopped)
        self.metrics.queue_depth.labels(self.name).set(0)
        self._dequeued.set()  # wake wait_until_unsaturated()
        for task in set(self._in_flight):
            task.cancel()
        await asyncio.gather(*self._in_flight, return_exceptions=True)
        await self.backend.close()

    async def __aenter__(self) -> ModelServer[InT, OutT]:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- state -----------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """True when the model is loaded and the server accepts requests."""
        return self._accepting and self._loop_task is not None and not self._loop_task.done()

    @property
    def queue_depth(self) -> int:
        """Items waiting for a batch."""
        return len(self._queue)

    @property
    def saturated(self) -> bool:
        """True when the queue is at or above the high watermark: pause pulling work."""
        return len(self._queue) >= self.high_watermark

    async def wait_until_unsaturated(self) -> None:
        """Return once :attr:`saturated` is false (at once if it already is)."""
        while self.saturated:
            self._dequeued.clear()
            await self._dequeued.wait()

    def health(self) -> ServerHealth:
        """A snapshot of the server's state."""
        return ServerHealth(
            model=self.name,
            ready=self.ready,
            loaded_at=self.loaded_at,
            last_error=self.last_error,
            last_error_at=self.last_error_at,
            queue_depth=len(self._queue),
            batches_in_flight=len(self._in_flight),
            saturated=self.saturated,
        )

    def retry_after_s(self) -> float:
        """How long a refused caller should wait: the time to work off the current queue."""
        batches_ahead = math.ceil(len(self._queue) / self.max_batch) / self.max_concurrency
        return round(max(self.min_retry_after_s, batches_ahead * self._batch_seconds), 3)

    # -- requests --------------------------------------------------------------------------

    def submit(self, item: InT) -> asyncio.Future[OutT]:
        """Queue one item and return the future of its output.

        Raises:
            NotReady: The server is not started, or is stopping.
            Overloaded: The queue is full.
        """
        return self.submit_many([item])[0]

    def submit_many(self, items: Sequence[InT]) -> list[asyncio.Future[OutT]]:
        """Queue all items, or none of them when they do not all fit.

        Raises:
            NotReady: The server is not started, or is stopping.
            Overloaded: The queue cannot take ``len(items)`` more items now.
            RequestTooLarge: ``len(items)`` exceeds ``max_queue``.
        """
        if not self.ready:
            self.metrics.rejections.labels(self.name, "not_ready").inc(len(items))
            raise NotReady(f"model server {self.name!r} is not ready")
        if len(items) > self.max_queue:
            self.metrics.rejections.labels(self.name, "too_large").inc(len(items))
            raise RequestTooLarge(f"{len(items)} items exceed the queue size {self.max_queue}")
        if len(self._queue) + len(items) > self.max_queue:
            self.metrics.rejections.labels(self.name, "overloaded").inc(len(items))
            raise Overloaded(self.retry_after_s(), queue_depth=len(self._queue))
        loop = asyncio.get_running_loop()
        now = time.monotonic()
        futures: list[asyncio.Future[OutT]] = []
        for item in items:
            future: asyncio.Future[OutT] = loop.create_future()
            self._queue.append(_Pending(item, future, now))
            futures.append(future)
        self.metrics.requests.labels(self.name).inc(len(items))
        self.metrics.queue_depth.labels(self.name).set(len(self._queue))
        self._arrived.set()
        return futures

    async def predict(self, item: InT) -> OutT:
        """Run one item through the model (batched with concurrent requests).

        Raises:
            NotReady: The server is not started, or is stopping.
            Overloaded: The queue is full.
            Exception: Whatever the backend raised for the item's batch.
        """
        return await self.submit(item)

    async def predict_many(self, items: Sequence[InT]) -> list[OutT]:
        """Run several items; they are admitted together or refused together.

        Raises:
            NotReady: The server is not started, or is stopping.
            Overloaded: The queue cannot take all the items now.
            RequestTooLarge: There are more items than ``max_queue``.
            Exception: Whatever the backend raised for one of the items' batches.
        """
        futures = self.submit_many(items)
        results = await asyncio.gather(*futures, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return results  # type: ignore[return-value]  # no exceptions left: all are OutT

    # -- batching --------------------------------------------------------------------------

    async def _batch_loop(self) -> None:
        while True:
            await self._slots.acquire()
            try:
                batch = await self._collect()
            except BaseException:
                self._slots.release()
                raise
            if not batch:
                self._slots.release()
                continue
            task = asyncio.create_task(self._run(batch))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    async def _collect(self) -> list[_Pending[InT, OutT]]:
        while not self._queue:
            self._arrived.clear()
            await self._arrived.wait()
        deadline = self._queue[0].enqueued_at + self.max_wait_s
        while len(self._queue) < self.max_batch:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._arrived.clear()
            try:
                async with asyncio.timeout(remaining):
                    await self._arrived.wait()
            except TimeoutError:
                break
        batch: list[_Pending[InT, OutT]] = []
        while self._queue and len(batch) < self.max_batch:
            pending = self._queue.popleft()
            if not pending.future.done():  # skip callers that gave up
                batch.append(pending)
        self.metrics.queue_depth.labels(self.name).set(len(self._queue))
        self._dequeued.set()
        return batch

    async def _run(self, batch: list[_Pending[InT, OutT]]) -> None:
        started = time.monotonic()
        for pending in batch:
            self.metrics.queue_wait.labels(self.name).observe(started - pending.enqueued_at)
        self.metrics.batch_size.labels(self.name).observe(len(batch))
        self.metrics.in_flight.labels(self.name).inc()
        try:
            outputs = await self.backend.infer([pending.item for pending in batch])
            if len(outputs) != len(batch):
                raise BackendError(
                    f"backend {self.name!r} returned {len(outputs)} outputs for {len(batch)} items"
                )
        except asyncio.CancelledError:
            stopped = NotReady(f"model server {self.name!r} stopped")
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(stopped)
            raise
        except Exception as exc:
            self._record_error(exc)
            self.metrics.errors.labels(self.name).inc()
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(exc)
        else:
            for pending, output in zip(batch, outputs, strict=True):
                if not pending.future.done():
                    pending.future.set_result(output)
        finally:
            elapsed = time.monotonic() - started
            self.metrics.inference.labels(self.name).observe(elapsed)
            self.metrics.in_flight.labels(self.name).dec()
            self._batch_seconds = 0.8 * self._batch_seconds + 0.2 * elapsed
            self._slots.release()

    def _record_error(self, exc: BaseException) -> None:
        self.last_error = f"{type(exc).__name__}: {exc}"
        self.last_error_at = datetime.now(UTC)


def retry_after_header(exc: Overloaded) -> dict[str, str]:
    """The ``Retry-After`` header for a refusal (whole seconds, at least 1)."""
    return {"Retry-After": str(max(1, math.ceil(exc.retry_after_s)))}


__all__: list[str] = [
    "ModelServer",
    "ServerHealth",
    "retry_after_header",
]
