"""A JSON-RPC endpoint's body is checked as JSON whatever its content type says.

The A2A endpoint reads its body as JSON with any content type, and the input guard checked
only bodies typed JSON (or form): with ``Content-Type: text/plain``, a body nested 100,000
deep answered ``500`` (``RecursionError``), and a task id with a NUL byte reached PostgreSQL,
whose error came back to the caller, SQL statement and all (``-32603``). Both databases: the
guard is the same code, what a NUL does further down is not."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.config import Settings
from tests.fixtures.app import app_client

TOKEN = "rpc-body-test-token-0123456789"
TYPES = ["text/plain", "application/octet-stream", "application/x-www-form-urlencoded"]


@pytest.fixture(params=["sqlite", "postgres"])
async def client(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    database_url = (
        request.getfixturevalue("postgres_migrated_url") if request.param == "postgres" else None
    )
    settings = Settings(data_dir=tmp_path, api_token=TOKEN, database_url=database_url)
    async with app_client(settings) as http:
        http.headers["a2a-version"] = "1.0"
        yield http


def refused(response: httpx.Response, code: int, path: str) -> str:
    """The JSON-RPC error's message, once it is checked to be ``code`` at ``path``."""
    assert response.status_code == 200, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    assert error["data"][0]["metadata"] == {"path": path, "in": "body"}, error
    return str(error["message"])


@pytest.mark.parametrize("content_type", TYPES)
async def test_an_a2a_body_of_any_type_is_checked_as_json(
    client: httpx.AsyncClient, content_type: str
) -> None:
    headers = {"content-type": content_type}
    deep = b"[" * 100_000 + b"]" * 100_000
    response = await client.post("/a2a", content=deep, headers=headers)
    assert "levels deep" in refused(response, -32600, "$")

    for method in ("GetTask", "CancelTask"):
        call = {"jsonrpc": "2.0", "id": 7, "method": method, "params": {"id": "x\u0000y"}}
        response = await client.post("/a2a", content=json.dumps(call).encode(), headers=headers)
        assert "NUL" in refused(response, -32602, "$.params.id")
        assert response.json()["id"] == 7
