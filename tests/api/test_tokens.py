"""Tokens over REST: created with a role and an expiry, shown once, listed with their last use,
revoked and rotated at once on every replica (two app instances on one database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from bus.redis_client import connect
from services.db.models import ApiTokenRow
from services.throttle import EPOCH
from tests.api.tenancy_world import SYSTEM_ADMIN, bearer, runtime_of, tenancy_app

SYSTEM = bearer(SYSTEM_ADMIN)


async def issue(http: httpx.AsyncClient, **body: object) -> dict[str, object]:
    response = await http.post("/v1/tokens", json=body, headers=SYSTEM)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_create_list_rotate_revoke_and_expire(tmp_path: Path) -> None:
    async with tenancy_app(tmp_path) as http:
        assert (
            await http.post("/v1/tenants", json={"name": "team-a"}, headers=SYSTEM)
        ).status_code == 201
        made = await issue(http, tenant="team-a", role="admin", expires_in="30d")
        assert {"token", "tenant", "role", "expires_at", "id"} <= set(made)
        assert made["tenant"] == "team-a" and made["role"] == "admin"
        expires = datetime.fromisoformat(str(made["expires_at"]))
        assert timedelta(days=29, hours=23) < expires - datetime.now(UTC) <= timedelta(days=30)
        admin = bearer(str(made["token"]))

        # The tenant's admin makes and lists its own tokens; never sees a secret again.
        viewer = (await http.post("/v1/tokens", json={"role": "viewer"}, headers=admin)).json()
        assert viewer["tenant"] == "team-a"
        listed = (await http.get("/v1/tokens", headers=admin)).json()
        assert sorted(t["id"] for t in listed) == sorted([made["id"], viewer["id"]])
        assert all("token" not in t for t in listed)
        # ...but not another tenant's.
        other = await http.post(
            "/v1/tokens", json={"tenant": "default", "role": "admin"}, headers=admin
        )
        assert other.status_code == 403

        # Rotation: same id and role, new secret; the old one stops at once.
        old = bearer(str(viewer["token"]))
        assert (await http.get("/v1/runs", headers=old)).status_code == 200
        rotated = (await http.post(f"/v1/tokens/{viewer['id']}/rotate", headers=admin)).json()
        assert rotated["id"] == viewer["id"] and rotated["token"] != viewer["token"]
        assert (await http.get("/v1/runs", headers=old)).status_code == 401
        new = bearer(str(rotated["token"]))
        assert (await http.get("/v1/runs", headers=new)).status_code == 200

        # Revocation.
        assert (await http.delete(f"/v1/tokens/{viewer['id']}", headers=admin)).status_code == 200
        assert (await http.get("/v1/runs", headers=new)).status_code == 401
        assert (await http.delete(f"/v1/tokens/{viewer['id']}", headers=admin)).status_code == 404

        # Expiry, and a bad duration named.
        bad = await http.post(
            "/v1/tokens", json={"role": "viewer", "expires_in": "soon"}, headers=admin
        )
        assert bad.status_code == 422 and "expires_in" in bad.text
        short = await issue(http, tenant="team-a", role="viewer", expires_in="1s")
        async with runtime_of(http).sessions() as session, session.begin():
            await session.execute(
                update(ApiTokenRow)
                .where(ApiTokenRow.id == short["id"])
                .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        assert (await http.get("/v1/runs", headers=bearer(str(short["token"])))).status_code == 401


async def test_last_use_is_written_in_batches(tmp_path: Path) -> None:
    async with tenancy_app(tmp_path, token_last_used_flush_s=3600) as http:
        made = await issue(http, tenant="default", role="viewer")
        for _ in range(5):
            assert (
                await http.get("/v1/runs", headers=bearer(str(made["token"])))
            ).status_code == 200
        listed = {t["id"]: t for t in (await http.get("/v1/tokens", headers=SYSTEM)).json()}
        assert listed[made["id"]]["last_used_at"] is None  # noted, not written per request
        runtime = runtime_of(http)
        assert await runtime.last_used.flush(runtime.sessions) == 1  # five uses, one row
        listed = {t["id"]: t for t in (await http.get("/v1/tokens", headers=SYSTEM)).json()}
        used = datetime.fromisoformat(listed[made["id"]]["last_used_at"])
        assert datetime.now(UTC) - used < timedelta(minutes=1)


@pytest.mark.postgres
async def test_revocation_reaches_every_replica_at_once(
    tmp_path: Path, postgres_migrated_url: str, redis_url: str
) -> None:
    async with (
        tenancy_app(tmp_path / "one", postgres_migrated_url, redis_url) as one,
        tenancy_app(
            tmp_path / "one", postgres_migrated_url, redis_url, orchestrator_id="two"
        ) as two,
    ):
        made = await issue(one, tenant="default", role="operator")
        token = bearer(str(made["token"]))
        assert (await two.get("/v1/runs", headers=token)).status_code == 200
        assert (await one.delete(f"/v1/tokens/{made['id']}", headers=SYSTEM)).status_code == 200
        # The very next request to the other replica is refused.
        assert (await two.get("/v1/runs", headers=token)).status_code == 401
        rotated = await issue(two, tenant="default", role="viewer")
        fresh = (await two.post(f"/v1/tokens/{rotated['id']}/rotate", headers=SYSTEM)).json()
        assert (await one.get("/v1/runs", headers=bearer(str(rotated["token"])))).status_code == 401
        assert (await one.get("/v1/runs", headers=bearer(fresh["token"]))).status_code == 200


async def _revoke_by_hand(http: httpx.AsyncClient, token_id: object) -> None:
    """Revoke a token's row behind MODX's back (no token epoch change)."""
    async with runtime_of(http).sessions() as session, session.begin():
        await session.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.id == token_id)
            .values(revoked_at=datetime.now(UTC))
        )


async def test_a_token_in_use_is_read_once_until_a_token_changes(tmp_path: Path) -> None:
    """Its principal is cached: a row edited by hand is not seen, but any revoke or rotate
    through MODX moves the token epoch, and the next request reads the database again."""
    async with tenancy_app(tmp_path) as http:
        made = await issue(http, tenant="default", role="viewer")
        spare = await issue(http, tenant="default", role="viewer")
        token = bearer(str(made["token"]))
        assert (await http.get("/v1/runs", headers=token)).status_code == 200
        await _revoke_by_hand(http, made["id"])
        assert (await http.get("/v1/runs", headers=token)).status_code == 200  # from the cache
        await runtime_of(http).throttle.tokens_changed()  # another replica revoked something
        assert (await http.get("/v1/runs", headers=token)).status_code == 401
        # This process's own revoke, of another token, is seen as well.
        again = await issue(http, tenant="default", role="viewer")
        token = bearer(str(again["token"]))
        assert (await http.get("/v1/runs", headers=token)).status_code == 200
        await _revoke_by_hand(http, again["id"])
        assert (await http.delete(f"/v1/tokens/{spare['id']}", headers=SYSTEM)).status_code == 200
        assert (await http.get("/v1/runs", headers=token)).status_code == 401


async def test_without_the_cache_every_request_reads_the_token(tmp_path: Path) -> None:
    async with tenancy_app(tmp_path, auth_cache_s=0) as http:
        made = await issue(http, tenant="default", role="viewer")
        token = bearer(str(made["token"]))
        assert (await http.get("/v1/runs", headers=token)).status_code == 200
        await _revoke_by_hand(http, made["id"])
        assert (await http.get("/v1/runs", headers=token)).status_code == 401


@pytest.mark.postgres
async def test_a_lost_token_epoch_empties_every_cache(
    tmp_path: Path, postgres_migrated_url: str, redis_url: str
) -> None:
    """Redis lost the epoch (a restart without persistence): the next request reads the
    database, and the epoch starts again at a value no replica cached under."""
    async with tenancy_app(tmp_path, postgres_migrated_url, redis_url) as http:
        made = await issue(http, tenant="default", role="viewer")
        token = bearer(str(made["token"]))
        assert (await http.get("/v1/runs", headers=token)).status_code == 200
        await _revoke_by_hand(http, made["id"])
        assert (await http.get("/v1/runs", headers=token)).status_code == 200  # from the cache
        redis = connect(redis_url)
        try:
            before = await redis.get(EPOCH)
            assert before is not None
            await redis.delete(EPOCH)
            assert (await http.get("/v1/runs", headers=token)).status_code == 401
            after = await redis.get(EPOCH)
            assert after is not None and int(after) not in (0, int(before))
        finally:
            await redis.aclose()
