"""`modx token` and `modx tenant`: straight into the database for bootstrapping, and over REST
against a running server with an admin token."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from services.auth import authenticate
from services.cli import main as cli
from services.db.engine import create_engine, session_factory
from tests.api.tenancy_world import bearer
from tests.fixtures.stack import ADMIN, running_stack


def modx(env: dict[str, str | None], *args: str) -> Any:
    """Run ``modx ARGS --json`` with ``env``; its JSON answer."""
    result = CliRunner().invoke(cli.app, [*args, "--json"], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_bootstrap_straight_into_the_database(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'modx.db'}"
    env: dict[str, str | None] = {"MODX_DATABASE_URL": url, "MODX_URL": None}
    made = modx(env, "token", "create", "--tenant", "team-a", "--role", "admin", "--expires", "30d")
    assert {"token", "tenant", "role", "expires_at"} <= set(made)
    assert (made["tenant"], made["role"]) == ("team-a", "admin") and made["expires_at"]
    assert "team-a" in [t["name"] for t in modx(env, "tenant", "list")["items"]]
    listed = modx(env, "token", "list", "--tenant", "team-a")["items"]
    assert [t["id"] for t in listed] == [made["id"]] and "token" not in listed[0]
    rotated = modx(env, "token", "rotate", str(made["id"]))
    assert rotated["token"] != made["token"]

    def use(token: str) -> str | None:
        """The tenant the token authenticates as, read as the server reads it."""

        async def read() -> str | None:
            engine = create_engine(url)
            try:
                async with session_factory(engine)() as session:
                    found = await authenticate(session, token, {})
            finally:
                await engine.dispose()
            return None if found is None else f"{found.role}@{found.tenant}"

        return asyncio.run(read())

    assert use(made["token"]) is None  # rotated away
    assert use(rotated["token"]) == "admin@team-a"
    modx(env, "token", "revoke", str(made["id"]))
    assert use(rotated["token"]) is None
    bad = CliRunner().invoke(
        cli.app, ["token", "create", "--tenant", "x", "--role", "king", "--json"], env=env
    )
    assert bad.exit_code == 2 and "role" in bad.output


async def test_against_a_server_with_an_admin_token(tmp_path: Path) -> None:
    async with running_stack("embedded", tmp_path, None, None) as stack:
        env: dict[str, str | None] = {
            "MODX_URL": stack.url,
            "MODX_ADMIN_TOKEN": ADMIN,
            "MODX_DATABASE_URL": None,
        }
        await asyncio.to_thread(modx, env, "tenant", "create", "team-b")
        made = await asyncio.to_thread(
            modx, env, "token", "create", "--tenant", "team-b", "--role", "viewer"
        )
        assert (made["tenant"], made["role"], made["expires_at"]) == ("team-b", "viewer", None)
        ok = await stack.client.get("/v1/runs", headers=bearer(made["token"]))
        assert ok.status_code == 200
        await asyncio.to_thread(modx, env, "token", "revoke", str(made["id"]))
        gone = await stack.client.get("/v1/runs", headers=bearer(made["token"]))
        assert gone.status_code == 401
        # A token that is not an admin's cannot make tokens.
        viewer = await asyncio.to_thread(
            modx, env, "token", "create", "--tenant", "team-b", "--role", "viewer"
        )
        refused = await asyncio.to_thread(
            CliRunner().invoke,
            cli.app,
            ["token", "create", "--tenant", "team-b", "--role", "admin"],
            env={**env, "MODX_ADMIN_TOKEN": viewer["token"]},
        )
        assert refused.exit_code == 4
