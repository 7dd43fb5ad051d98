"""The transport contract on a Redis Cluster of three primaries (``redis+cluster://``), plus
what only a cluster can show: where the keys land, and that no command or script needs keys
of two slots."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from redis.asyncio import RedisCluster
from redis.crc import key_slot
from redis.exceptions import ResponseError

from bus import ConsumerOptions, Envelope, PublishError, RedisStreamsTransport, functions, streams
from tests.bus.contract import FAST, Recorder, TransportContract, envelope
from tests.fixtures.redis_cluster import Cluster, redis_cluster
from tests.fixtures.services import wait_until

pytestmark = pytest.mark.redis


class ClusterConfig:
    """Builds cluster transports on the private, emptied cluster and closes them after."""

    @pytest.fixture
    async def make_transport(self, redis_cluster_url):
        made: list[RedisStreamsTransport] = []

        def make(**options) -> RedisStreamsTransport:
            made.append(RedisStreamsTransport(redis_cluster_url, **options))
            return made[-1]

        yield make
        for transport in made:
            await transport.close()


def _slot(key: str) -> int:
    return key_slot(key.encode())


def _elsewhere(stream: str, suffix: str = "") -> str:
    """A stream name, starting with ``stream``, whose slot is not ``stream``'s."""
    for i in range(1000):
        name = f"{stream}.other{i}{suffix}"
        if _slot(name) != _slot(stream):
            return name
    raise AssertionError("no other slot in 1000 names")


class TestRedisClusterTransport(ClusterConfig, TransportContract):
    """Every contract test, on a Redis Cluster."""

    async def test_the_transport_talks_to_a_cluster_of_three_primaries(self, transport):
        assert isinstance(transport.client, RedisCluster)
        assert await transport.ping()
        assert len(transport.client.get_primaries()) == 3

    async def test_notices_go_out_with_the_envelopes_they_follow(self, transport, stream):
        """``publish_unique(notices=...)``, as the writer sends run-change notices after a
        commit: redis-py refuses PUBLISH in a cluster pipeline, so they follow the scripts."""
        channel = f"test:notices:{uuid.uuid4().hex}"
        listener = transport.client.pubsub()
        await listener.subscribe(channel)
        try:
            assert (await listener.get_message(timeout=10))["type"] == "subscribe"
            ids = await transport.publish_unique(
                [(stream, envelope(1))], within_s=60, notices=[(channel, "run r1 changed")]
            )
            assert ids[0] is not None
            assert await transport.stream_length(stream) == 1
            message = await listener.get_message(ignore_subscribe_messages=True, timeout=10)
            assert message is not None and message["data"] == b"run r1 changed"
        finally:
            await listener.aclose()

    async def test_a_streams_keys_share_its_slot_and_streams_spread(self, transport, stream):
        client = transport.client
        assert isinstance(client, RedisCluster)
        marker = streams.published_marker(stream, "some-envelope-id")
        for key in (streams.dlq(stream, cluster=True), marker):
            assert await client.cluster_keyslot(key) == await client.cluster_keyslot(stream)
        # Eight capabilities' task streams land on more than one node.
        nodes = {
            client.get_node_from_key(streams.tasks(f"cap.n{i}")).name  # type: ignore[union-attr]
            for i in range(8)
        }
        assert len(nodes) > 1

    async def test_the_cluster_refuses_a_commit_over_two_slots(self, transport, stream):
        """What the transport must never do, refused by this cluster (so the contract tests
        above, which pass, did not do it)."""
        other = _elsewhere(stream)
        client = transport.client
        assert isinstance(client, RedisCluster)
        await functions.load(client)
        node = client.get_node_from_key(stream)  # redis-py refuses it before sending, else
        with pytest.raises(ResponseError, match="same slot"):
            await client.execute_command(
                *("FCALL", functions.COMMIT, 2, stream, other, "g", 0, "{}"), target_nodes=node
            )

    async def test_replies_to_another_slot_are_published_then_acknowledged(self, transport, stream):
        replies = _elsewhere(stream, ".replies")

        async def answers(env: Envelope) -> list[tuple[str, Envelope]]:
            return [(replies, envelope(env.payload["i"])), (stream + ".same", envelope(0))]

        record = Recorder()
        await transport.subscribe(replies, "readers", "c", record)
        await transport.subscribe(stream, "g", "c", answers, FAST)
        await transport.publish_many([(stream, envelope(i)) for i in range(20)])
        await wait_until(lambda: sorted(record.seen) == list(range(20)))
        await wait_until(lambda: _pending(transport, stream, "g", 0))
        assert await transport.stream_length(stream + ".same") == 20

    async def test_a_reply_refused_by_another_slots_node_fails_the_handler(self, transport, stream):
        blocked = _elsewhere(stream, ".replies")
        await transport.client.set(blocked, "not a stream")  # XADD to it fails: WRONGTYPE
        calls: list[int] = []

        async def answers(env: Envelope) -> list[tuple[str, Envelope]]:
            calls.append(env.payload["i"])
            return [(blocked, envelope(0))]

        await transport.subscribe(stream, "g", "c", answers, FAST)
        await transport.publish(stream, envelope(1))
        await wait_until(lambda: _dead_letters(transport, stream, 1))
        [dead] = await transport.dead_letters(stream)
        assert calls == [1] * FAST.max_deliveries, "each failed commit counts a delivery"
        assert "cannot publish replies" in dead.reason and "WRONGTYPE" in dead.reason
        assert await transport.pending(stream, "g") == 0

    async def test_dead_letter_streams_are_found_on_every_node(self, transport):
        names = [f"modx.test.dlq{i}" for i in range(8)]
        assert await transport.ping()  # the client learns the cluster's layout
        assert len({transport.client.get_node_from_key(n).name for n in names}) > 1
        for name in names:
            await transport.publish_raw(name, b"not an envelope")
            await transport.subscribe(name, "g", "c", Recorder())
        await wait_until(lambda: _dlq_count(transport, len(names)))
        assert await transport.dlq_streams() == dict.fromkeys(names, 1)


async def _pending(transport: RedisStreamsTransport, stream: str, group: str, n: int) -> bool:
    return await transport.pending(stream, group) == n


async def _dead_letters(transport: RedisStreamsTransport, stream: str, n: int) -> bool:
    return len(await transport.dead_letters(stream)) >= n


async def _dlq_count(transport: RedisStreamsTransport, n: int) -> bool:
    return len(await transport.dlq_streams()) >= n


async def test_a_consumer_follows_its_stream_to_another_node(
    redis_cluster_session: Cluster, redis_cluster_url: str
) -> None:
    """Resharding moves a stream's slot, with the stream and its group, to another primary:
    the consumer's own connections are redirected (MOVED) and follow it."""
    stream = f"modx.test.moving.{uuid.uuid4().hex[:8]}"
    slot = _slot(stream)
    transport = RedisStreamsTransport(redis_cluster_url)
    try:
        record = Recorder()
        options = ConsumerOptions(block_ms=200, visibility_timeout_s=1.0)
        await transport.subscribe(stream, "g", "c", record, options)
        await transport.publish_many([(stream, envelope(i)) for i in range(10)])
        await wait_until(lambda: len(record.seen) >= 10)
        await wait_until(lambda: _pending(transport, stream, "g", 0))

        before = redis_cluster_session.owner(slot)
        elsewhere = next(p for p in redis_cluster_session.ports if p != before)
        await asyncio.to_thread(redis_cluster_session.move_slot, slot, elsewhere)
        assert redis_cluster_session.owner(slot) == elsewhere

        await transport.publish_many([(stream, envelope(i)) for i in range(10, 20)])
        await wait_until(lambda: len(record.seen) >= 20)
        await wait_until(lambda: _pending(transport, stream, "g", 0))
        assert sorted(record.seen) == list(range(20))
    finally:
        await transport.close()


async def test_a_consumer_carries_on_after_its_primary_fails_over() -> None:
    """The primary that holds a consumer's stream dies (SIGKILL); its replica takes over the
    slots, and the consumer, its reader and acknowledger reconnected there, carries on."""
    with redis_cluster(replicas=1, node_timeout_ms=1000) as cluster:
        stream = f"modx.test.failover.{uuid.uuid4().hex[:8]}"
        slot = _slot(stream)
        transport = RedisStreamsTransport(cluster.url, reconnect_cap_s=0.5)
        try:
            record = Recorder()
            options = ConsumerOptions(block_ms=200, visibility_timeout_s=1.0)
            await transport.subscribe(stream, "g", "c", record, options)
            await transport.publish_many([(stream, envelope(i)) for i in range(10)])
            await wait_until(lambda: len(record.seen) >= 10)
            await wait_until(lambda: _pending(transport, stream, "g", 0))

            primary = cluster.owner(slot)
            cluster.kill(primary)
            await wait_until(lambda: cluster.owner(slot) != primary and cluster.healthy(), 60)

            async def published() -> bool:  # while the client learns the new layout
                try:
                    await transport.publish_many([(stream, envelope(i)) for i in range(10, 20)])
                except PublishError:
                    return False
                return True

            await wait_until(published, timeout=60)
            await wait_until(lambda: set(range(10, 20)) <= set(record.seen), timeout=60)
            await wait_until(lambda: _pending(transport, stream, "g", 0), timeout=60)
        finally:
            await transport.close()
