"""Partitions made with network namespaces (``bench/chaos/netns.py``): a replica or an agent in
a namespace of its own, its packets dropped silently at the veth link, as a network that
loses them does (no RST, no ICMP: unlike the TCP proxy's cut). Every run succeeds and no step
completes twice; a query waiting on a link that went silent fails instead of waiting for ever.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.chaos.netns import Namespace, NamespaceError, available
from bench.chaos.scenarios import run_scenario
from bench.chaos.servers import PrivatePostgres, PrivateRedis
from bench.harness import REPO
from tests.fixtures.services import missing

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

RUNS = 16
RATE = 4.0


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PrivatePostgres, Path]]:
    """A private PostgreSQL cluster for the module; each namespace makes it listen on its link."""
    reason = available()
    if reason:
        missing(reason)
    if shutil.which("redis-server") is None:
        missing("redis-server")
    folder = tmp_path_factory.mktemp("netns")
    try:
        postgres = PrivatePostgres(folder / "postgres")
    except RuntimeError as exc:
        missing(str(exc))
    postgres.init()
    postgres.start()
    yield postgres, folder
    postgres.stop()


@pytest.fixture
def namespace() -> Iterator[Namespace]:
    """A namespace of the test's own, removed (with what runs in it) however the test ends."""
    made = Namespace()
    try:
        made.create()
    except NamespaceError as exc:
        missing(f"a network namespace ({exc})")
    try:
        yield made
    finally:
        made.delete()


# Replicas and agents whose lease still held near the end of the cut: the cut one's had run
# out (its runs taken over by the other replica; its agent taken for offline). With PostgreSQL
# cut from both replicas, no lease was renewed: agents' heartbeats were answered 503.
LEASED_IN_FAULT = {
    "netns-replica-postgres": (1, 2),
    "netns-agent-cut": (2, 1),
    "netns-replica-redis": (1, 2),
    "netns-postgres-all": (0, 0),
}
# The other replica took the cut one's runs over and finished steps during the cut.
TAKEN_OVER_IN_FAULT = {"netns-replica-postgres", "netns-replica-redis"}


@pytest.mark.parametrize("name", list(LEASED_IN_FAULT))
async def test_every_run_succeeds_through_a_silent_partition_of(
    name: str, cluster: tuple[PrivatePostgres, Path]
) -> None:
    """Every run succeeds, every step runs once, and, healed, every replica and agent holds
    its lease again. A replica cut from Redis alone kept renewing its lease in PostgreSQL
    before 2026-12-08: its runs waited for the heal (``leased_in_fault`` (2, 2), no step of
    a run begun before the cut succeeded from 15 s into it)."""
    postgres, folder = cluster
    result = await run_scenario(name, folder, postgres, runs=RUNS, rate=RATE, settle_s=150)
    assert result.faults == 1
    assert result.leased_in_fault == LEASED_IN_FAULT[name], result
    assert (result.succeeded, result.failed, result.stuck) == (RUNS, 0, 0), result
    assert (result.reexecutions, result.duplicate_completions) == (0, 0), result
    assert result.leased_after == (2, 2), result
    if name in TAKEN_OVER_IN_FAULT:
        assert result.succeeded_late_in_fault > 0, result


@pytest.mark.parametrize("server", ["postgres", "redis"])
async def test_a_call_on_a_link_gone_silent_fails_rather_than_waits_for_ever(
    server: str, cluster: tuple[PrivatePostgres, Path], namespace: Namespace
) -> None:
    """The call is sent and taken (acknowledged) before the cut, so the client has nothing
    left to send again: only a timeout or its own keepalive probes can find the link dead.
    PostgreSQL: without keepalive (asyncpg sets none) the query outlived the test's 90 s, and
    would have waited until the link came back, or for ever had the server given the
    connection up meanwhile. Redis: the bus's client has a socket timeout (10 s)."""
    postgres, folder = cluster
    if server == "postgres":
        await asyncio.to_thread(postgres.listen_also, (namespace.host_address,))
        port, url = postgres.port, postgres.url("postgres")
    else:
        redis = PrivateRedis(folder / f"redis-{namespace.name}", also=(namespace.host_address,))
        redis.start()
        port, url = redis.port, redis.url
    url = url.replace("127.0.0.1", namespace.host_address)
    probe = await asyncio.create_subprocess_exec(
        *namespace.command([sys.executable, "-m", "tests.chaos.half_open_probe", url]),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
    )
    assert probe.stdout is not None
    stdout = probe.stdout

    async def line(timeout_s: float) -> str:
        return (await asyncio.wait_for(stdout.readline(), timeout_s)).decode().strip()

    try:
        assert await line(60) == "sent"
        assert await line(60) == "sent"  # one call went through
        await asyncio.sleep(0.5)  # the next one is on the server, asleep
        namespace.cut((port,))
        try:
            while (said := await line(90)) == "sent":
                pass
        except TimeoutError:
            pytest.fail("the call still waits 90 s after its link went silent")
        assert said.startswith("failed "), said
    finally:
        if probe.returncode is None:
            probe.kill()
        await probe.wait()
        namespace.heal()
        if server == "redis":
            redis.kill()
