"""The REST surface: error shapes, validation with JSON paths, limits, metrics, OpenAPI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.config import Settings
from tests.fixtures.app import app_client
from tests.fixtures.errors import assert_error
from tests.fixtures.identity import keyed
from tests.orchestrator.test_definitions import INVALID

TOKEN = "api-test-token-0123456789"
ADMIN = "api-test-admin-0123456789"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(
        Settings(data_dir=tmp_path, api_token=TOKEN, admin_token=ADMIN, max_request_bytes=64 * 1024)
    ) as http:
        yield http


@pytest.mark.parametrize(("case", "data", "path"), INVALID, ids=[c[0] for c in INVALID])
async def test_invalid_definitions_get_422_naming_the_path(
    client: httpx.AsyncClient, case: str, data: dict[str, Any], path: str
) -> None:
    error = assert_error(await client.post("/v1/workflows", json=data), 422, "invalid_definition")
    assert path in [d["path"] for d in error["details"]], case
    inline = assert_error(
        await client.post("/v1/runs", json={"workflow": data}), 422, "invalid_definition"
    )
    assert "$.workflow" + path[1:] in [d["path"] for d in inline["details"]], case


async def test_malformed_requests_name_the_field(client: httpx.AsyncClient) -> None:
    error = assert_error(await client.post("/v1/runs", json={"workflow": "x", "bogus": 1}), 422)
    assert error["details"][0]["path"] == "$.bogus"
    error = assert_error(
        await client.post("/v1/agents", json={"name": "a", "capabilities": [{"name": 3}]}), 422
    )
    assert error["details"][0]["path"] == "$.capabilities[0].name"
    error = assert_error(
        await client.post(
            "/v1/agents", json={"name": "a", "transport": "http", "capabilities": [{"name": "x.y"}]}
        ),
        422,
    )
    assert "endpoint" in error["message"]
    assert_error(
        await client.post(
            "/v1/runs", content=b"{not json", headers={"content-type": "application/json"}
        ),
        422,
    )
    assert_error(await client.get("/v1/runs", params={"status": "sleeping"}), 422)
    assert_error(await client.get("/v1/runs", params={"cursor": "garbage"}), 422)
    assert_error(await client.get("/v1/runs/nope"), 404, "not_found")
    assert_error(
        await client.post("/v1/runs", json={"workflow": "unregistered"}), 404, "workflow_unknown"
    )
    assert_error(await client.get("/v1/nothing-here"), 404)


async def test_input_is_checked_against_the_input_schema(client: httpx.AsyncClient) -> None:
    workflow = {
        "name": "typed",
        "input_schema": {
            "type": "object",
            "required": ["n"],
            "properties": {"n": {"type": "integer"}},
        },
        "steps": [{"id": "a", "capability": "x.y", "input": {"n": "$.input.n"}}],
    }
    error = assert_error(
        await client.post("/v1/runs", json={"workflow": workflow, "input": {"n": "three"}}),
        422,
        "invalid_input",
    )
    assert error["details"][0]["path"] == "$.input.n"


async def test_bodies_over_the_limit_get_413(client: httpx.AsyncClient) -> None:
    big = {"workflow": "x", "input": "a" * 70_000}
    assert_error(await client.post("/v1/runs", json=big), 413, "payload_too_large")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit holds on the stream
        for _ in range(20):
            yield b" " * 8192

    assert_error(
        await client.post(
            "/v1/runs", content=chunks(), headers={"content-type": "application/json"}
        ),
        413,
        "payload_too_large",
    )


async def test_versions_and_idempotent_registration(client: httpx.AsyncClient) -> None:
    body = {"name": "v", "steps": [{"id": "a", "capability": "x.y"}]}
    first = await client.post("/v1/workflows", json=body)
    assert first.status_code == 201 and first.json()["version"] == 1
    again = await client.post("/v1/workflows", json=body)
    assert again.status_code == 200 and again.json()["version"] == 1
    changed = await client.post("/v1/workflows", json={**body, "description": "new"})
    assert changed.json()["version"] == 2
    conflict = await client.post(
        "/v1/workflows", json={**body, "version": 1, "description": "other"}
    )
    assert_error(conflict, 409, "version_conflict")
    assert (await client.get("/v1/workflows/v")).json()["version"] == 2
    assert (await client.get("/v1/workflows/v", params={"version": 1})).json()["definition"][
        "description"
    ] == ""


async def test_capability_filters(client: httpx.AsyncClient) -> None:
    card = {
        "name": "tax",
        "capabilities": [
            {"name": "legal.infer", "consumes": ["tax:CaseFacts"], "produces": ["tax:TaxAnswer"]},
            {"name": "legal.explain", "consumes": ["tax:Proof"], "produces": ["tax:Explanation"]},
        ],
    }
    assert (await client.post("/v1/agents", json=keyed(card))).status_code == 201
    items = (await client.get("/v1/capabilities", params={"produces": "tax:TaxAnswer"})).json()[
        "items"
    ]
    assert [i["name"] for i in items] == ["legal.infer"]
    items = (await client.get("/v1/capabilities", params={"consumes": "tax:Proof"})).json()["items"]
    assert [i["name"] for i in items] == ["legal.explain"]
    items = (await client.get("/v1/capabilities", params={"name": "legal.*"})).json()["items"]
    assert sorted(i["name"] for i in items) == ["legal.explain", "legal.infer"]


async def test_metrics_and_openapi(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    metrics = (await client.get("/metrics", headers={"authorization": f"Bearer {ADMIN}"})).text
    assert "modx_http_requests_total" in metrics and 'route="/healthz"' in metrics
    spec = (await client.get("/openapi.json")).json()
    assert "/v1/runs" in spec["paths"] and "/v1/agents/{agent_id}/heartbeat" in spec["paths"]
    assert (await client.get("/docs")).status_code == 200
