"""A body that is not sent as JSON (curl's ``-d`` without a content type says
``application/x-www-form-urlencoded``) is refused with a 415 that says which header to send,
not a 422 saying that valid JSON is "not a valid dictionary"."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from services.config import Settings
from tests.fixtures.app import app_client

TOKEN = "content-type-test-token-0123456789"
FLOW = b'{"name": "typed", "steps": [{"id": "a", "capability": "x.y"}]}'
CURL_DEFAULT = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture(params=["sqlite", "postgres"])
async def client(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    database_url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    settings = Settings(data_dir=tmp_path, api_token=TOKEN, database_url=database_url)
    async with app_client(settings) as http:
        yield http


def says_send_json(response: httpx.Response, sent: str) -> None:
    assert response.status_code == 415, response.text
    error = response.json()["error"]
    assert error["code"] == "unsupported_media_type", error
    assert "content-type: application/json" in error["message"], error
    assert sent in error["message"], error


async def test_a_json_body_sent_as_a_form_is_refused_with_the_header_to_send(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/v1/workflows", content=FLOW, headers=CURL_DEFAULT)
    says_send_json(response, "application/x-www-form-urlencoded")
    run = b'{"workflow": "typed", "input": {}}'
    says_send_json(await client.post("/v1/runs", content=run, headers=CURL_DEFAULT), "form")
    plain = {"content-type": "text/plain"}
    says_send_json(await client.post("/v1/runs", content=run, headers=plain), "text/plain")
    says_send_json(await client.post("/v1/runs", content=run), "no content type")
    # Nothing was registered by the refused request.
    assert (await client.get("/v1/workflows/typed")).status_code == 404


async def test_json_and_empty_bodies_still_pass(client: httpx.AsyncClient) -> None:
    as_json = {"content-type": "application/json; charset=utf-8"}
    registered = await client.post("/v1/workflows", content=FLOW, headers=as_json)
    assert registered.status_code == 201, registered.text
    untyped = await client.post("/v1/runs", json={"workflow": "typed"})
    assert untyped.status_code == 202, untyped.text
    # `curl -X POST -d ''` on a route without a body: nothing to refuse.
    run_id = untyped.json()["run_id"]
    cancelled = await client.post(f"/v1/runs/{run_id}/cancel", content=b"", headers=CURL_DEFAULT)
    assert cancelled.status_code == 202, cancelled.text
