"""What a model server runs: the :class:`Backend` protocol and a thread-executor base class.

A backend loads its model once, warms it up, and turns a batch of inputs into one output per
input. CPU-bound backends subclass :class:`ThreadedBackend`: the blocking work runs in a thread
executor, so the event loop keeps accepting and batching requests while a batch runs (numpy
and onnxruntime release the GIL during the heavy parts).
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Generic, Protocol, TypeVar

InT = TypeVar("InT")
OutT = TypeVar("OutT")


class Backend(Protocol[InT, OutT]):
    """What a model server needs from a model: load it, warm it up, run one batch."""

    @property
    def name(self) -> str:
        """The model's name, used as the metrics label."""
        ...

    async def load(self) -> None:
        """Load the model; called once, before anything else."""
        ...

    async def warmup(self) -> None:
        """Run a throwaway batch so that the first real request is not slow."""
        ...

    async def infer(self, items: list[InT]) -> list[OutT]:
        """Return one output per item, in order."""
        ...

    async def close(self) -> None:
        """Release what :meth:`load` acquired."""
        ...


class ThreadedBackend(ABC, Generic[InT, OutT]):
    """A backend whose blocking work runs in a thread executor.

    Subclasses implement :meth:`load_sync` and :meth:`infer_sync`, and may return sample
    inputs from :meth:`warmup_items`.
    """

    def __init__(self, name: str, *, executor: Executor | None = None, threads: int = 2) -> None:
        """Create the backend.

        Args:
            name: The model's name (metrics label).
            executor: Where blocking work runs; by default a private pool of ``threads``
                threads, shut down by :meth:`close`.
            threads: Size of the private pool; it should be at least the server's
                ``max_concurrency``.
        """
        self._name = name
        self._threads = threads
        self._owns_executor = executor is None
        self._closed = False
        self._executor: Executor = executor or self._new_pool()

    def _new_pool(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(
            max_workers=self._threads, thread_name_prefix=f"model-{self._name}"
        )

    @property
    def name(self) -> str:
        """The model's name."""
        return self._name

    @abstractmethod
    def load_sync(self) -> None:
        """Load the model (blocking)."""

    @abstractmethod
    def infer_sync(self, items: list[InT]) -> list[OutT]:
        """Run one batch (blocking) and return one output per item."""

    def warmup_items(self) -> list[InT]:
        """Inputs for the warm-up batch; none by default."""
        return []

    async def load(self) -> None:
        """Run :meth:`load_sync` in the executor (a new private pool after :meth:`close`)."""
        if self._owns_executor and self._closed:
            self._executor, self._closed = self._new_pool(), False
        await asyncio.get_running_loop().run_in_executor(self._executor, self.load_sync)

    async def warmup(self) -> None:
        """Run one batch of :meth:`warmup_items`, if there are any."""
        items = self.warmup_items()
        if items:
            await self.infer(items)

    async def infer(self, items: list[InT]) -> list[OutT]:
        """Run :meth:`infer_sync` in the executor."""
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, self.infer_sync, items
        )

    async def close(self) -> None:
        """Shut down the private executor."""
        if self._owns_executor and not self._closed:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._closed = True


__all__ = ["Backend", "ThreadedBackend"]
