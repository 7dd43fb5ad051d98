"""``modx token`` and ``modx tenant``: manage tenants and their tokens.

Against a server (the default) the commands call the REST API at ``MODX_URL`` with an admin
token (``MODX_ADMIN_TOKEN``, else ``MODX_API_TOKEN``, else ``./.modx/token``). With
``MODX_DATABASE_URL`` set and no ``MODX_URL``, they write to the database directly: that is
how the first tokens of a deployment are made, before anyone holds one.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from services.cli import client as cli_client
from services.cli.client import Client
from services.cli.table import print_page, print_table

token_app = typer.Typer(help="Create, list, revoke and rotate API tokens.", no_args_is_help=True)
tenant_app = typer.Typer(help="Create and list tenants (system admins).", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
T = TypeVar("T")


def direct_url() -> str | None:
    """The database to write to directly: ``MODX_DATABASE_URL`` when no ``MODX_URL`` is set."""
    if os.environ.get("MODX_URL"):
        return None
    return os.environ.get("MODX_DATABASE_URL") or None


def _client(as_json: bool) -> Client:
    token = os.environ.get("MODX_ADMIN_TOKEN") or cli_client.default_token()
    return Client(token=token, as_json=as_json)


def _in_database(url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction on the database at ``url`` (migrated first)."""
    from services.db import migrate
    from services.db.engine import create_engine, session_factory

    migrate.upgrade(url)

    async def go() -> T:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _token_view(row: Any, token: str | None = None) -> dict[str, Any]:
    view = {
        "id": row.id,
        "tenant": row.tenant,
        "role": row.role,
        "name": row.name,
        "created_at": row.created_at.isoformat(),
        "expires_at": row.expires_at.isoformat() if row.expires_at else None,
        "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
    }
    if token is not None:
        view["token"] = token
    return view


def _print_issued(issued: dict[str, Any], as_json: bool) -> None:
    shown = {k: issued.get(k) for k in ("token", "tenant", "role", "expires_at", "id")}
    if as_json:
        typer.echo(json.dumps(shown))
        return
    typer.echo(shown["token"])
    typer.secho(
        f"token {shown['id']}: {shown['role']} of {shown['tenant']}, "
        f"expires {shown['expires_at'] or 'never'} (shown once: keep it now)",
        err=True,
    )


@token_app.command("create")
def create(
    tenant: Annotated[str, typer.Option(help="The tenant the token belongs to.")],
    role: Annotated[str, typer.Option(help="viewer, operator, admin or agent.")],
    expires: Annotated[
        str | None, typer.Option(help="Lifetime: 30d, 12h, 90m, 2w (default: none).")
    ] = None,
    name: Annotated[str, typer.Option(help="A label for people.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Create a token and print it (the only time it is shown)."""
    url = direct_url()
    if url is None:
        body = {"tenant": tenant, "role": role, "name": name, "expires_in": expires}
        issued = _client(as_json).request("POST", "/v1/tokens", json=body)
        _print_issued(issued, as_json)
        return
    from services.tokens import TokenError, create_tenant, create_token, parse_duration

    try:
        expires_in = parse_duration(expires) if expires else None
    except ValueError as exc:
        cli_client.fail(f"--expires: {exc}", cli_client.BAD_REQUEST, as_json)

    async def work(session: AsyncSession) -> dict[str, Any]:
        await create_tenant(session, tenant)  # bootstrapping: the tenant comes with its token
        row, token = await create_token(session, tenant, role, name=name, expires_in=expires_in)
        return _token_view(row, token)

    try:
        issued = _in_database(url, work)
    except TokenError as exc:
        cli_client.fail(str(exc), cli_client.BAD_REQUEST, as_json)
    _print_issued(issued, as_json)


@token_app.command("list")
def list_(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's tokens.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Live tokens (never their secrets), with when each was last used."""
    url = direct_url()
    if url is None:
        params = {"tenant": tenant} if tenant else {}
        rows = _client(as_json).request("GET", "/v1/tokens", params=params)
    else:
        from services.tokens import list_tokens

        async def work(session: AsyncSession) -> list[dict[str, Any]]:
            return [_token_view(row) for row in await list_tokens(session, tenant)]

        rows = _in_database(url, work)
    if as_json:
        print_page(rows)
        return
    print_table(
        ("ID", "TENANT", "ROLE", "NAME", "EXPIRES", "LAST USED"),
        [
            (
                r["id"],
                r["tenant"],
                r["role"],
                r["name"],
                r["expires_at"] or "never",
                r["last_used_at"] or "-",
            )
            for r in rows
        ],
    )


def _by_id(
    token_id: int, as_json: bool, method: str, path: str, change: Callable[..., Awaitable[Any]]
) -> dict[str, Any]:
    url = direct_url()
    if url is None:
        answer: dict[str, Any] = _client(as_json).request(method, path)
        return answer
    from services.tokens import TokenError

    async def work(session: AsyncSession) -> dict[str, Any]:
        found = await change(session, token_id, None)
        return _token_view(*found) if isinstance(found, tuple) else _token_view(found)

    try:
        answer = _in_database(url, work)
    except TokenError as exc:
        cli_client.fail(str(exc), cli_client.NOT_FOUND, as_json)
    asyncio.run(_tokens_changed())
    return answer


async def _tokens_changed() -> None:
    """Tell running replicas that a token changed (the token epoch, ``services.throttle``): with
    ``MODX_REDIS_URL``, at once; without, an embedded server's cache holds the old principal
    for ``MODX_AUTH_CACHE_S`` at most."""
    from services.config import Settings
    from services.throttle import EPOCH, RedisCounters

    url = Settings().redis_url
    if url is None:
        return
    counters = RedisCounters(url)
    try:
        await counters.bump(EPOCH)
    finally:
        await counters.close()


@token_app.command("revoke")
def revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id (see `modx token list`).")],
    as_json: JsonOpt = False,
) -> None:
    """Revoke a token; every replica refuses it from its next request on."""
    from services.tokens import revoke_token

    row = _by_id(token_id, as_json, "DELETE", f"/v1/tokens/{token_id}", revoke_token)
    if as_json:
        typer.echo(json.dumps(row))
    else:
        typer.echo(f"token {row['id']} ({row['role']} of {row['tenant']}) revoked")


@token_app.command("rotate")
def rotate(
    token_id: Annotated[int, typer.Argument(help="The token's id (see `modx token list`).")],
    as_json: JsonOpt = False,
) -> None:
    """Give a token a new secret and print it; the old one stops working at once."""
    from services.tokens import rotate_token

    issued = _by_id(token_id, as_json, "POST", f"/v1/tokens/{token_id}/rotate", rotate_token)
    _print_issued(issued, as_json)


@tenant_app.command("create")
def tenant_create(
    name: Annotated[str, typer.Argument(help="Lower-case letters, digits, - and _.")],
    as_json: JsonOpt = False,
) -> None:
    """Create a tenant."""
    url = direct_url()
    if url is None:
        row = _client(as_json).request("POST", "/v1/tenants", json={"name": name})
    else:
        from services.tokens import TokenError, create_tenant

        async def work(session: AsyncSession) -> dict[str, Any]:
            found, _ = await create_tenant(session, name)
            return {"name": found.name, "created_at": found.created_at.isoformat()}

        try:
            row = _in_database(url, work)
        except TokenError as exc:
            cli_client.fail(str(exc), cli_client.BAD_REQUEST, as_json)
    typer.echo(json.dumps(row) if as_json else f"tenant {row['name']}")


@tenant_app.command("list")
def tenant_list(as_json: JsonOpt = False) -> None:
    """Every tenant."""
    url = direct_url()
    if url is None:
        rows = _client(as_json).request("GET", "/v1/tenants")
    else:
        from services.tokens import list_tenants

        async def work(session: AsyncSession) -> list[dict[str, Any]]:
            return [
                {"name": r.name, "created_at": r.created_at.isoformat()}
                for r in await list_tenants(session)
            ]

        rows = _in_database(url, work)
    if as_json:
        print_page(rows)
        return
    print_table(("NAME", "CREATED"), [(r["name"], r["created_at"]) for r in rows])
