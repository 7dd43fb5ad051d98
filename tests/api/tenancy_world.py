"""Tenants with tokens of every role and an object of every kind, made through the API.

Used by the access matrix (``test_access_matrix.py``) and the tenancy tests: each tenant gets a
viewer, operator, admin and agent token, a registered agent with its own token, a workflow whose
one step is pinned to that agent, a run of it (its task waits, dispatched to the agent), and a
spare token to revoke or rotate.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from bus.signing import Ed25519PrivateKey, generate_keypair
from services.api.app import create_app
from services.config import Settings
from services.ledger.keys import create_key_file
from services.runtime import Runtime
from tests.fixtures.identity import keyed
from tests.fixtures.services import wait_until

SYSTEM_ADMIN = "matrix-system-admin-0123456789"
_APPS: weakref.WeakKeyDictionary[httpx.AsyncClient, FastAPI] = weakref.WeakKeyDictionary()


def runtime_of(http: httpx.AsyncClient) -> Runtime:
    """The runtime of the app a ``tenancy_app`` client talks to."""
    runtime: Runtime = _APPS[http].state.runtime
    return runtime


def runtime_app(runtime: Runtime) -> FastAPI:
    """The app ``runtime`` belongs to."""
    return next(app for app in _APPS.values() if app.state.runtime is runtime)


def client_at(http: httpx.AsyncClient, address: str) -> httpx.AsyncClient:
    """A client of the same app that calls from ``address``."""
    transport = httpx.ASGITransport(app=_APPS[http], client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://modx")


@dataclass
class World:
    """One tenant's tokens and objects."""

    tenant: str
    tokens: dict[str, str] = field(default_factory=dict)
    agent_id: str = ""
    workflow: str = ""
    run_id: str = ""
    task_id: str = ""
    spare_token_id: int = 0

    def secrets(self) -> list[str]:
        """Identifiers that must never appear in another tenant's answers."""
        return [self.agent_id, self.workflow, self.run_id, self.task_id]


def bearer(token: str) -> dict[str, str]:
    """An Authorization header."""
    return {"authorization": f"Bearer {token}"}


class Admin:
    """Makes tenants, tokens and objects with the system admin token."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.keys: dict[tuple[str, str], Ed25519PrivateKey] = {}  # an agent's key, by name

    async def token(self, tenant: str, role: str) -> tuple[int, str]:
        """A new token of ``tenant``: (id, secret)."""
        response = await self.http.post(
            "/v1/tokens", json={"tenant": tenant, "role": role}, headers=bearer(SYSTEM_ADMIN)
        )
        assert response.status_code == 201, response.text
        body = response.json()
        return int(body["id"]), str(body["token"])

    async def agent(self, world: World, name: str, capability: str) -> tuple[str, str]:
        """A bus agent of ``world``'s tenant, registered with its agent token: (id, token)."""
        # The same agent registering again proves the same key (as a restart does).
        key = self.keys.setdefault((world.tenant, name), generate_keypair()[0])
        card = keyed({"name": name, "capabilities": [{"name": capability}]}, key)
        response = await self.http.post(
            "/v1/agents", json=card, headers=bearer(world.tokens["agent"])
        )
        assert response.status_code == 201, response.text
        body = response.json()
        return str(body["agent_id"]), str(body["token"])

    async def run(self, world: World) -> str:
        """A run of ``world``'s workflow; its task waits with the tenant's agent."""
        response = await self.http.post(
            "/v1/runs",
            json={"workflow": world.workflow, "input": {"n": 1}},
            headers=bearer(world.tokens["operator"]),
        )
        assert response.status_code == 202, response.text
        return str(response.json()["run_id"])

    async def world(self, tenant: str) -> World:
        """A tenant with every role's token and one object of each kind."""
        if tenant != "system":
            response = await self.http.post(
                "/v1/tenants", json={"name": tenant}, headers=bearer(SYSTEM_ADMIN)
            )
            assert response.status_code in (200, 201), response.text
        world = World(tenant)
        for role in ("viewer", "operator", "admin", "agent"):
            world.tokens[role] = (await self.token(tenant, role))[1]
        world.spare_token_id = (await self.token(tenant, "viewer"))[0]
        world.agent_id, world.tokens["self"] = await self.agent(
            world, f"agent-{tenant}", f"work.{tenant}"
        )
        world.workflow = f"flow-{tenant}"
        definition = {
            "name": world.workflow,
            "steps": [
                {
                    "id": "one",
                    "capability": f"work.{tenant}",
                    "agent": world.agent_id,
                    "input": {"n": "$.input.n"},
                }
            ],
            "output": "$.steps.one.output",
        }
        response = await self.http.post(
            "/v1/workflows", json=definition, headers=bearer(world.tokens["operator"])
        )
        assert response.status_code == 201, response.text
        world.run_id = await self.run(world)
        world.task_id = await self.task_of(world, world.run_id)
        return world

    async def task_of(self, world: World, run_id: str) -> str:
        """The id of the task the run's step was dispatched with."""
        found: dict[str, Any] = {}

        async def dispatched() -> bool:
            response = await self.http.get(
                f"/v1/runs/{run_id}", headers=bearer(world.tokens["viewer"])
            )
            found.update(response.json()["steps"][0])
            return bool(found.get("task_id"))

        await wait_until(dispatched, timeout=30)
        return str(found["task_id"])


@contextlib.asynccontextmanager
async def tenancy_app(
    tmp: Path, database_url: str | None = None, redis_url: str | None = None, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """The app in-process over ASGI, with ``SYSTEM_ADMIN`` as ``MODX_ADMIN_TOKEN``."""
    if redis_url is not None and "ledger_key_file" not in overrides:
        overrides["ledger_key_file"] = tmp / "ledger.key"  # the same key for every replica
        if not (tmp / "ledger.key").exists():
            create_key_file(tmp / "ledger.key")
    settings = Settings(
        data_dir=tmp,
        database_url=database_url,
        redis_url=redis_url,
        admin_token=SYSTEM_ADMIN,
        **overrides,
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://modx") as http,
    ):
        _APPS[http] = app
        yield http
