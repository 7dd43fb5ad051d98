"""Failed token checks and logins are throttled per client address and overall: 429 with
Retry-After, in-process when embedded, shared through Redis by replicas."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.throttle import AuthThrottle, Limits, RedisCounters
from tests.api.tenancy_world import SYSTEM_ADMIN, bearer, client_at, runtime_of, tenancy_app
from tests.fixtures.throttle import STILL, in_one_window

WRONG = bearer("mdx_not-a-token-at-all-0123456789")
RIGHT = bearer(SYSTEM_ADMIN)
# Counts are per window; each test's throttle counts in one (tests.fixtures.throttle), and an
# hour-long one makes the Retry-After values plain.
HOUR: dict[str, Any] = {"auth_fail_window_s": 3600.0}


def refused(response: httpx.Response) -> int:
    """The Retry-After of a 429 (asserting it is one)."""
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == "too_many_requests"
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 3600
    return retry_after


async def test_one_address_is_stopped_and_the_others_are_not(tmp_path: Path) -> None:
    async with (
        tenancy_app(tmp_path, auth_fail_per_address=3, auth_fail_overall=100, **HOUR) as http,
        client_at(http, "10.0.0.1") as guesser,
        client_at(http, "10.0.0.2") as other,
    ):
        in_one_window(runtime_of(http))
        for _ in range(2):
            assert (await guesser.get("/v1/runs", headers=WRONG)).status_code == 401
        refused(await guesser.get("/v1/runs", headers=WRONG))
        # Blocked means blocked: a right guess is refused too, so guessing stops.
        refused(await guesser.get("/v1/runs", headers=RIGHT))
        assert (await other.get("/v1/runs", headers=RIGHT)).status_code == 200
        assert (await other.get("/v1/runs", headers=WRONG)).status_code == 401
        # Public routes are not token checks.
        assert (await guesser.get("/healthz")).status_code == 200


async def test_spread_out_guessing_stops_everyone_not_already_working(tmp_path: Path) -> None:
    async with (
        tenancy_app(tmp_path, auth_fail_per_address=100, auth_fail_overall=4, **HOUR) as http,
        client_at(http, "10.0.1.1") as worker,
    ):
        in_one_window(runtime_of(http))
        assert (await worker.get("/v1/runs", headers=RIGHT)).status_code == 200
        for n in range(3):
            async with client_at(http, f"10.0.2.{n}") as guesser:
                assert (await guesser.get("/v1/runs", headers=WRONG)).status_code == 401
        async with client_at(http, "10.0.2.9") as guesser:
            refused(await guesser.get("/v1/runs", headers=WRONG))
        async with client_at(http, "10.0.3.1") as newcomer:
            refused(await newcomer.get("/v1/runs", headers=RIGHT))
        # A client that authenticated within the window keeps working.
        assert (await worker.get("/v1/runs", headers=RIGHT)).status_code == 200


async def test_failed_dashboard_logins_count(tmp_path: Path) -> None:
    async with tenancy_app(tmp_path, auth_fail_per_address=2, **HOUR) as http:
        in_one_window(runtime_of(http))
        form = {"content-type": "application/x-www-form-urlencoded"}
        first = await http.post("/dashboard/login", content="token=wrong-guess-0000", headers=form)
        assert first.status_code == 401
        refused(await http.post("/dashboard/login", content="token=wrong-guess-0001", headers=form))
        refused(await http.get("/v1/runs", headers=RIGHT))


@pytest.mark.postgres
@pytest.mark.parametrize("server", ["redis_url", "redis_cluster_url"])
async def test_replicas_count_together(
    tmp_path: Path, postgres_migrated_url: str, server: str, request: pytest.FixtureRequest
) -> None:
    """On one Redis, and on a Redis Cluster (the counters share a slot: one MGET reads them)."""
    redis_url = request.getfixturevalue(server)
    limits: dict[str, Any] = {"auth_fail_per_address": 4, "auth_fail_overall": 100, **HOUR}
    async with (
        tenancy_app(tmp_path, postgres_migrated_url, redis_url, **limits) as one,
        tenancy_app(
            tmp_path, postgres_migrated_url, redis_url, orchestrator_id="two", **limits
        ) as two,
        client_at(one, "10.0.4.1") as via_one,
        client_at(two, "10.0.4.1") as via_two,
    ):
        in_one_window(runtime_of(one))
        in_one_window(runtime_of(two))
        assert (await via_one.get("/v1/runs", headers=WRONG)).status_code == 401
        assert (await via_two.get("/v1/runs", headers=WRONG)).status_code == 401
        assert (await via_one.get("/v1/runs", headers=WRONG)).status_code == 401
        refused(await via_two.get("/v1/runs", headers=WRONG))
        refused(await via_one.get("/v1/runs", headers=RIGHT))
        refused(await via_two.get("/v1/runs", headers=RIGHT))


@pytest.mark.postgres
@pytest.mark.parametrize("server", ["redis_url", "redis_cluster_url"])
async def test_a_burst_of_clients_is_served_not_refused(
    tmp_path: Path, postgres_migrated_url: str, server: str, request: pytest.FixtureRequest
) -> None:
    redis_url = request.getfixturevalue(server)
    # Every request reads the shared counters: more requests at once than the Redis client
    # has connections wait for one (they were answered 503 past 100).
    async with tenancy_app(tmp_path, postgres_migrated_url, redis_url) as http:
        answers = await asyncio.gather(
            *(http.get("/v1/runs", params={"limit": 1}, headers=RIGHT) for _ in range(150))
        )
    assert sorted({a.status_code for a in answers}) == [200]


@pytest.mark.redis
async def test_checks_asked_at_once_share_an_mget_and_none_reads_a_count_older_than_it(
    redis_url: str,
) -> None:
    """A burst of checks makes a few round trips, not one each; and a check asked while an
    MGET is on its way is not answered from it (a failure counted meanwhile would be missed):
    it goes out in the next one."""
    counters = RedisCounters(redis_url)
    limits = Limits(per_address=2, overall=1000, window_s=3600)
    throttle = AuthThrottle(counters, limits, clock=lambda: STILL)
    sent: list[list[str]] = []
    mget = counters._client.mget
    answered = asyncio.Event()  # the first MGET has its answer (not yet handed out)
    release = asyncio.Event()

    async def counted(keys: list[str]) -> Any:  # the real MGET, counted (and held once)
        sent.append(keys)
        values = await mget(keys)
        if len(sent) == 1:
            answered.set()
            await release.wait()
        return values

    counters._client.mget = counted  # type: ignore[method-assign,assignment]
    try:
        for _ in range(2):  # 10.7.0.0 reaches its allowance
            await throttle.failed("10.7.0.0")
        first = asyncio.create_task(throttle.check("10.7.0.1"))
        await answered.wait()
        for _ in range(2):  # 10.7.0.1 fails twice after the first MGET read its count
            await throttle.failed("10.7.0.1")
        burst = [asyncio.create_task(throttle.check(f"10.7.0.{n}")) for n in range(50)]
        await asyncio.sleep(0.05)
        release.set()
        assert (await first)[0] is None  # read before those failures
        checks = await asyncio.gather(*burst)
        blocked = [n for n, checked in enumerate(checks) if checked.retry_after is not None]
        assert blocked == [0, 1]  # each check got its own address's counts, all fresh
        assert len(sent) == 2  # the held MGET, and one for the 50 asked meanwhile
    finally:
        await counters.close()


@pytest.mark.parametrize("mode", ["embedded", "distributed"])
async def test_an_ipv6_guesser_is_stopped_across_its_64(
    tmp_path: Path, mode: str, request: pytest.FixtureRequest
) -> None:
    """One IPv6 host commonly holds a whole /64: counted per address, it guessed on from the
    next one, 10 at a time, until the overall bound stopped every client not already working.
    Its /64 is one client (``client_key``), as the connection bound counts it."""
    urls = (
        (request.getfixturevalue("postgres_url"), request.getfixturevalue("redis_url"))
        if mode == "distributed"
        else ()
    )
    async with (
        tenancy_app(
            tmp_path, *urls, auth_fail_per_address=3, auth_fail_overall=100, **HOUR
        ) as http,
        client_at(http, "2001:db8:7:1::1") as other,
    ):
        in_one_window(runtime_of(http))
        for n in range(2):
            async with client_at(http, f"2001:db8:5:1::{n + 1:x}") as guesser:
                assert (await guesser.get("/v1/runs", headers=WRONG)).status_code == 401
        async with client_at(http, "2001:db8:5:1:ffff::9") as guesser:
            refused(await guesser.get("/v1/runs", headers=WRONG))
        async with client_at(http, "::ffff:10.0.9.1") as mapped, client_at(http, "10.0.9.1") as v4:
            assert (await mapped.get("/v1/runs", headers=WRONG)).status_code == 401
            assert (await v4.get("/v1/runs", headers=WRONG)).status_code == 401
            refused(await mapped.get("/v1/runs", headers=WRONG))
        assert (await other.get("/v1/runs", headers=RIGHT)).status_code == 200
