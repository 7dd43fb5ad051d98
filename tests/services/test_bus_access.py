"""A bus agent's own Redis ACL user, on a private redis-server (its users never reach the shared
one): it consumes its own task streams and appends results, nothing else, and it is gone once
the agent is."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from redis.asyncio import Redis, RedisCluster
from redis.exceptions import AuthenticationError, NoPermissionError, ResponseError

from bus import streams
from bus.factory import create_transport
from bus.redis_client import is_cluster, server_url
from services.registry.bus_access import BusAccess, agent_rules, user_name, with_user
from tests.fixtures import services
from tests.fixtures.identity import keyed
from tests.fixtures.services import free_port, missing, wait_until
from tests.fixtures.stack import running_stack

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

SERVER_PASSWORD = "server-secret-0123456789"


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[str]:
    with services.private_redis(tmp_path, SERVER_PASSWORD) as url:
        yield url


async def test_an_agent_user_reads_its_streams_and_writes_only_results(
    tmp_path: Path, postgres_migrated_url: str, private_redis: str
) -> None:
    server = Redis.from_url(private_redis)
    await wait_until(_pings(server))
    async with running_stack(
        "distributed", tmp_path, postgres_migrated_url, private_redis
    ) as stack:
        card = keyed({"name": "reader", "capabilities": [{"name": "cap.a"}]})
        registered = (await stack.client.post("/v1/agents", json=card)).json()
        agent_id, bus_url = registered["agent_id"], registered["bus_url"]
        assert urlsplit(bus_url).username == f"modx-agent-{agent_id}"
        assert SERVER_PASSWORD not in bus_url
        await server.xadd(streams.tasks("cap.b"), {"data": b"someone else's input"})
        agent = Redis.from_url(bus_url)
        try:
            # Its own task stream, with its capability's group; results.
            assert await agent.xreadgroup("cap.a", agent_id, {streams.tasks("cap.a"): ">"}) == []
            assert await agent.xadd(streams.RESULTS, {"data": b"an answer"})
            # The partition streams a task's ``reply_to`` names, each of them and no more.
            for partition in (0, 11):
                assert await agent.xadd(streams.result_partition(partition), {"data": b"x"})
            for stream in (streams.result_partition(12), streams.dlq(streams.RESULTS)):
                with pytest.raises(NoPermissionError):
                    await agent.xadd(stream, {"data": b"not a partition's answer"})
            with pytest.raises(NoPermissionError):
                await agent.xrange(streams.result_partition(0))
            # Nothing else: another capability's stream, writing a task, reading anything raw.
            with pytest.raises(NoPermissionError):
                await agent.xrange(streams.tasks("cap.b"))
            with pytest.raises(NoPermissionError):
                await agent.xreadgroup("cap.b", agent_id, {streams.tasks("cap.b"): ">"})
            with pytest.raises(NoPermissionError):
                await agent.xadd(streams.tasks("cap.a"), {"data": b"a forged task"})
            with pytest.raises(NoPermissionError):
                await agent.xadd(streams.tasks("cap.b"), {"data": b"a forged task"})
            with pytest.raises(NoPermissionError):
                await agent.xrange(streams.RESULTS)
            with pytest.raises(NoPermissionError):
                await agent.get("anything")
            with pytest.raises(ResponseError):  # a script is checked command by command
                await agent.eval(
                    "return redis.call('XADD', KEYS[1], '*', 'data', 'x')",
                    1,
                    streams.tasks("cap.a"),
                )
            assert await server.xlen(streams.tasks("cap.a")) == 0
        finally:
            await agent.aclose()

        # Deregistered with no task out: removed, and its user with it.
        headers = {"authorization": f"Bearer {registered['token']}"}
        assert (
            await stack.client.delete(f"/v1/agents/{agent_id}", headers=headers)
        ).status_code == 202
        assert f"modx-agent-{agent_id}".encode() not in await server.acl_users()
        gone = Redis.from_url(bus_url)
        try:
            with pytest.raises(AuthenticationError):
                await gone.ping()
        finally:
            await gone.aclose()
    await server.aclose()


def _pings(client: Redis) -> Callable[[], Awaitable[bool]]:
    async def ping() -> bool:
        try:
            return bool(await client.ping())
        except Exception:
            return False

    return ping


def _redis_server(port: int, tmp_path: Path) -> subprocess.Popen[bytes]:
    binary = shutil.which("redis-server")
    if binary is None:
        missing("redis-server")
    assert binary is not None
    return subprocess.Popen(
        [
            *(binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""),
            *("--appendonly", "no", "--dir", str(tmp_path), "--requirepass", SERVER_PASSWORD),
        ],
        stdout=subprocess.DEVNULL,
    )


async def test_a_live_agents_user_is_made_again_after_redis_forgets_it(
    tmp_path: Path, postgres_migrated_url: str
) -> None:
    """Redis keeps ACL users in memory only: after a restart the server makes the live agents'
    users again, with the passwords their bus URLs already carry."""
    port = free_port()
    url = f"redis://:{SERVER_PASSWORD}@127.0.0.1:{port}/0"
    proc = _redis_server(port, tmp_path)
    try:
        await wait_until(_pings(Redis.from_url(url)))
        async with running_stack("distributed", tmp_path, postgres_migrated_url, url) as stack:
            card = keyed({"name": "survivor", "capabilities": [{"name": "cap.a"}]})
            registered = (await stack.client.post("/v1/agents", json=card)).json()
            agent_id, bus_url = registered["agent_id"], registered["bus_url"]
            await wait_until(_pings(Redis.from_url(bus_url)))
            before = (await Redis.from_url(url).info("server"))["run_id"]

            proc.terminate()  # restarted empty: every user but the default one is gone
            proc.wait(10)
            proc = _redis_server(port, tmp_path)
            await wait_until(_pings(Redis.from_url(url)))
            assert (await Redis.from_url(url).info("server"))["run_id"] != before

            await wait_until(_pings(Redis.from_url(bus_url)), timeout=60)
            agent = Redis.from_url(bus_url)
            assert await agent.xreadgroup("cap.a", agent_id, {streams.tasks("cap.a"): ">"}) == []
            with pytest.raises(NoPermissionError):
                await agent.xadd(streams.tasks("cap.a"), {"data": b"a forged task"})
    finally:
        proc.terminate()
        proc.wait(10)


async def test_on_a_cluster_an_agent_user_exists_on_every_node_and_is_made_again(
    tmp_path: Path, postgres_migrated_url: str, redis_cluster_url: str
) -> None:
    """A cluster's nodes keep users each for itself: the agent's user is made on all three,
    its cluster client may learn the layout and use its streams wherever their slots live,
    and a user that one node lost is made again."""
    server = RedisCluster.from_url(server_url(redis_cluster_url))
    await server.initialize()
    nodes = server.get_nodes()
    assert len(nodes) == 3
    async with running_stack(
        "distributed", tmp_path, postgres_migrated_url, redis_cluster_url, heartbeat_interval_s=0.3
    ) as stack:
        # Capabilities whose task streams live on different nodes.
        names = [f"cap.n{i}" for i in range(6)]
        assert len({server.get_node_from_key(streams.tasks(n)).name for n in names}) > 1  # type: ignore[union-attr]
        card = keyed({"name": "spread", "capabilities": [{"name": n} for n in names]})
        registered = (await stack.client.post("/v1/agents", json=card)).json()
        agent_id, bus_url = registered["agent_id"], registered["bus_url"]
        assert is_cluster(bus_url) and urlsplit(bus_url).username == f"modx-agent-{agent_id}"
        user = f"modx-agent-{agent_id}"
        for node in nodes:
            assert user in await server.acl_users(target_nodes=node)

        agent = RedisCluster.from_url(server_url(bus_url))
        try:
            for name in names:
                assert await agent.xreadgroup(name, agent_id, {streams.tasks(name): ">"}) == []
            assert await agent.xadd(streams.RESULTS, {"data": b"an answer"})
            with pytest.raises(NoPermissionError):
                await agent.xadd(streams.tasks(names[0]), {"data": b"a forged task"})
            with pytest.raises(NoPermissionError):
                await agent.xrange(streams.RESULTS)
        finally:
            await agent.aclose()

        # One node forgets the user (as a restart would): the server makes it again there.
        await server.execute_command("ACL", "DELUSER", user, target_nodes=nodes[1])

        async def everywhere() -> bool:
            return all([user in await server.acl_users(target_nodes=n) for n in nodes])

        await wait_until(everywhere, timeout=30)
    await server.aclose()


async def test_users_made_before_reply_to_get_the_partition_streams_at_the_first_restore(
    private_redis: str,
) -> None:
    """A user made by an older server may append to ``modx.results`` only; the first round of
    ``restore`` gives every live agent today's rules, so it can answer where tasks say."""
    server = Redis.from_url(private_redis)
    await wait_until(_pings(server))
    transport = create_transport(private_redis)
    access = BusAccess(transport, private_redis, secret=b"s" * 32, partitions=12)
    agent_id = "agent-old"
    password = access._password(agent_id)
    old_rules = agent_rules(agent_id, ["cap.a"], password)  # no partition streams
    await server.execute_command("ACL", "SETUSER", user_name(agent_id), *old_rules)  # type: ignore[no-untyped-call]
    agent = Redis.from_url(with_user(private_redis, user_name(agent_id), password))
    try:
        with pytest.raises(NoPermissionError):
            await agent.xadd(streams.result_partition(3), {"data": b"an answer"})
        assert await access.restore({agent_id: {"cap.a": "tenant:default"}}) == 0  # refreshed
        assert await agent.xadd(streams.result_partition(3), {"data": b"an answer"})
        with pytest.raises(NoPermissionError):
            await agent.xadd(streams.tasks("cap.a"), {"data": b"a forged task"})
    finally:
        await agent.aclose()
        await transport.close()
        await server.aclose()


async def test_another_tenants_agent_of_the_same_capability_never_reads_its_stream(
    tmp_path: Path, postgres_migrated_url: str, private_redis: str
) -> None:
    """Tenant ``other`` registers a bus agent for a capability name that the default tenant's
    agent serves. Its user could otherwise make a group of its own at the stream's start and
    read every task the stream kept (the default tenant's inputs). It may not read that stream
    at all: the registration says ``inbox_only``, and its runs' tasks go to its inbox."""
    server = Redis.from_url(private_redis)
    await wait_until(_pings(server))
    async with running_stack(
        "distributed", tmp_path, postgres_migrated_url, private_redis
    ) as stack:
        owner = keyed({"name": "owner", "capabilities": [{"name": "cap.s"}]})
        first = (await stack.client.post("/v1/agents", json=owner)).json()
        assert first.get("inbox_only", []) == []
        await server.xadd(streams.tasks("cap.s"), {"data": b"the default tenant's input"})
        twin = keyed({"name": "twin", "capabilities": [{"name": "cap.s"}, {"name": "cap.t"}]})
        assert (await stack.client.post("/v1/agents", json=twin)).json().get("inbox_only", []) == []

        system = {"authorization": f"Bearer {stack.settings.admin_token}"}
        assert (
            await stack.client.post("/v1/tenants", json={"name": "other"}, headers=system)
        ).is_success
        tokens = {}
        for role in ("agent", "operator"):
            made = await stack.client.post(
                "/v1/tokens", json={"tenant": "other", "role": role}, headers=system
            )
            tokens[role] = {"authorization": f"Bearer {made.json()['token']}"}
        card = keyed({"name": "intruder", "capabilities": [{"name": "cap.s"}, {"name": "cap.u"}]})
        answer = await stack.client.post("/v1/agents", json=card, headers=tokens["agent"])
        registered = answer.json()
        agent_id = registered["agent_id"]
        agent = Redis.from_url(registered["bus_url"])
        try:
            task_stream = streams.tasks("cap.s")
            with pytest.raises(NoPermissionError):
                await agent.xgroup_create(task_stream, "mine", id="0")
            with pytest.raises(NoPermissionError):
                await agent.xreadgroup("cap.s", agent_id, {task_stream: "0"})
            with pytest.raises(NoPermissionError):
                await agent.xautoclaim(task_stream, "cap.s", agent_id, 0)
            # Its own capability's stream and its inbox it reads as before.
            assert await agent.xreadgroup("cap.u", agent_id, {streams.tasks("cap.u"): ">"}) == []
            inbox = streams.inbox(agent_id)
            assert await agent.xreadgroup(agent_id, agent_id, {inbox: ">"}) == []
        finally:
            await agent.aclose()
        assert registered["inbox_only"] == ["cap.s"]

        # A run of ``other`` goes to the intruder's inbox; the stream gets nothing new.
        inline = {"name": "o", "steps": [{"id": "s", "capability": "cap.s", "input": {}}]}
        started = await stack.client.post(
            "/v1/runs", json={"workflow": inline, "input": {}}, headers=tokens["operator"]
        )
        assert started.status_code in (200, 202), started.text
        run_id = started.json()["run_id"]

        async def scheduled() -> list[str]:
            got = await stack.client.get(f"/v1/runs/{run_id}/events", headers=tokens["operator"])
            return [e["data"]["destination"] for e in got.json() if e["type"] == "step.scheduled"]

        await wait_until(scheduled)
        assert await scheduled() == [streams.inbox(agent_id)]
        assert await server.xlen(task_stream) == 1
    await server.aclose()
