"""The ``model.embed`` agent on an in-memory bus: real vectors, batching across tasks,
backpressure through the SDK's task slots, and model errors as structured task errors."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from prometheus_client import CollectorRegistry

from tests.fixtures.services import require_import

require_import("agents.models.embedding", "the serving extra (onnxruntime, tokenizers)")

from agents.models.embed_agent import (  # noqa: E402
    EmbedderResources,
    EmbedderSettings,
    build_agent,
)
from agents.models.embedding import MODEL_NAME, create_embedding_server  # noqa: E402
from agents.models.serving import ModelServer  # noqa: E402
from agents.sdk.testing import AgentTestEnvironment  # noqa: E402
from tests.models.test_serving import until  # noqa: E402

TEXTS = [
    "The court dismissed the appeal because it was filed too late.",
    "The judges threw out the appeal since the deadline had passed.",
    "Preheat the oven to 200 degrees before baking the bread.",
]


def real_resources(embedder, registry: CollectorRegistry, **settings) -> EmbedderResources:
    """Resources over the already loaded model, with metrics in the test's registry."""
    config = EmbedderSettings(**settings)
    return EmbedderResources(
        config,
        server_factory=lambda _: create_embedding_server(
            embedder,
            max_batch=config.max_batch,
            max_wait_ms=config.max_wait_ms,
            max_queue=config.max_queue,
            registry=registry,
        ),
    )


async def test_vectors_through_the_agent_match_the_model(embedder, registry):
    resources = real_resources(embedder, registry)
    async with AgentTestEnvironment(build_agent(resources)) as env:
        answer = await env.execute("model.embed", {"texts": TEXTS})
        short = await env.execute("model.embed", {"texts": TEXTS[:1], "dimensions": 64})
    assert answer.kind == "result", answer.payload
    output = answer.payload["output"]
    assert output["model"] == MODEL_NAME and output["dimensions"] == 384
    vectors = np.array(output["vectors"], dtype=np.float32)
    assert np.allclose(vectors, embedder.embed(TEXTS), atol=1e-6)
    assert answer.payload["usage"] == {"texts": 3}
    assert short.payload["output"]["dimensions"] == 64
    assert len(short.payload["output"]["vectors"][0]) == 64
    await resources.close()


async def test_64_concurrent_tasks_are_served_in_batches(embedder, registry):
    resources = real_resources(embedder, registry, max_batch=64, max_wait_ms=20)
    sentences = [f"Sentence number {i} about topic {i % 7}." for i in range(64)]
    async with AgentTestEnvironment(build_agent(resources)) as env:
        tasks = [env.task("model.embed", {"texts": [text]}) for text in sentences]
        await asyncio.gather(*(env.send(task) for task in tasks))
        answers = await asyncio.gather(*(env.result(task, timeout_s=60) for task in tasks))
    assert all(a.kind == "result" for a in answers)
    got = np.array([a.payload["output"]["vectors"][0] for a in answers], dtype=np.float32)
    assert np.allclose(got, embedder.embed(sentences), atol=1e-5)
    labels = {"model": MODEL_NAME}
    texts = registry.get_sample_value("modx_model_batch_size_sum", labels)
    batches = registry.get_sample_value("modx_model_batch_size_count", labels)
    singles = registry.get_sample_value("modx_model_batch_size_bucket", {**labels, "le": "1.0"})
    assert texts == 64  # the warm-up batch runs on the backend directly, unmetered
    assert batches is not None and singles is not None
    assert batches < 64, "64 tasks should not need 64 batches"
    assert batches - singles > 0, "some batch held more than one text"
    await resources.close()


class Gated:
    """A fake model: 4-wide vectors, and a gate that holds every batch until it opens."""

    name = "gated"

    def __init__(self, fail_load: Exception | None = None) -> None:
        self.gate = asyncio.Event()
        self.fail_load = fail_load
        self.loads = 0
        self.batches: list[int] = []

    async def load(self) -> None:
        self.loads += 1
        if self.fail_load is not None:
            raise self.fail_load

    async def warmup(self) -> None:
        return None

    async def infer(self, items: list[str]) -> list[np.ndarray]:
        await self.gate.wait()
        self.batches.append(len(items))
        return [np.array([len(t), 1, 0, 0], dtype=np.float32) for t in items]

    async def close(self) -> None:
        return None


def gated_resources(backend: Gated, registry: CollectorRegistry, **settings) -> EmbedderResources:
    config = EmbedderSettings(**settings)
    return EmbedderResources(
        config,
        server_factory=lambda _: ModelServer(
            backend,
            max_batch=config.max_batch,
            max_wait_ms=config.max_wait_ms,
            max_queue=config.max_queue,
            registry=registry,
        ),
    )


async def test_a_saturated_server_stops_the_agent_pulling(registry):
    backend = Gated()
    resources = gated_resources(backend, registry, max_batch=2, max_queue=10, tasks=16)
    agent = build_agent(resources)
    async with AgentTestEnvironment(agent) as env:
        tasks = [env.task("model.embed", {"texts": [f"t{i}"]}) for i in range(24)]
        for task in tasks:
            await env.send(task)
        server = await resources.server()
        # Two texts are held in the gated batch, 8 (the high watermark) wait in the queue, and
        # the other 6 tasks with a slot wait for room: all 16 slots are taken, so the SDK has
        # stopped pulling and the last 8 tasks are still on the bus.
        await until(lambda: env.runtime.in_flight == 16, "every slot in use")
        await until(lambda: server.queue_depth == server.high_watermark, "queue at the watermark")
        assert env.runtime.paused and server.saturated
        backend.gate.set()
        answers = await asyncio.gather(*(env.result(t) for t in tasks))
    assert [a.kind for a in answers] == ["result"] * 24
    assert sum(backend.batches) == 24 and max(backend.batches) == 2
    assert registry.get_sample_value("modx_model_rejections_total", {"model": "gated"}) is None
    assert backend.loads == 1


async def test_overload_and_oversized_requests_are_structured_errors(registry):
    backend = Gated()
    resources = gated_resources(
        backend, registry, max_batch=1, max_queue=8, overload_retries=0, tasks=16
    )
    async with AgentTestEnvironment(build_agent(resources)) as env:
        held = [env.task("model.embed", {"texts": [f"t{i}"]}) for i in range(4)]
        for task in held:
            await env.send(task)
        server = await resources.server()
        await until(lambda: server.queue_depth == 3, "one batch held, three queued")
        # Below the watermark (6), so the handler submits, but 3 + 6 texts exceed the queue.
        crowded = await env.execute("model.embed", {"texts": ["x"] * 6})
        too_big = await env.execute("model.embed", {"texts": ["x"] * 9})
        backend.gate.set()
        assert all(a.kind == "result" for a in await asyncio.gather(*map(env.result, held)))
    error = crowded.payload["error"]
    assert error["code"] == "overloaded" and error["retryable"] is True
    assert error["details"]["retry_after_s"] > 0 and error["details"]["code"] == "overloaded"
    error = too_big.payload["error"]
    assert error["code"] == "request_too_large" and error["retryable"] is False


@pytest.mark.parametrize(
    ("failure", "code", "retryable"),
    [
        (RuntimeError("onnxruntime session failed"), "not_ready", True),
        (ImportError("no module named onnxruntime"), "model_unavailable", False),
    ],
)
async def test_a_model_that_does_not_load_fails_the_task_cleanly(
    registry, failure, code, retryable
):
    resources = gated_resources(Gated(fail_load=failure), registry)
    async with AgentTestEnvironment(build_agent(resources)) as env:
        answer = await env.execute("model.embed", {"texts": ["hello"]})
    assert answer.kind == "error"
    assert answer.payload["error"]["code"] == code
    assert answer.payload["error"]["retryable"] is retryable


async def test_invalid_input_is_refused_by_the_sdk(registry):
    resources = gated_resources(Gated(), registry)
    async with AgentTestEnvironment(build_agent(resources)) as env:
        answer = await env.execute("model.embed", {"texts": [], "dimensions": 999})
    assert answer.payload["error"]["code"] == "invalid_input"
    assert {e["field"] for e in answer.payload["error"]["details"]["errors"]} == {
        "texts",
        "dimensions",
    }
