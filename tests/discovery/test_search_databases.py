"""``GET /v1/capabilities`` filters and ranks in SQL: the same answers on PostgreSQL and SQLite.

Concept filters become string matches on every spelling of the asked concept's subclasses
(``jsonb ?|`` on PostgreSQL, ``json_each`` on SQLite); ``q`` ranks the keys the database
returns, with indexes cached by the registry's content.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ontology import IRI_BASE
from services.config import Settings
from services.discovery.concepts import default_index
from services.discovery.search import best
from services.registry import store
from services.registry.schemas import AgentCard
from services.registry.store import CapabilityKey
from services.runtime import Runtime
from tests.fixtures.app import app_client
from tests.fixtures.identity import keyed

TOKEN = "discovery-test-token-0123456789"
INDEX = default_index()


def database_url(request: pytest.FixtureRequest) -> str | None:
    return request.getfixturevalue("postgres_migrated_url") if request.param == "postgres" else None


@pytest.fixture(params=["sqlite", "postgres"])
async def runtime(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Runtime]:
    settings = Settings(data_dir=tmp_path, database_url=database_url(request), api_token=TOKEN)
    opened = await Runtime.open(settings, orchestrate=False)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def client(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(data_dir=tmp_path, database_url=database_url(request), api_token=TOKEN)
    async with app_client(settings) as http:
        yield http


async def register(client: httpx.AsyncClient, name: str, *capabilities: dict[str, Any]) -> str:
    card = keyed({"name": name, "capabilities": capabilities})
    response = await client.post("/v1/agents", json=card)
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


async def search(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/v1/capabilities", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def pairs(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(item["name"], item["agent_name"]) for item in body["items"]]


async def test_concept_filters_match_every_spelling_of_every_subclass(client):
    await register(
        client,
        "facts",
        {"name": "a.compact", "produces": ["tax:ValidatedFacts"], "consumes": ["modx:Text"]},
        {"name": "b.full", "produces": [IRI_BASE + "CaseFacts"], "consumes": ["tax:Proof"]},
        {"name": "c.other", "produces": ["modx:Text", "tax:Proof"]},
        {"name": "d.none"},
    )
    assert pairs(await search(client, produces="tax:CaseFacts")) == [
        ("a.compact", "facts"),
        ("b.full", "facts"),
    ]
    assert pairs(await search(client, produces=IRI_BASE + "ValidatedFacts")) == [
        ("a.compact", "facts")
    ]
    assert pairs(await search(client, produces="tax:Proof")) == [("c.other", "facts")]
    assert len(pairs(await search(client, produces="tax:ReasoningArtifact"))) == 3
    assert pairs(await search(client, consumes="tax:ReasoningArtifact")) == [("b.full", "facts")]
    assert pairs(await search(client, produces="modx:Text")) == [("c.other", "facts")]
    assert pairs(await search(client, produces="modx:Nothing")) == []
    assert pairs(await search(client, produces="tax:CaseFacts", consumes="modx:Text")) == [
        ("a.compact", "facts")
    ]
    # With q, only the filtered capabilities are ranked.
    body = await search(client, produces="tax:CaseFacts", q="validated facts")
    assert body["ranking"] == "lexical" and len(body["items"]) == 2


async def test_pages_are_ordered_by_name_then_agent_with_or_without_q(client):
    for agent in ("second", "first"):
        await register(
            client,
            agent,
            {"name": "shared.review", "description": "review contracts"},
            {"name": f"{agent}.only", "description": "nothing in common"},
        )
    plain = (await search(client))["items"]
    assert [item["name"] for item in plain] == [
        "first.only",
        "second.only",
        "shared.review",
        "shared.review",
    ]
    shared = [item["agent_id"] for item in plain[2:]]
    assert shared == sorted(shared)  # two agents serve shared.review: by agent id
    assert (await search(client, limit=3))["items"] == plain[:3]
    assert (await search(client, name="shared.*", limit=1))["items"] == plain[2:3]

    # Ranked: best first; equal scores (and no score) keep the same order.
    ranked = (await search(client, q="review contracts"))["items"]
    assert [(item["name"], item["agent_id"]) for item in ranked] == [
        (item["name"], item["agent_id"]) for item in plain[2:] + plain[:2]
    ]
    assert ranked[0]["score"] == ranked[1]["score"] > 0 == ranked[2]["score"] == ranked[3]["score"]
    assert (await search(client, q="review contracts", limit=3))["items"] == ranked[:3]


async def test_rankings_follow_registrations_and_removals(client):
    await register(client, "payments", {"name": "payments.refund", "description": "refund money"})
    await register(client, "other", {"name": "weather.forecast", "description": "rain and wind"})
    first = (await search(client, q="refund"))["items"]
    assert first[0]["name"] == "payments.refund" and first[0]["score"] > 0
    assert (await search(client, q="refund"))["items"] == first  # unchanged registry, same answer

    # A new capability sharing the word changes the term statistics and joins the ranking.
    token = await register(
        client, "invoices", {"name": "invoices.refund", "description": "refund invoices"}
    )
    second = (await search(client, q="refund"))["items"]
    assert {item["name"] for item in second[:2]} == {"invoices.refund", "payments.refund"}
    assert second[0]["score"] != first[0]["score"]

    # Deregistered (and removed, having no task out): gone from the next ranking.
    agent_id = next(item["agent_id"] for item in second if item["name"] == "invoices.refund")
    response = await client.delete(
        f"/v1/agents/{agent_id}", headers={"authorization": f"Bearer {token}"}
    )
    assert response.status_code == 202, response.text
    assert (await search(client, q="refund"))["items"] == first


async def test_q_reads_the_candidates_again_only_when_they_change(client, monkeypatch):
    reads: list[object] = []
    read_keys = store.capability_keys

    async def counted(*args: Any, **kwargs: Any) -> list[CapabilityKey]:
        reads.append(kwargs)
        return await read_keys(*args, **kwargs)

    monkeypatch.setattr(store, "capability_keys", counted)
    await register(client, "payments", {"name": "payments.refund", "description": "refund"})
    first = await search(client, q="refund")
    assert await search(client, q="refund money") and await search(client, q="refund") == first
    assert len(reads) == 1  # the stamp was unchanged: keys and corpus came from the cache
    await register(client, "more", {"name": "invoices.refund", "description": "refund"})
    assert len((await search(client, q="refund"))["items"]) == 2 and len(reads) == 2


async def test_the_stamp_read_in_sql_is_the_stamp_of_the_keys(runtime):
    cards = [
        AgentCard.model_validate(
            {
                "name": f"agent-{i}",
                "capabilities": [
                    {"name": f"cap.{j}", "produces": ["tax:Proof"] if j % 2 else []}
                    for j in range(i, i + 3)
                ],
            }
        )
        for i in range(4)
    ]
    async with runtime.sessions() as session, session.begin():
        for card in cards:
            await store.register_agent(session, card, 60)
    filters: list[dict[str, Any]] = [
        {},
        {"live_only": True},
        {"name": "cap.2"},
        {"name": "cap.*"},
        {"produces": {"tax:Proof"}},
        {"consumes": {"tax:Proof"}},
    ]
    async with runtime.readers() as session:
        for kwargs in filters:
            keys = await store.capability_keys(session, **kwargs)
            assert await store.capability_stamp(session, **kwargs) == store.stamp(keys), kwargs
        assert len(await store.capability_keys(session)) == 12
        assert await store.capability_stamp(session, consumes={"tax:Proof"}) == ""


def test_spellings_are_exactly_the_iris_a_concept_subsumes():
    iris = [
        *(form for cls in INDEX.ancestors for form in (cls, INDEX.compact(cls))),
        "modx:Text",
        "https://modx.dev/ontology/modx#Text",
        "tax:NoSuchThing",
        "tax://odd",
        "",
    ]
    for broader in [*random.Random(7).sample(iris, 40), "tax:CaseFacts", "modx:Text"]:
        spellings = INDEX.spellings(broader)
        assert {iri for iri in iris if iri in spellings} == {
            iri for iri in iris if INDEX.subsumes(broader, iri)
        }, broader


def test_the_best_keys_are_those_of_a_full_sort():
    rng = random.Random(3)
    names = [f"cap.{i:02d}" for i in range(30)]
    keys = sorted(
        CapabilityKey(name, f"agent-{agent}", i)
        for i, (name, agent) in enumerate((rng.choice(names), rng.randrange(3)) for _ in range(80))
    )
    for _ in range(20):
        values = [0.0, 0.5, 1.0, -0.5, rng.random(), -rng.random()]
        scores = {name: rng.choice(values) for name in rng.sample(names, rng.randrange(31))}
        full = sorted(keys, key=lambda k: (-scores.get(k.name, 0.0), k.name, k.agent_id))
        for limit in (1, 5, 80, 100):
            assert [key for key, _ in best(keys, scores, limit)] == full[:limit]
