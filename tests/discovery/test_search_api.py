"""``GET /v1/capabilities`` without an embedding agent: concept filters with subsumption, and
``q`` ranked lexically (BM25), saying so."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ontology import IRI_BASE
from services.config import Settings
from tests.discovery.capabilities import CAPABILITIES, QUERIES
from tests.fixtures.app import app_client
from tests.fixtures.errors import assert_error
from tests.fixtures.identity import keyed

TOKEN = "discovery-test-token-0123456789"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(Settings(data_dir=tmp_path, api_token=TOKEN)) as http:
        yield http


async def register(client: httpx.AsyncClient, name: str, *capabilities: dict[str, Any]) -> None:
    card = keyed({"name": name, "capabilities": capabilities})
    response = await client.post("/v1/agents", json=card)
    assert response.status_code == 201, response.text


async def names(client: httpx.AsyncClient, **params: str) -> list[str]:
    response = await client.get("/v1/capabilities", params=params)
    assert response.status_code == 200, response.text
    return sorted(item["name"] for item in response.json()["items"])


async def test_a_superclass_finds_capabilities_registered_with_subclasses(client):
    from agents.legal.agent import agent as legal

    await register(client, "legal", *legal.card()["capabilities"])
    await register(
        client,
        "irs",
        {
            "name": "irs.income_tax",
            "consumes": ["tax:CaseFacts"],
            "produces": ["tax:IncomeTaxAmount"],
        },
        {"name": "irs.other", "consumes": ["modx:Text"], "produces": ["modx:Embedding"]},
    )
    # legal.validate_facts produces tax:ValidatedFacts, a subclass of tax:CaseFacts.
    assert await names(client, produces="tax:CaseFacts") == [
        "legal.formalize",
        "legal.validate_facts",
        "sara.parse_case",
    ]
    assert await names(client, produces="tax:ValidatedFacts") == ["legal.validate_facts"]
    assert await names(client, produces="tax:TaxAmount") == ["irs.income_tax"]
    assert await names(client, produces=IRI_BASE + "StatutoryAmount") == ["irs.income_tax"]
    # every capability of the legal agent produces a reasoning artifact
    assert len(await names(client, produces="tax:ReasoningArtifact")) == len(legal.capabilities)
    # consumes= works the same way: legal.infer and legal.entail consume validated facts.
    assert await names(client, consumes="tax:CaseFacts") == [
        "irs.income_tax",
        "legal.entail",
        "legal.infer",
        "legal.validate_facts",
    ]
    # Unknown IRIs match exactly.
    assert await names(client, produces="modx:Embedding") == ["irs.other"]
    assert await names(client, produces="modx:Vector") == []
    assert await names(client, produces="tax:TaxAmount", consumes="modx:Text") == []


async def test_q_without_an_embedder_is_ranked_lexically_and_says_so(client):
    for index, (name, description) in enumerate(CAPABILITIES):
        await register(client, f"agent-{index}", {"name": name, "description": description})
    response = await client.get("/v1/capabilities", params={"q": "refund a payment"})
    body = response.json()
    assert body["ranking"] == "lexical"
    assert body["fallback"]["code"] == "no_embedder"
    items = body["items"]
    assert items[0]["name"] == "payments.refund" and items[0]["score"] > 0
    scores = [item["score"] for item in items]
    assert scores == sorted(scores, reverse=True) and len(items) == len(CAPABILITIES)
    limited = await client.get("/v1/capabilities", params={"q": "refund", "limit": 3})
    assert len(limited.json()["items"]) == 3
    plain = (await client.get("/v1/capabilities")).json()
    assert plain["ranking"] is None and plain["items"][0]["score"] is None

    hits = 0
    for query, expected in QUERIES:
        items = (await client.get("/v1/capabilities", params={"q": query})).json()["items"]
        hits += items[0]["name"] == expected and items[0]["score"] > 0
    print(f"lexical top-1 through the API: {hits}/{len(QUERIES)}")
    assert hits >= 5  # as measured by tests/discovery/test_ranking.py


async def test_q_is_bounded(client):
    response = await client.get("/v1/capabilities", params={"q": "x" * 2001})
    assert assert_error(response, 422, "invalid_request")["details"][0]["path"] == "$.q"
