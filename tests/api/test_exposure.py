"""What the service shows without being asked properly: /metrics needs a system token unless
opened, /docs and the OpenAPI can be turned off, `modx serve` binds where the settings say, and
a capability cannot take a dead-letter stream's name."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli import main as cli
from tests.api.tenancy_world import SYSTEM_ADMIN, Admin, bearer, tenancy_app


async def test_metrics_need_a_system_token(tmp_path: Path) -> None:
    async with tenancy_app(tmp_path) as http:
        assert (await http.get("/metrics")).status_code == 401
        world = await Admin(http).world("alpha")
        for role in ("viewer", "operator", "admin"):
            response = await http.get("/metrics", headers=bearer(world.tokens[role]))
            assert response.status_code == 403, role
        _, scraper = await Admin(http).token("system", "viewer")
        for token in (scraper, SYSTEM_ADMIN):
            response = await http.get("/metrics", headers=bearer(token))
            assert response.status_code == 200 and "modx_http_requests_total" in response.text


async def test_metrics_opened_and_docs_closed_by_settings(tmp_path: Path) -> None:
    async with tenancy_app(tmp_path, metrics_require_token=False, docs_enabled=False) as http:
        assert (await http.get("/metrics")).status_code == 200
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert (await http.get(path)).status_code == 404, path
    async with tenancy_app(tmp_path / "on") as http:
        assert (await http.get("/openapi.json")).status_code == 200


async def test_capability_names_cannot_end_in_dlq(tmp_path: Path) -> None:
    async with tenancy_app(tmp_path) as http:
        card = {"name": "sneaky", "capabilities": [{"name": "legal.infer.dlq"}]}
        response = await http.post("/v1/agents", json=card, headers=bearer(SYSTEM_ADMIN))
        assert response.status_code == 422 and ".dlq" in response.text
        assert "$.capabilities[0]" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("env", "args", "expected"),
    [
        ({}, [], ("127.0.0.1", 8000)),
        ({"MODX_HOST": "0.0.0.0", "MODX_PORT": "8100"}, [], ("0.0.0.0", 8100)),
        ({"MODX_HOST": "0.0.0.0"}, ["--host", "127.0.0.2", "--port", "8200"], ("127.0.0.2", 8200)),
    ],
)
def test_serve_binds_where_the_settings_say(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    env: dict[str, str],
    args: list[str],
    expected: tuple[str, int],
) -> None:
    bound: list[tuple[str, int]] = []
    monkeypatch.setattr("uvicorn.run", lambda app, host, port, **_: bound.append((host, port)))
    for name in ("MODX_HOST", "MODX_PORT", "MODX_REDIS_URL", "MODX_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MODX_DATA_DIR", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli.app, ["serve", *args])
    assert result.exit_code == 0, result.output
    assert bound == [expected]
