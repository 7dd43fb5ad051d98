"""The embedding agent inside MODX: real embeddings from a separate agent process on Redis
(distributed mode), and 64 tasks of one run served in batches (embedded mode, where the
agent's metrics are in this process's registry and on the server's ``/metrics``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from prometheus_client.parser import text_string_to_metric_families

from tests.fixtures.services import require_import

require_import("agents.models.embedding", "the serving extra (onnxruntime, tokenizers)")

from agents.models.embed_agent import agent as embedder_agent  # noqa: E402
from agents.models.embedding import MODEL_NAME  # noqa: E402
from tests.fixtures.stack import ADMIN, Stack, running_stack  # noqa: E402
from tests.models.test_embedding import PARAPHRASES  # noqa: E402

EMBED_ONE = {
    "name": "embed-texts",
    "steps": [{"id": "embed", "capability": "model.embed", "input": {"texts": "$.input.texts"}}],
    "output": "$.steps.embed.output",
}

EMBED_EACH = {
    "name": "embed-each",
    "steps": [
        {
            "id": "embed",
            "capability": "model.embed",
            "for_each": "$.input.texts",
            "input": {"texts": ["$.item"]},
        }
    ],
    "output": "$.steps.embed.output",
}


async def test_real_embeddings_from_an_agent_process_on_the_bus(
    tmp_path: Path, postgres_migrated_url: str, redis_url: str, embedder
) -> None:
    texts = [text for triple in PARAPHRASES for text in triple]
    async with running_stack(
        "distributed", tmp_path, postgres_migrated_url, redis_url, heartbeat_interval_s=0.5
    ) as stack:
        proc = stack.process("bus", "embedder")
        (card,) = await stack.wait_agent("embedder")
        assert [c["name"] for c in card["capabilities"]] == ["model.embed"]
        run = await stack.wait(await stack.submit(EMBED_ONE, {"texts": texts}), timeout=120)
        assert proc.poll() is None, "the agent process is still serving"
    assert run["status"] == "succeeded", run["error"]
    (step,) = run["steps"]
    assert step["agent_id"] == card["agent_id"]
    output = run["output"]
    assert output["model"] == MODEL_NAME and output["dimensions"] == 384
    vectors = np.array(output["vectors"], dtype=np.float32)
    # The agent's vectors are the model's.
    assert np.allclose(vectors, embedder.embed(texts), atol=1e-5)
    # Paraphrases are closer than unrelated sentences.
    for i in range(len(PARAPHRASES)):
        anchor, paraphrase, unrelated = vectors[3 * i : 3 * i + 3]
        assert anchor @ paraphrase > anchor @ unrelated + 0.2, PARAPHRASES[i]


def batch_histogram(metrics_text: str) -> tuple[float, float, float]:
    """(texts, batches, batches of one text) of the embedding model, from ``/metrics``."""
    texts = batches = singles = 0.0
    for family in text_string_to_metric_families(metrics_text):
        if family.name != "modx_model_batch_size":
            continue
        for sample in family.samples:
            if sample.labels.get("model") != MODEL_NAME:
                continue
            if sample.name.endswith("_sum"):
                texts = sample.value
            elif sample.name.endswith("_count"):
                batches = sample.value
            elif sample.name.endswith("_bucket") and sample.labels.get("le") == "1.0":
                singles = sample.value
    return texts, batches, singles


async def metrics_of(stack: Stack) -> tuple[float, float, float]:
    response = await stack.client.get("/metrics", headers={"authorization": f"Bearer {ADMIN}"})
    return batch_histogram(response.text)


async def test_64_concurrent_tasks_are_served_in_batches(tmp_path: Path) -> None:
    sentences = [f"Request {i}: please embed sentence number {i}." for i in range(64)]
    async with running_stack("embedded", tmp_path, None, None) as stack:
        await stack.agent(embedder_agent)
        # Load the model first, so that batching below is not just tasks queued behind the load.
        warm = await stack.wait(await stack.submit(EMBED_ONE, {"texts": ["warm up"]}))
        assert warm["status"] == "succeeded", warm["error"]
        before = await metrics_of(stack)
        run = await stack.wait(await stack.submit(EMBED_EACH, {"texts": sentences}), timeout=120)
        after = await metrics_of(stack)
    assert run["status"] == "succeeded", run["error"]
    assert len(run["output"]) == 64 and all(len(o["vectors"]) == 1 for o in run["output"])
    texts, batches, singles = (a - b for a, b in zip(after, before, strict=True))
    print(f"64 tasks: {texts:.0f} texts in {batches:.0f} batches ({singles:.0f} of one text)")
    assert texts == 64
    assert batches < 64 and batches - singles > 0, "some batches held several tasks' texts"
