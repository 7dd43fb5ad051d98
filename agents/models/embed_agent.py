"""The embedding agent: ``model.embed`` served from one int8 MiniLM behind a micro-batching server.

Run it with ``modx agent run agents.models.embed_agent:agent`` (``modx up`` starts it too).

How the pieces fit:

- **One model per process.** :class:`EmbedderResources` loads the ONNX model once (on the first
  task, because an ``Agent`` has no start-up hook) and starts a :class:`ModelServer` over it,
  which warms the model up. The server belongs to the running event loop; a new loop (a test,
  a restart) gets a new server over the same loaded model.
- **Batching across tasks.** Each task submits its texts to the shared server, so texts of
  concurrent tasks land in the same ONNX run. The agent takes up to ``tasks`` tasks at once
  (``MODX_EMBEDDER_TASKS``), enough to fill a batch.
- **Backpressure.** A handler first waits until the server is below its high watermark. While
  it waits it holds one of the SDK's task slots; once every slot is held the SDK pauses its
  subscriptions, so new tasks stay on the bus for other embedder processes.
- **Structured errors.** ``Overloaded`` and ``NotReady`` become retryable task errors with the
  model error's code and ``to_dict()`` as details; a request that can never fit is fatal.

Metrics go to the process's default Prometheus registry (``modx_model_*``, label
``model="all-MiniLM-L6-v2-int8"``); in the embedded mode the server's ``/metrics`` shows them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from agents.models.embedding import (
    EmbedRequest,
    EmbedResult,
    MiniLMEmbedder,
    Vector,
    create_embedding_server,
    embed,
)
from agents.models.errors import ModelError, NotReady, Overloaded
from agents.models.serving import ModelServer
from agents.sdk import Agent, FatalError, RetryableError, TaskContext

CAPABILITY = "model.embed"


class EmbedderSettings(BaseSettings):
    """How the embedding agent batches and how much work it takes (prefix ``MODX_EMBEDDER_``)."""

    model_config = SettingsConfigDict(env_prefix="MODX_EMBEDDER_", extra="ignore")

    max_batch: int = Field(default=64, ge=1, le=1024)
    max_wait_ms: float = Field(default=5.0, ge=0, le=1000)
    max_concurrency: int = Field(default=1, ge=1, le=64)
    max_queue: int = Field(default=2048, ge=1)
    tasks: int = Field(default=64, ge=1, le=4096)
    overload_retries: int = Field(default=3, ge=0, le=20)


ServerFactory = Callable[[MiniLMEmbedder | None], ModelServer[str, Vector]]


class EmbedderResources:
    """The process's embedding model and the model server of the running event loop."""

    def __init__(
        self,
        settings: EmbedderSettings | None = None,
        *,
        server_factory: ServerFactory | None = None,
    ) -> None:
        """Configure; nothing is loaded until :meth:`server` is first awaited.

        Args:
            settings: Batching settings (``MODX_EMBEDDER_*`` by default).
            server_factory: Builds a server over the shared embedder (tests pass one with a
                private metrics registry or a fake backend).
        """
        self.settings = settings or EmbedderSettings()
        self._factory = server_factory or self._default_server
        self._embedder: MiniLMEmbedder | None = None
        self._server: ModelServer[str, Vector] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None

    def _default_server(self, embedder: MiniLMEmbedder | None) -> ModelServer[str, Vector]:
        s = self.settings
        return create_embedding_server(
            embedder,
            max_batch=s.max_batch,
            max_wait_ms=s.max_wait_ms,
            max_concurrency=s.max_concurrency,
            max_queue=s.max_queue,
        )

    async def server(self) -> ModelServer[str, Vector]:
        """The started server of this event loop (loaded and warmed up on first use).

        Raises:
            ImportError: The model packages are not installed.
            ValueError: The model file is not the expected one.
            Exception: Whatever else loading or warming up raised.
        """
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            # Locks and servers are tied to the loop that created them.
            self._loop, self._lock, self._server = loop, asyncio.Lock(), None
        assert self._lock is not None
        async with self._lock:
            if self._server is None or not self._server.ready:
                if self._embedder is None:
                    self._embedder = MiniLMEmbedder()
                server = self._factory(self._embedder)
                await server.start()  # loads once (the embedder remembers) and warms up
                self._server = server
            return self._server

    async def close(self) -> None:
        """Stop this loop's server (queued texts are served first)."""
        if self._server is not None and self._loop is asyncio.get_running_loop():
            await self._server.stop()
        self._server = None


async def _embed_with_backpressure(
    server: ModelServer[str, Vector], request: EmbedRequest, retries: int, ctx: TaskContext
) -> EmbedResult:
    """Wait for room, submit; on a race for the last places, wait ``retry_after_s`` and retry."""
    for attempt in range(retries + 1):
        await server.wait_until_unsaturated()
        try:
            return await embed(server, request)
        except Overloaded as exc:
            left = ctx.time_left()
            if attempt == retries or (left is not None and left <= exc.retry_after_s):
                raise
            await asyncio.sleep(exc.retry_after_s)
    raise AssertionError("unreachable")  # pragma: no cover


def task_error(exc: ModelError) -> RetryableError | FatalError:
    """A model error as the SDK's task error, keeping its code and details."""
    kind = RetryableError if exc.retryable else FatalError
    return kind(str(exc), code=exc.code, details=exc.to_dict())


def build_agent(resources: EmbedderResources | None = None) -> Agent:
    """An embedding agent over ``resources`` (a fresh one by default).

    Args:
        resources: Where the model server comes from; tests pass their own.

    Returns:
        The agent, named ``embedder``, serving ``model.embed``.
    """
    res = resources or EmbedderResources()
    embedder_agent = Agent(
        "embedder",
        version="1.0.0",
        description="Sentence embeddings (all-MiniLM-L6-v2, int8 ONNX) with micro-batching.",
        max_concurrency=res.settings.tasks,
        shared=True,
    )

    @embedder_agent.capability(
        CAPABILITY,
        consumes=["modx:Text"],
        produces=["modx:Embedding"],
        description="Embed texts as unit vectors (all-MiniLM-L6-v2, 384 dimensions, or fewer "
        "when asked: Matryoshka-style truncation).",
        idempotent=True,
    )
    async def embed_texts(request: EmbedRequest, ctx: TaskContext) -> EmbedResult:
        """Embed the texts; batched with the texts of concurrent tasks."""
        try:
            server = await res.server()
        except (ImportError, ValueError) as exc:
            # The model is missing or corrupt here; no retry on this process can fix that.
            raise FatalError(str(exc), code="model_unavailable") from None
        except ModelError as exc:
            raise task_error(exc) from None
        except Exception as exc:
            raise RetryableError(f"model did not start: {exc}", code=NotReady.code) from None
        try:
            result = await _embed_with_backpressure(
                server, request, res.settings.overload_retries, ctx
            )
        except ModelError as exc:
            raise task_error(exc) from None
        ctx.report_usage(texts=len(request.texts))
        return result

    return embedder_agent


resources = EmbedderResources()
agent = build_agent(resources)

__all__ = [
    "CAPABILITY",
    "EmbedderResources",
    "EmbedderSettings",
    "agent",
    "build_agent",
    "resources",
    "task_error",
]
