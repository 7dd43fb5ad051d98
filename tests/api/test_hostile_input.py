"""Hostile strings and numbers: a 422 naming the field, on SQLite and on PostgreSQL, never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.config import Settings
from tests.fixtures.app import app_client
from tests.fixtures.identity import keyed

TOKEN = "hostile-test-token-0123456789"
FLOW = {"name": "hostile", "steps": [{"id": "a", "capability": "x.y"}]}


@pytest.fixture(params=["sqlite", "postgres"])
async def client(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    database_url = (
        request.getfixturevalue("postgres_migrated_url") if request.param == "postgres" else None
    )
    settings = Settings(data_dir=tmp_path, api_token=TOKEN, database_url=database_url)
    async with app_client(settings) as http:
        http.headers["content-type"] = "application/json"
        yield http


def refused(response: httpx.Response, path: str, where: str) -> str:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] in ("invalid_request", "invalid_definition")
    first = error["details"][0]
    assert first["path"] == path and first.get("in", "body") == where, error
    return str(error["details"][0]["message"])


async def test_nul_bytes_are_refused_in_paths_queries_and_bodies(client: httpx.AsyncClient) -> None:
    assert "NUL" in refused(await client.get("/v1/runs/a%00b"), "$.run_id", "path")
    assert "NUL" in refused(await client.get("/v1/workflows/a%00b"), "$.name", "path")
    response = await client.get("/v1/runs", params={"workflow": "a\x00"})
    assert "NUL" in refused(response, "$.workflow", "query")
    response = await client.post(
        "/v1/runs", json={"workflow": "x", "input": {"s": ["ok", "a\x00"]}}
    )
    assert "NUL" in refused(response, "$.input.s[1]", "body")
    response = await client.post("/v1/workflows", json={**FLOW, "name": "a\x00"})
    assert "NUL" in refused(response, "$.name", "body")
    response = await client.post("/v1/runs", json={"workflow": "x", "input": {"k\x00": 1}})
    assert "NUL" in refused(response, "$.input", "body")


async def test_lone_surrogates_are_refused(client: httpx.AsyncClient) -> None:
    body = b'{"workflow": "x", "input": {"s": "\\ud800"}}'
    response = await client.post("/v1/runs", content=body)
    assert "surrogate" in refused(response, "$.input.s", "body")
    body = b'{"name": "\\udfff", "steps": [{"id": "a", "capability": "x.y"}]}'
    assert "surrogate" in refused(
        await client.post("/v1/workflows", content=body), "$.name", "body"
    )
    # A surrogate pair is one character, and welcome.
    pair = b'{"name": "emoji", "description": "\\ud83d\\ude00", "steps": [{"id": "a", "capability": "x.y"}]}'
    registered = await client.post("/v1/workflows", content=pair)
    assert registered.status_code == 201, registered.text
    assert registered.json()["definition"]["description"] == "\N{GRINNING FACE}"


async def test_integers_past_the_columns_are_refused(client: httpx.AsyncClient) -> None:
    assert (await client.post("/v1/workflows", json=FLOW)).status_code == 201
    refused(
        await client.get("/v1/workflows/hostile", params={"version": 2**31}), "$.version", "query"
    )
    refused(
        await client.post("/v1/runs", json={"workflow": "hostile", "version": 2**31}),
        "$.version",
        "body",
    )
    refused(
        await client.post("/v1/workflows", json={**FLOW, "version": 2**31}), "$.version", "body"
    )
    response = await client.post("/v1/runs", json={"workflow": "hostile@99999999999"})
    assert response.status_code == 422 and "$.workflow" in response.text
    run = await client.post("/v1/runs", json={"workflow": "hostile", "input": {"n": 2**63 - 1}})
    assert run.status_code == 202, run.text
    run_id = run.json()["run_id"]
    refused(
        await client.get(f"/v1/runs/{run_id}/events", params={"after": 2**63}), "$.after", "query"
    )
    assert (await client.get(f"/v1/runs/{run_id}/events", params={"after": 2**63 - 1})).json() == []
    stored = (await client.get(f"/v1/runs/{run_id}")).json()
    assert stored["input"] == {"n": 2**63 - 1}  # the largest accepted integer comes back intact
    response = await client.post("/v1/runs", json={"workflow": "hostile", "input": {"n": 2**63}})
    assert "64 bits" in refused(response, "$.input.n", "body")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
async def test_nan_and_infinity_are_refused_not_stored_as_null(
    client: httpx.AsyncClient, literal: str
) -> None:
    body = f'{{"workflow": "x", "input": {{"v": [1, {literal}]}}}}'.encode()
    refused(await client.post("/v1/runs", content=body), "$.input.v[1]", "body")
    definition = (
        f'{{"name": "n", "deadline_s": {literal}, "steps": [{{"id": "a", "capability": "x.y"}}]}}'
    )
    refused(await client.post("/v1/workflows", content=definition.encode()), "$.deadline_s", "body")


async def test_deep_nesting_is_refused(client: httpx.AsyncClient) -> None:
    deep: Any = 1
    for _ in range(100):
        deep = [deep]
    response = await client.post("/v1/runs", json={"workflow": "x", "input": deep})
    assert "levels deep" in refused(response, "$.input" + "[0]" * 63, "body")
    response = await client.post("/v1/runs", content=b"[" * 100_000 + b"]" * 100_000)
    assert "levels deep" in refused(response, "$", "body")


async def test_every_documented_integer_parameter_has_a_range(client: httpx.AsyncClient) -> None:
    """A new route cannot take an unbounded integer (a 500 from the database's range)."""
    document = (await client.get("/openapi.json")).json()
    unbounded = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                options = schema.get("anyOf", [schema])
                for option in options:
                    if option.get("type") == "integer" and "maximum" not in option:
                        unbounded.append(f"{method.upper()} {path} {parameter['name']}")
    assert unbounded == []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/v1/"):
                assert {"401", "422"} <= set(operation["responses"]), (method, path)


# A pattern with catastrophic backtracking (Python's re takes about 2^n steps to refuse n
# letters and a "!"), and schemas that hold it in each place a pattern can be.
EVIL = "^(a+)+$"
HOSTILE = "a" * 5000 + "!"


async def test_a_backtracking_pattern_answers_a_hostile_value_at_once(
    client: httpx.AsyncClient,
) -> None:
    workflow = {
        "name": "evil-input",
        "input_schema": {"type": "object", "properties": {"name": {"pattern": EVIL}}},
        "steps": [{"id": "a", "capability": "x.y"}],
    }
    response = await client.post(
        "/v1/runs", json={"workflow": workflow, "input": {"name": HOSTILE}}
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["details"][0]["path"]) == ("invalid_input", "$.input.name")
    assert "does not match" in error["details"][0]["message"]

    waiting = {
        "name": "evil-wait",
        "steps": [
            {
                "id": "ask",
                "wait": {
                    "signal": "go",
                    "schema": {
                        "type": "object",
                        "patternProperties": {EVIL: {"type": "integer"}},
                        "additionalProperties": False,
                    },
                },
            }
        ],
    }
    run = await client.post("/v1/runs", json={"workflow": waiting, "input": {}})
    assert run.status_code == 202, run.text
    run_id = run.json()["run_id"]
    await step_running(client, run_id, "ask")
    url = f"/v1/runs/{run_id}/signals/go"
    response = await client.post(url, json={HOSTILE: 1})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["path"] == "$"  # no property it allows
    response = await client.post(url, json={"aaa": "x"})  # matched by the pattern
    assert response.status_code == 422 and response.json()["error"]["details"][0]["path"] == "$.aaa"
    assert (await client.post(url, json={"aaa": 1})).status_code == 202


async def step_running(client: httpx.AsyncClient, run_id: str, step_id: str) -> None:
    """Until the step is running (it starts right after the run is accepted)."""
    for _ in range(500):
        run = (await client.get(f"/v1/runs/{run_id}")).json()
        if any(s["step_id"] == step_id and s["status"] == "running" for s in run["steps"]):
            return
    raise AssertionError(f"step {step_id} never ran: {run}")


async def test_schemas_the_linear_engine_cannot_run_are_refused_at_registration(
    client: httpx.AsyncClient,
) -> None:
    backreference = {"type": "object", "properties": {"word": {"pattern": r"^(a+)\1$"}}}
    response = await client.post("/v1/workflows", json={**FLOW, "input_schema": backreference})
    assert "linear time" in refused(response, "$.input_schema.properties.word.pattern", "body")
    lookahead: dict[str, Any] = {"patternProperties": {"(?=x)": {}}}
    step = {"id": "w", "wait": {"signal": "go", "schema": lookahead}}
    response = await client.post("/v1/workflows", json={"name": "w", "steps": [step]})
    refused(response, '$.steps[0].wait.schema.patternProperties["(?=x)"]', "body")
    outside = {"$ref": "http://127.0.0.1:1/schema.json"}
    response = await client.post(
        "/v1/runs", json={"workflow": {**FLOW, "input_schema": outside}, "input": {}}
    )
    assert "references inside the schema" in refused(response, "$.workflow.input_schema", "body")
    card = {
        "name": "evil-agent",
        "capabilities": [{"name": "evil.cap", "input_schema": backreference}],
    }
    response = await client.post("/v1/agents", json=keyed(card))
    path = "$.capabilities[0].input_schema.properties.word.pattern"
    assert "linear time" in refused(response, path, "body")
    assert (await client.get("/v1/capabilities", params={"name": "evil.*"})).json()["items"] == []


async def test_a_loop_until_what_its_registered_body_never_outputs_is_refused(
    client: httpx.AsyncClient,
) -> None:
    body = {
        "name": "halve",
        "steps": [{"id": "half", "capability": "demo.half", "input": {"n": "$.input.n"}}],
        "output": {"n": "$.steps.half.output.n", "done": "$.steps.half.output.small"},
    }
    assert (await client.post("/v1/workflows", json=body)).status_code == 201
    loop = {"workflow": "halve", "input": {"n": "$.previous"}, "max_iterations": 50}
    typo = {"name": "shrink", "steps": [{"id": "go", "loop": {**loop, "until": "$.output.dne"}}]}
    message = refused(
        await client.post("/v1/workflows", json=typo), "$.steps[0].loop.until", "body"
    )
    assert "never has 'dne' (it has done, n)" in message
    response = await client.post("/v1/runs", json={"workflow": typo, "input": {}})
    refused(response, "$.workflow.steps[0].loop.until", "body")
    fine = {"name": "shrink", "steps": [{"id": "go", "loop": {**loop, "until": "$.output.done"}}]}
    assert (await client.post("/v1/workflows", json=fine)).status_code == 201
