"""Embed texts with whichever ``model.embed`` agent is live, through a one-step internal run.

Runs are the one way work reaches agents, so discovery does not call an embedding agent
directly: it creates a run of the internal workflow ``modx.discovery.embed`` and starts it in
one write transaction, exactly as ``POST /v1/runs`` does, then waits for it to end. The run is
routed, retried, traced and ledgered like any other, and works the same in both modes and
with any number of replicas (the wait polls the database, woken early by this process's
``RunWatch`` when the result lands here).
"""

from __future__ import annotations

import asyncio
import math
from contextvars import ContextVar
from typing import Any

from services.db.models import DEFAULT_TENANT
from services.orchestrator import runs
from services.orchestrator.definitions import WorkflowDefinition, parse_definition
from services.orchestrator.states import TERMINAL_RUN, RunState
from services.registry import store
from services.runtime import Runtime

EMBED_CAPABILITY = "model.embed"
WORKFLOW_NAME = "modx.discovery.embed"
POLL_S = 0.25  # other replicas' results are only seen by polling
EMBED_TENANT: ContextVar[str] = ContextVar("modx_embed_tenant", default=DEFAULT_TENANT)
"""The tenant whose discovery asks for embeddings: the runs are that tenant's (its query text
stays with it) and go to ``model.embed`` agents that serve it (set by ``discover``)."""


class EmbeddingUnavailable(RuntimeError):
    """The embedding run failed, timed out or answered nonsense; ``code`` says which."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def embed_workflow(timeout_s: float) -> WorkflowDefinition:
    """The internal one-step workflow: ``{texts}`` in, the agent's ``{vectors, model}`` out."""
    step_timeout = max(1.0, timeout_s)
    return parse_definition(
        {
            "name": WORKFLOW_NAME,
            "description": "Embeddings for capability discovery (GET /v1/capabilities?q=).",
            "steps": [
                {
                    "id": "embed",
                    "capability": EMBED_CAPABILITY,
                    "input": {"texts": "$.input.texts"},
                    # One quick retry: an overloaded or restarting embedder may answer it.
                    "retry": {"max_attempts": 2, "backoff_s": 0.1, "jitter": 0},
                    "timeout_s": step_timeout,
                }
            ],
            "output": "$.steps.embed.output",
            "deadline_s": step_timeout * 2,
        }
    )


async def embedder_live(runtime: Runtime) -> bool:
    """True when at least one online agent serves ``model.embed``."""
    async with runtime.readers() as session:
        found = await store.find_capabilities(
            session, name=EMBED_CAPABILITY, live_only=True, tenant=EMBED_TENANT.get()
        )
        return bool(found)


class RunEmbedder:
    """An ``async (texts) -> vectors`` function backed by ``model.embed`` runs.

    Attributes:
        model: The model name of the last answer; a change means cached vectors are stale.
    """

    def __init__(self, runtime: Runtime, *, timeout_s: float = 10.0) -> None:
        """Bind to a runtime.

        Args:
            runtime: The process's runtime (database, orchestrator).
            timeout_s: How long to wait for a run before giving up on it (it is cancelled).
        """
        self.runtime = runtime
        self.timeout_s = timeout_s
        self.model: str | None = None
        self._definition = embed_workflow(timeout_s)

    async def __call__(self, texts: list[str]) -> list[list[float]]:
        """Embed ``texts`` through a run; one unit vector per text, in order.

        Raises:
            EmbeddingUnavailable: The run failed or timed out, or the output is malformed.
        """
        run_id = await self._start(texts)
        output = await self._wait(run_id)
        return self._vectors(output, len(texts))

    async def _start(self, texts: list[str]) -> str:
        run = await self.runtime.orchestrator.create_run(
            self._definition, {"texts": texts}, tenant=EMBED_TENANT.get()
        )
        assert run is not None  # no idempotency key: nothing to refuse
        return run.id

    async def _wait(self, run_id: str) -> Any:
        loop = asyncio.get_running_loop()
        end = loop.time() + self.timeout_s
        while True:
            async with self.runtime.readers() as session:
                run = await runs.get_run(session, run_id)
            if run is not None and run.status in TERMINAL_RUN:
                if run.status == RunState.SUCCEEDED:
                    return run.output
                error = run.error or {}
                raise EmbeddingUnavailable(
                    "embedding_failed",
                    f"embedding run {run_id} {run.status}: {error.get('message', 'no reason')}",
                )
            left = end - loop.time()
            if left <= 0:
                # Nobody waits for it any more: do not let it run on (or wait for an agent).
                await self.runtime.orchestrator.cancel_run(run_id, "discovery stopped waiting")
                raise EmbeddingUnavailable(
                    "embedding_timeout", f"embedding run {run_id} took over {self.timeout_s}s"
                )
            await self.runtime.orchestrator.watch.wait_finished(run_id, min(POLL_S, left))

    def _vectors(self, output: Any, count: int) -> list[list[float]]:
        vectors = output.get("vectors") if isinstance(output, dict) else None
        if (
            not isinstance(vectors, list)
            or len(vectors) != count
            or not all(_is_vector(v) for v in vectors)
        ):
            raise EmbeddingUnavailable(
                "embedding_malformed", f"model.embed answered no {count} vectors"
            )
        model = output.get("model")
        self.model = str(model) if model is not None else None
        return vectors


def _is_vector(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(x, int | float) and math.isfinite(x) for x in value)
    )


__all__ = [
    "EMBED_CAPABILITY",
    "WORKFLOW_NAME",
    "EmbeddingUnavailable",
    "RunEmbedder",
    "embed_workflow",
    "embedder_live",
]
