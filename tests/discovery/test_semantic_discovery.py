"""Semantic discovery through the API with a live embedding agent, in both modes: the 30
paraphrased queries, embeddings fetched by traced runs, caches and their invalidation, and the
fallback to BM25 when the embedding run fails or times out."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from agents.sdk import Agent, FatalError
from tests.discovery.capabilities import CAPABILITIES, QUERIES
from tests.fixtures.identity import keyed
from tests.fixtures.services import require_import
from tests.fixtures.stack import Stack, running_stack

require_import("agents.models.embedding", "the serving extra (onnxruntime, tokenizers)")

WORKFLOW = "modx.discovery.embed"


async def start_embedder(stack: Stack) -> None:
    if stack.mode == "distributed":
        stack.process("bus", "embedder")  # the real agent, in its own OS process, on Redis
        await stack.wait_agent("embedder")
    else:
        from agents.models.embed_agent import agent

        await stack.agent(agent)


async def register_fixture(stack: Stack) -> None:
    for index, (name, description) in enumerate(CAPABILITIES):
        card = {
            "name": f"fixture-{index}",
            "capabilities": [{"name": name, "description": description}],
        }
        response = await stack.client.post("/v1/agents", json=keyed(card))
        assert response.status_code == 201, response.text


async def search(stack: Stack, query: str, **params: Any) -> dict[str, Any]:
    response = await stack.client.get("/v1/capabilities", params={"q": query, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def embedding_runs(stack: Stack) -> list[dict[str, Any]]:
    response = await stack.client.get("/v1/runs", params={"workflow": WORKFLOW, "limit": 500})
    return list(response.json()["items"])


async def test_paraphrases_find_the_right_capability_with_the_embedder_live(stack: Stack) -> None:
    await start_embedder(stack)
    await register_fixture(stack)
    hits, misses = 0, []
    for query, expected in QUERIES:
        body = await search(stack, query)
        assert body["ranking"] == "embedding", body["fallback"]
        first = body["items"][0]
        hits += first["name"] == expected
        if first["name"] != expected:
            misses.append((query, expected, first["name"]))
    print(f"embedding top-1 through the API ({stack.mode}): {hits}/{len(QUERIES)}; {misses}")
    assert hits >= 27
    scores = [item["score"] for item in body["items"]]
    assert scores == sorted(scores, reverse=True) and -1 <= scores[-1] <= scores[0] <= 1

    # Every query was one traced run of model.embed; the first also embedded the capabilities.
    runs = await embedding_runs(stack)
    assert len(runs) == len(QUERIES) and {r["status"] for r in runs} == {"succeeded"}
    first_run = runs[-1]  # newest first
    registered = len(body["items"])  # the fixture and model.embed itself
    assert registered == len(CAPABILITIES) + 1
    # Two views a capability (its text, its description alone), then the query.
    assert len(first_run["input"]["texts"]) == 2 * registered + 1
    assert all(len(r["input"]["texts"]) == 1 for r in runs[:-1])

    # The same query over the same capabilities is answered from the cache: no new run.
    again = await search(stack, QUERIES[0][0])
    assert again["items"][0]["name"] == QUERIES[0][1]
    assert len(await embedding_runs(stack)) == len(QUERIES)

    # A registration changes the set: the next search embeds just the new views and the query.
    card = {
        "name": "late",
        "capabilities": [{"name": "legal.lease_review", "description": "Review a rental lease."}],
    }
    assert (await stack.client.post("/v1/agents", json=keyed(card))).status_code == 201
    body = await search(stack, "Check my apartment rental agreement for unfair terms")
    assert body["items"][0]["name"] == "legal.lease_review"
    newest = (await embedding_runs(stack))[0]
    assert newest["input"]["texts"] == [
        "legal lease review: Review a rental lease.",
        "Review a rental lease.",
        "Check my apartment rental agreement for unfair terms",
    ]


async def test_without_a_live_embedder_the_ranking_is_lexical(stack: Stack) -> None:
    await register_fixture(stack)
    body = await search(stack, "Refund the customer")
    assert body["ranking"] == "lexical" and body["fallback"]["code"] == "no_embedder"
    assert body["items"][0]["name"] == "payments.refund"
    assert await embedding_runs(stack) == []


failing = Agent("bad-embedder", version="1.0.0")


@failing.capability("model.embed", description="Always fails.")
async def refuse(request: dict[str, Any]) -> dict[str, Any]:
    raise FatalError("model weights are corrupt", code="model_unavailable")


hanging = Agent("slow-embedder", version="1.0.0")


@hanging.capability("model.embed", description="Never answers.")
async def hang(request: dict[str, Any]) -> dict[str, Any]:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


@pytest.mark.parametrize(
    ("agent", "code"), [(failing, "embedding_failed"), (hanging, "embedding_timeout")]
)
async def test_a_failed_or_slow_embedding_run_falls_back_to_bm25(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, agent: Agent, code: str
) -> None:
    monkeypatch.setenv("MODX_DISCOVERY_EMBED_TIMEOUT_S", "1")
    async with running_stack("embedded", tmp_path, None, None) as stack:
        await stack.agent(agent)
        await register_fixture(stack)
        body = await search(stack, "Refund the customer")
        assert body["ranking"] == "lexical"
        assert body["fallback"]["code"] == code, body["fallback"]
        assert body["items"][0]["name"] == "payments.refund"
        (run,) = await embedding_runs(stack)
        # A run nobody waits for any more is cancelled rather than left waiting.
        assert run["status"] == ("failed" if code == "embedding_failed" else "cancelled")
