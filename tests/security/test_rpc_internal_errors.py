"""An A2A or MCP caller learns an unexpected error's type, never its text.

Both SDKs answer an exception with its text: a database error came back to the caller
(``-32603`` from A2A, on a call and on a stream; code ``0`` from MCP) with its SQL statement and
parameters. Here the database loses the ``runs`` table under a running app (a real failure,
both databases); the answer names the error's type only, as the REST API's 500 does."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.api.app import create_app
from services.config import Settings
from services.interop.calls import WORKFLOW_PREFIX

TOKEN = "rpc-internal-test-token-0123456789"
FLOW = {"name": "flow", "steps": [{"id": "a", "capability": "x.y"}]}
LEAKS = ("SELECT", "FROM", "runs", "sqlalchemy", "no such table", "does not exist")


@pytest.fixture(params=["sqlite", "postgres"])
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[FastAPI]:
    database_url = (
        request.getfixturevalue("postgres_migrated_url") if request.param == "postgres" else None
    )
    settings = Settings(data_dir=tmp_path, api_token=TOKEN, database_url=database_url)
    found = create_app(settings)
    async with found.router.lifespan_context(found):
        yield found


async def test_a_database_error_answers_its_type_not_its_sql(app: FastAPI) -> None:
    headers = {
        "authorization": f"Bearer {TOKEN}",
        "a2a-version": "1.0",
        "accept": "application/json, text/event-stream",
    }
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://modx", headers=headers
    ) as client:
        assert (await client.post("/v1/workflows", json=FLOW)).status_code == 201
        async with app.state.runtime.db.begin() as conn:
            await conn.exec_driver_sql("ALTER TABLE runs RENAME TO runs_gone")

        params = {"name": WORKFLOW_PREFIX + "flow", "arguments": {}}
        call = {"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": params}
        response = await client.post("/mcp", json=call)
        assert response.status_code == 200, response.text
        error = _answer(response.text)["error"]
        assert error["message"].startswith("internal error: "), error
        assert not [leak for leak in LEAKS if leak in json.dumps(error)], error

        for method in ("GetTask", "SubscribeToTask"):
            call = {"jsonrpc": "2.0", "id": 3, "method": method, "params": {"id": "some-task"}}
            response = await client.post("/a2a", json=call)
            assert response.status_code == 200, response.text
            error = _answer(response.text)["error"]
            assert error["code"] == -32603, error
            assert error["message"].startswith("internal error: "), error
            assert not [leak for leak in LEAKS if leak in json.dumps(error)], error


def _answer(body: str) -> dict[str, Any]:
    """The JSON-RPC answer of a body: JSON, or a stream whose one event is it."""
    if body.startswith(("data:", "event:")):
        [body] = [line[5:] for line in body.splitlines() if line.startswith("data:")]
    found: dict[str, Any] = json.loads(body)
    return found
