"""A workflow started by name: its latest version is kept between starts while no definition is
registered (the definitions epoch, read with the token check), so a registration answered on one
replica is what the very next run gets on every replica."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, insert

from services.db.models import DEFAULT_TENANT, WorkflowDefinitionRow
from tests.api.tenancy_world import SYSTEM_ADMIN, bearer, runtime_of, tenancy_app

SYSTEM = bearer(SYSTEM_ADMIN)


def _flow(marker: str) -> dict[str, Any]:
    return {
        "name": "kept",
        "steps": [{"id": "a", "capability": "test.noop", "input": {"v": marker}}],
    }


async def _operator(http: httpx.AsyncClient) -> dict[str, str]:
    made = await http.post("/v1/tokens", json={"role": "operator"}, headers=SYSTEM)
    assert made.status_code == 201, made.text
    return bearer(str(made.json()["token"]))


async def _version_started(http: httpx.AsyncClient, token: dict[str, str]) -> int:
    """Start a run of ``kept`` by name; the version it got."""
    started = await http.post("/v1/runs", json={"workflow": "kept", "input": {}}, headers=token)
    assert started.status_code == 202, started.text
    run = await http.get(f"/v1/runs/{started.json()['run_id']}", headers=token)
    assert run.status_code == 200, run.text
    return int(run.json()["version"])


@contextmanager
def _definition_reads(http: httpx.AsyncClient) -> Iterator[list[str]]:
    """The statements of ``http``'s app that read ``workflow_definitions``, while inside."""
    engine = runtime_of(http).db.sync_engine
    seen: list[str] = []

    def counted(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "workflow_definitions" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", counted)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", counted)


@pytest.mark.postgres
async def test_a_registration_answered_on_one_replica_is_what_the_next_run_gets_on_another(
    tmp_path: Path, postgres_migrated_url: str, redis_url: str
) -> None:
    async with (
        tenancy_app(tmp_path, postgres_migrated_url, redis_url) as one,
        tenancy_app(tmp_path, postgres_migrated_url, redis_url, orchestrator_id="two") as two,
    ):
        token = await _operator(one)
        assert (await one.post("/v1/workflows", json=_flow("1"), headers=token)).status_code == 201
        assert await _version_started(two, token) == 1
        with _definition_reads(two) as reads:
            assert await _version_started(two, token) == 1
        assert reads == []  # kept from the start before
        assert (await one.post("/v1/workflows", json=_flow("2"), headers=token)).status_code == 201
        assert await _version_started(two, token) == 2  # the very next run, on the other replica
        assert (await two.post("/v1/workflows", json=_flow("3"), headers=token)).status_code == 201
        assert await _version_started(one, token) == 3


async def _register_by_hand(http: httpx.AsyncClient, version: int) -> None:
    """A version written behind MODX's back (no definitions epoch change)."""
    body = {**_flow(str(version)), "version": version}
    async with runtime_of(http).sessions() as session, session.begin():
        await session.execute(
            insert(WorkflowDefinitionRow).values(
                tenant=DEFAULT_TENANT, name="kept", version=version, definition=body
            )
        )


async def test_a_version_written_behind_modx_s_back_is_seen_once_the_epoch_moves(
    tmp_path: Path,
) -> None:
    async with tenancy_app(tmp_path) as http:
        token = await _operator(http)
        assert (await http.post("/v1/workflows", json=_flow("1"), headers=token)).status_code == 201
        assert await _version_started(http, token) == 1
        await _register_by_hand(http, 2)
        assert await _version_started(http, token) == 1  # kept: nothing announced it
        await runtime_of(http).throttle.definitions_changed()  # a registration elsewhere
        assert await _version_started(http, token) == 2


async def test_without_the_cache_every_start_reads_the_latest(tmp_path: Path) -> None:
    async with tenancy_app(tmp_path, definition_cache_s=0) as http:
        token = await _operator(http)
        assert (await http.post("/v1/workflows", json=_flow("1"), headers=token)).status_code == 201
        assert await _version_started(http, token) == 1
        await _register_by_hand(http, 2)
        assert await _version_started(http, token) == 2
